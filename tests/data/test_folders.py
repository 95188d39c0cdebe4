"""Tests of multidigit.data.folders: the folder source and every bad layout."""

from __future__ import annotations

import os
import shutil
import warnings

import numpy as np
import pytest
from PIL import Image

import multidigit as md
from multidigit.data import LabelMismatchWarning
from multidigit.errors import DataError, MultidigitError


def test_folder_round_trip_and_cache(folder, mini1, tmp_path):
    ds = md.load_dataset(folder, cache_dir=tmp_path)
    assert ds.info["cached"] is False
    assert len(ds.train) == 640 and ds.image_shape == (84, 84, 1)
    # the same images, in label order
    order = np.argsort(mini1.test.label_strings, kind="stable")
    np.testing.assert_allclose(ds.test.images, mini1.test.images[order], atol=1 / 255)
    np.testing.assert_array_equal(ds.test.labels, mini1.test.labels[order])
    again = md.load_dataset(folder, cache_dir=tmp_path)
    assert again.info["cached"] is True
    np.testing.assert_array_equal(again.train.images, ds.train.images)


def test_folder_cache_invalidated_when_files_change(folder_copy, tmp_path):
    md.load_dataset(folder_copy, cache_dir=tmp_path / "c")
    victim = next((folder_copy / "train").rglob("*.png"))
    victim.unlink()
    ds = md.load_dataset(folder_copy, cache_dir=tmp_path / "c")
    assert ds.info["cached"] is False and len(ds.train) == 639


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        md.load_dataset(tmp_path / "nowhere")


def test_missing_split(folder_copy):
    shutil.rmtree(folder_copy / "val")
    with pytest.raises(DataError, match=r"val.*missing"):
        md.load_dataset(folder_copy, use_cache=False)


def test_bad_label_folder(folder_copy):
    (folder_copy / "train" / "4x2").mkdir()
    Image.new("L", (84, 84)).save(folder_copy / "train" / "4x2" / "0_4x2.png")
    with pytest.raises(DataError, match="4x2.*3-digit label"):
        md.load_dataset(folder_copy, use_cache=False)


def test_non_image_file(folder_copy):
    label_dir = next((folder_copy / "train").iterdir())
    (label_dir / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="notes.txt"):
        md.load_dataset(folder_copy, use_cache=False)


def test_empty_split(folder_copy):
    shutil.rmtree(folder_copy / "test")
    (folder_copy / "test").mkdir()
    with pytest.raises(DataError, match="no images"):
        md.load_dataset(folder_copy, use_cache=False)


def test_unknown_source():
    with pytest.raises(DataError, match="unknown dataset source"):
        md.load_dataset("imagenet")
    with pytest.raises(DataError, match="hf://owner/name"):
        md.load_dataset("hf://justaname")


def test_errors_share_a_base_class(tmp_path):
    with pytest.raises(MultidigitError):
        md.load_dataset(tmp_path / "missing")


def test_no_cache_written_on_error(folder_copy, tmp_path):
    next((folder_copy / "test").rglob("*.png")).write_bytes(b"junk")
    cache = tmp_path / "cache"
    with pytest.raises(DataError):
        md.load_dataset(folder_copy, cache_dir=cache)
    assert not cache.exists() or not any(cache.iterdir())


# ---------------------------------------------------------------- issue 16
def test_sub_folder_inside_a_label_folder(folder_copy):
    """Used to end in a raw IsADirectoryError."""
    label_dir = sorted((folder_copy / "val").iterdir())[2]
    (label_dir / "more").mkdir()
    with pytest.raises(DataError, match=r"more' is a folder inside a label folder.*move"):
        md.load_dataset(folder_copy, use_cache=False)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symlink_loop_inside_a_label_folder(folder_copy):
    """Used to end in a raw OSError: Too many levels of symbolic links."""
    label_dir = sorted((folder_copy / "test").iterdir())[0]
    loop = label_dir / "9_loop.png"
    os.symlink(loop, loop)
    with pytest.raises(DataError, match=r"9_loop.png' is a broken or looping symbolic link"):
        md.load_dataset(folder_copy, use_cache=False)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symlink_loop_as_a_label_folder_and_as_the_root(folder_copy, tmp_path):
    a, b = folder_copy / "train" / "998", folder_copy / "train" / "999"
    os.symlink(b, a)
    os.symlink(a, b)
    with pytest.raises(DataError, match=r"998' is a broken or looping symbolic link"):
        md.load_dataset(folder_copy, use_cache=False)
    root = tmp_path / "root"
    os.symlink(root, root)
    with pytest.raises(DataError, match="broken or looping symbolic link"):
        md.load_dataset(root, use_cache=False)


def test_symlinked_images_and_folders_still_load(folder_copy, tmp_path):
    label_dir = sorted((folder_copy / "val").iterdir())[0]
    png = sorted(label_dir.iterdir())[0]
    os.symlink(png, label_dir / f"5_{label_dir.name}.png")
    moved = tmp_path / "moved"
    shutil.move(str(folder_copy / "test"), moved)
    os.symlink(moved, folder_copy / "test")
    ds = md.load_dataset(folder_copy, use_cache=False)
    assert len(ds.val) == 161 and len(ds.test) == 200


def test_file_whose_name_disagrees_with_its_folder_warns(folder_copy):
    """`0_042.png` inside folder `043` was used as '043' without a word."""
    label_dir = sorted((folder_copy / "train").iterdir())[5]
    other = "999" if label_dir.name != "999" else "998"
    wrong = label_dir / f"3_{other}.png"
    shutil.copy(next(label_dir.iterdir()), wrong)
    with pytest.warns(LabelMismatchWarning, match=rf"1 file.*3_{other}.png.*folder's label is used"):
        ds = md.load_dataset(folder_copy, use_cache=False)
    assert len(ds.train) == 641
    with warnings.catch_warnings():  # a name without a label of its own is fine
        warnings.simplefilter("error")
        wrong.rename(label_dir / "extra.png")
        md.load_dataset(folder_copy, use_cache=False)
