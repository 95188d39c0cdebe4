"""Shared fixtures: tiny data and tiny models so the suite runs in minutes on 2 CPUs.

A test never fails because the machine is busy: a subprocess gets 1800 s
(``timeout=1800``), enough to catch a hang, never a slow run.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Never touch the user's cache: every test session gets its own."""
    path = tmp_path_factory.mktemp("multidigit-cache")
    old = os.environ.get("MULTIDIGIT_CACHE")
    os.environ["MULTIDIGIT_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("MULTIDIGIT_CACHE", None)
    else:
        os.environ["MULTIDIGIT_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_ds():
    """The offline set, 1 image per label combination, at 28x28 (640/160/200)."""
    import multidigit as md

    return md.load_dataset("mini", images_per_class=1, image_size=(28, 28), seed=0)


@pytest.fixture(scope="session")
def small_ds():
    """3 images per label combination at 28x28 (1920/480/600): enough to beat chance."""
    import multidigit as md

    return md.load_dataset("mini", images_per_class=3, image_size=(28, 28), seed=0)


@pytest.fixture(scope="session")
def trained_small_model(small_ds):
    """A small model trained for 3 epochs on ``small_ds`` (shared: train once)."""

    import multidigit as md

    model = md.build_model(
        "softmax", "categorical_crossentropy", input_shape=(28, 28, 1), preset="small", seed=0
    )
    model.fit(
        small_ds.train.images,
        small_ds.train.one_hot(),
        epochs=3,
        batch_size=64,
        verbose=0,
    )
    return model


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def read_only(monkeypatch):
    """``read_only(root)``: from now on ``root`` and everything under it behave as on a
    read-only filesystem (tests run as root, so ``chmod`` cannot simulate one).

    Every call that would create, change or remove a path under ``root`` raises
    ``OSError(EROFS)``, as the kernel does; reading still works.  The standard library
    writes through these ``os`` functions (``open``, ``tempfile``, ``pathlib``,
    ``shutil``); TensorFlow's ``tf.io.gfile`` does not, so code writing through it
    needs its own patch.
    """
    import builtins
    import errno
    import io
    from pathlib import Path

    roots: list[str] = []

    def under(path, dir_fd=None) -> bool:
        if isinstance(path, int):  # a file descriptor: already open
            return False
        path = os.fsdecode(path)
        if dir_fd is not None and not os.path.isabs(path):
            path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
        path = os.path.abspath(path)
        return any(path == r or path.startswith(r + os.sep) for r in roots)

    def refuse(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

    def guard(func, n_paths=1, writes=lambda *a, **k: True):
        def guarded(*args, **kwargs):
            for p in args[:n_paths]:
                if under(p, kwargs.get("dir_fd") or kwargs.get("src_dir_fd")) \
                        and writes(*args, **kwargs):
                    refuse(p)
            return func(*args, **kwargs)
        return guarded

    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def opens_for_writing(path, flags, *a, **k):
        return bool(flags & write_flags)

    def mode_writes(file, mode="r", *a, **k):
        return any(c in mode for c in "wax+")

    def mkdir(path, *a, **k):  # the kernel answers "exists" before "read-only"
        if under(path, k.get("dir_fd")) and not os.path.lexists(path):
            refuse(path)
        return real_mkdir(path, *a, **k)

    real_mkdir = os.mkdir
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", guard(os.open, writes=opens_for_writing))
    for name, n in (("replace", 2), ("rename", 2), ("link", 2), ("symlink", 2),
                    ("unlink", 1), ("remove", 1), ("rmdir", 1), ("chmod", 1),
                    ("utime", 1), ("truncate", 1)):
        monkeypatch.setattr(os, name, guard(getattr(os, name), n))
    monkeypatch.setattr(builtins, "open", guard(builtins.open, writes=mode_writes))
    monkeypatch.setattr(io, "open", guard(io.open, writes=mode_writes))

    def make(root) -> Path:
        roots.append(os.path.abspath(root))
        return Path(root)

    return make
