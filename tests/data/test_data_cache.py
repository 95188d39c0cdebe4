"""Tests of multidigit.data.cache: a cache only ever saves time, it never fails a load."""

from __future__ import annotations

import os

import numpy as np
import pytest

import multidigit as md
from multidigit.data import CacheWarning


def _load(cache_dir):
    # Double MNIST: 100 images, 20x faster than the triple set, the same cache code
    return md.load_dataset(images_per_class=1, n_digits=2, cache_dir=cache_dir)


def test_mini_cache_is_used_and_atomic(tmp_path):
    a = _load(tmp_path)
    files = list(tmp_path.glob("mini-*.npz"))
    assert len(files) == 1 and not list(tmp_path.glob(".*.part"))
    assert a.info["cached"] is False
    b = _load(tmp_path)
    assert b.info["cached"] is True
    np.testing.assert_array_equal(a.train.images, b.train.images)


def test_corrupt_cache_is_rebuilt(tmp_path):
    _load(tmp_path)
    (cache,) = tmp_path.glob("mini-*.npz")
    cache.write_bytes(b"half-written garbage")
    ds = _load(tmp_path)
    assert ds.info["cached"] is False and len(ds.train) == 64


def test_interrupted_cache_write_leaves_nothing(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(KeyboardInterrupt):
        _load(tmp_path)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- issue 16: unusable caches
def test_unwritable_cache_dir_loads_without_caching(tmp_path, monkeypatch):
    """A PermissionError while writing the cache used to fail the whole load."""
    import multidigit._io as io

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(io.tempfile, "mkstemp", denied)
    with pytest.warns(CacheWarning, match="could not write the dataset cache.*writable"):
        ds = _load(tmp_path / "c")
    assert ds.info["cached"] is False and len(ds.train) == 64


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores file permissions")
def test_read_only_cache_dir_for_real(tmp_path):
    cdir = tmp_path / "ro"
    cdir.mkdir()
    cdir.chmod(0o500)
    try:
        with pytest.warns(CacheWarning, match="could not write"):
            ds = _load(cdir)
        assert len(ds.test) == 20
    finally:
        cdir.chmod(0o700)


def test_cache_path_that_is_a_folder_is_a_miss(tmp_path):
    _load(tmp_path)
    (cache,) = tmp_path.glob("mini-*.npz")
    cache.unlink()
    cache.mkdir()
    (cache / "mine.txt").write_text("keep me")
    with pytest.warns(CacheWarning, match="is a folder") as record:
        ds = md.load_dataset(images_per_class=1, n_digits=2, cache_dir=tmp_path)
    assert len(record) == 1 and record[0].filename == __file__  # the user's line
    assert ds.info["cached"] is False and len(ds.train) == 64
    assert (cache / "mine.txt").read_text() == "keep me"  # nothing of the user's deleted


def test_npz_with_other_keys_is_a_miss_and_rebuilt(tmp_path):
    _load(tmp_path)
    (cache,) = tmp_path.glob("mini-*.npz")
    np.savez(cache, something=np.arange(3))
    with pytest.warns(CacheWarning, match="holds other arrays \\(something\\)"):
        ds = _load(tmp_path)
    assert ds.info["cached"] is False
    assert _load(tmp_path).info["cached"] is True  # rebuilt


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MULTIDIGIT_CACHE", str(tmp_path / "m"))
    assert md.data.default_cache_dir() == tmp_path / "m"
    monkeypatch.delenv("MULTIDIGIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert md.data.default_cache_dir() == tmp_path / "x" / "multidigit"
