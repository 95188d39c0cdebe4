"""Fixtures of the data tests: the mini set (1 image per class) and its PNG export."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import multidigit as md

SPLITS = ("train", "val", "test")


@pytest.fixture(scope="session")
def mini1():
    return md.load_dataset("mini", images_per_class=1, use_cache=False)


@pytest.fixture(scope="session")
def folder(tmp_path_factory, mini1):
    """The mini set exported as PNGs in the published layout (read only: copy it)."""
    root = tmp_path_factory.mktemp("export") / "triple"
    md.export_dataset(mini1, root)
    return root


@pytest.fixture
def folder_copy(folder, tmp_path):
    """A writable copy of ``folder``."""
    dst = tmp_path / "copy"
    shutil.copytree(folder, dst)
    return dst


def study_loop(root: Path, size: tuple[int, int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The study's loader: PIL open, convert('L'), resize, one file at a time."""
    out = {}
    for split in SPLITS:
        xs, ys = [], []
        for label in sorted(os.listdir(root / split)):
            for name in sorted(os.listdir(root / split / label)):
                with Image.open(root / split / label / name) as im:
                    xs.append(np.asarray(im.convert("L").resize(size[::-1])))
                ys.append([int(c) for c in label])
        out[split] = (np.stack(xs).astype(np.float32)[..., None] / 255.0, np.array(ys))
    return out


@pytest.fixture(scope="session")
def study_loader():
    return study_loop
