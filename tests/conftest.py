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
