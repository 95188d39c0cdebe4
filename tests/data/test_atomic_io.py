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
    assert orphan.startswith(".md-")
    atomic_write(target, b"ok")
    assert sorted(os.listdir(tmp_path)) == ["cache.npz"]


def test_only_our_stale_temporaries_of_that_target_are_removed(tmp_path):
    host, me = _io._old_host(), os.getpid()
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
    ours_dead = tmp_path / f".md-{_io._host()}-999999999-abcdefgh.part"
    ours_other_host = tmp_path / ".md-ffffff-1-abcdefgh.part"
    for p in (ours_dead, ours_other_host):
        p.write_bytes(b"")
    atomic_write(tmp_path / "t.npz", b"x")
    left = set(os.listdir(tmp_path))
    assert ours_dead.name not in left and ours_other_host.name in left
    left.discard(ours_other_host.name)
    assert old_style.name not in left
    assert {live.name, other_host.name, recent_old_style.name, other_target.name,
            user_file.name, "t.npz"} == left


# ---------------------------------------------------------------- issue 26
_KILLER = (
    "import os, signal, sys\n"
    "from multidigit import _io\n"
    "def _step(name):\n"
    "    if name == os.environ['KILL_AT']:\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "_io._step = _step\n"
    "if os.environ.get('NO_EXCHANGE'):\n"
    "    _io._exchange = lambda a, b: False\n"
)


def _run_killed(code: str, step: str, **env) -> int:
    """Run ``code`` in a process that SIGKILLs itself at ``step``; its return code."""
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), KILL_AT=step, **env)
    return subprocess.run([sys.executable, "-c", _KILLER + code], env=full_env).returncode


def _hidden(folder) -> list[str]:
    return [n for n in os.listdir(folder) if n.startswith(".")]


@pytest.mark.parametrize("step", ["created", "written", "replaced"])
def test_atomic_write_killed_at_every_step_keeps_old_or_new(tmp_path, step):
    target = tmp_path / "model.keras"
    target.write_text("old")
    rc = _run_killed(f"_io.atomic_write({str(target)!r}, 'new')", step)
    assert rc == -9
    assert target.read_text() == ("new" if step == "replaced" else "old")
    atomic_write(tmp_path / "other.txt", "x")  # the next write in that folder cleans up
    assert _hidden(tmp_path) == []


_SWAP = (
    "root = sys.argv[1]\n"
    "with _io.swap_folder(root, keep=lambda rel: rel.startswith('notes')) as tmp:\n"
    "    (tmp / 'data.txt').write_text('new')\n"
)


@pytest.mark.parametrize("no_exchange", ["", "1"])
@pytest.mark.parametrize("step", ["created", "written", "carried", "aside", "swapped",
                                  "cleaned"])
def test_folder_swap_killed_at_every_step_keeps_a_whole_folder(tmp_path, step, no_exchange):
    root = tmp_path / "export"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "thesis.tex").write_text("mine")
    (root / "data.txt").write_text("old")
    code = _SWAP.replace("sys.argv[1]", repr(str(root)))
    rc = _run_killed(code, step, NO_EXCHANGE=no_exchange)
    reached = not (step == "aside" and not no_exchange)  # renameat2 has no "aside" step
    assert rc == (-9 if reached else 0)
    with _io.swap_folder(tmp_path / "unrelated"):  # the next call puts things right
        pass
    assert (root / "data.txt").read_text() in ("old", "new")
    assert (root / "notes" / "thesis.tex").read_text() == "mine"
    assert _hidden(tmp_path) == []


def test_folder_swap_failure_keeps_the_old_folder(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    (root / "a").write_text("old")
    with pytest.raises(RuntimeError), _io.swap_folder(root) as tmp:
        (tmp / "a").write_text("half")
        raise RuntimeError
    assert (root / "a").read_text() == "old" and os.listdir(tmp_path) == ["out"]


def test_temporary_names_do_not_grow_with_the_target(tmp_path):
    """A legal 240-character name gave a temporary name over NAME_MAX (255 bytes)."""
    target = tmp_path / ("m" * 234 + ".keras")
    atomic_write(target, "x")
    assert target.read_text() == "x"
    with _io.swap_folder(tmp_path / ("d" * 250)) as tmp:
        (tmp / "a").write_text("y")
    assert (tmp_path / ("d" * 250) / "a").read_text() == "y"


@pytest.mark.parametrize("code", [28, 30])  # ENOSPC, EROFS
def test_full_or_read_only_disk_is_one_clear_error(tmp_path, monkeypatch, code):
    import errno as _errno
    from pathlib import Path

    from multidigit.errors import StorageError

    target = tmp_path / "a.txt"
    target.write_text("old")

    def no_space(self, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(Path, "write_bytes", no_space)
    with pytest.raises(StorageError, match="disk is full|read-only") as info:
        atomic_write(target, "new")
    assert isinstance(info.value, OSError) and info.value.errno in (_errno.ENOSPC,
                                                                     _errno.EROFS)
    monkeypatch.undo()
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]


def test_the_io_module_is_the_only_writer():
    """Files are written and folders replaced only through multidigit._io."""
    import re
    from pathlib import Path

    import multidigit

    pattern = re.compile(r"os\.replace\(|os\.rename\(|mkstemp\(|mkdtemp\(dir=|"
                         r"ModelCheckpoint\(|CSVLogger\(|open\([^)]*[\"'][wax]b?[\"']")
    offenders = []
    for path in Path(multidigit.__file__).parent.rglob("*.py"):
        if path.name == "_io.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.strip()
            if code.startswith(("class ", ">>>")) or "atomic_path(" in code:
                continue  # a subclass, a docstring, a write into atomic_path's temporary
            if pattern.search(code):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []
