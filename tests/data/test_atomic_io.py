"""Tests of multidigit._io: atomic writes, honest file modes, no orphan temporaries."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from multidigit import _io
from multidigit._io import atomic_path, atomic_write


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    p = tmp_path / "a.json"
    atomic_write(p, "{}")
    atomic_write(p, b"[]")
    assert p.read_bytes() == b"[]" and os.listdir(tmp_path) == ["a.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(p) as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert p.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_honour_the_umask(tmp_path, umask, mode):
    """mkstemp made every file 0600 whatever the umask."""
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == mode


def _killed_writer(target) -> None:
    """A process that starts an atomic write and dies without cleaning up."""
    code = (
        "import os, sys; from multidigit._io import atomic_path\n"
        "cm = atomic_path(sys.argv[1]); tmp = cm.__enter__()\n"
        "tmp.write_bytes(b'half'); os._exit(9)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code, str(target)], env=env)
    assert out.returncode == 9


def test_orphan_of_a_killed_writer_is_removed_on_the_next_write(tmp_path):
    target = tmp_path / "cache.npz"
    _killed_writer(target)
    (orphan,) = [n for n in os.listdir(tmp_path) if n.endswith(".part")]
    assert orphan.startswith(".cache.npz.")
    atomic_write(target, b"ok")
    assert sorted(os.listdir(tmp_path)) == ["cache.npz"]


def test_only_our_stale_temporaries_of_that_target_are_removed(tmp_path):
    host, me = _io._host(), os.getpid()
    live = tmp_path / f".t.npz.{host}-{me}.abcdefgh.part"  # a write in progress here
    other_host = tmp_path / ".t.npz.elsewhere-1.abcdefgh.part"  # recent, unknown pid
    old_style = tmp_path / ".t.npzabcdefgh.part"  # an older multidigit, long ago
    recent_old_style = tmp_path / ".t.npzzyxwvuts.part"
    other_target = tmp_path / ".u.npz.elsewhere-1.abcdefgh.part"
    user_file = tmp_path / ".t.npz.notes.part"
    for p in (live, other_host, old_style, recent_old_style, other_target, user_file):
        p.write_bytes(b"")
    long_ago = time.time() - _io.STALE_AFTER - 60
    for p in (old_style, other_target, user_file):
        os.utime(p, (long_ago, long_ago))
    atomic_write(tmp_path / "t.npz", b"x")
    left = set(os.listdir(tmp_path))
    assert old_style.name not in left
    assert {live.name, other_host.name, recent_old_style.name, other_target.name,
            user_file.name, "t.npz"} == left
