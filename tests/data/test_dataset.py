"""Tests of multidigit.data.dataset: Split, MultiDigitDataset, and what a Split refuses."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import DataError, ParameterError


def test_encodings(mini1):
    split = mini1.train
    oh = split.one_hot()
    assert list(oh) == ["digit_0", "digit_1", "digit_2"]
    assert oh["digit_2"].shape == (640, 10)
    np.testing.assert_array_equal(oh["digit_1"].argmax(1), split.labels[:, 1])
    mh = split.multi_hot()
    assert mh.shape == (640, 30) and (mh.sum(1) == 3).all()
    np.testing.assert_array_equal(mh[:, 20:30].argmax(1), split.labels[:, 2])
    assert split.label_strings[0] == "".join(map(str, split.labels[0]))
    assert split.label_ids[0] == int(split.label_strings[0])


def test_tf_dataset_batches_and_shuffles_deterministically(mini1):
    ds = mini1.val.to_tf_dataset(batch_size=32, seed=1)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (32, 84, 84, 1)
    assert set(y) == {"digit_0", "digit_1", "digit_2"}

    def epoch_sums(d):
        return [b[0].numpy().sum() for b in d.take(3)]

    first = epoch_sums(mini1.val.to_tf_dataset(batch_size=32, seed=1))
    again = epoch_sums(mini1.val.to_tf_dataset(batch_size=32, seed=1))
    np.testing.assert_allclose(first, again)  # same seed, same order
    fresh = mini1.val.to_tf_dataset(batch_size=32, seed=1)
    e1, e2 = epoch_sums(fresh), epoch_sums(fresh)
    assert not np.allclose(e1, e2)  # reshuffled every epoch
    flat = mini1.val.to_tf_dataset(batch_size=16, shuffle=False, targets="multi_hot")
    _, y2 = next(iter(flat))
    assert tuple(y2.shape) == (16, 30)
    with pytest.raises(ParameterError, match="targets must be one of 'heads'"):
        mini1.val.to_tf_dataset(targets="nope")
    with pytest.raises(ParameterError, match="batch_size"):
        mini1.val.to_tf_dataset(batch_size=0)


def test_dataset_indexing_and_describe(mini1):
    assert mini1["val"] is mini1.val
    with pytest.raises(KeyError, match="train, val, test"):
        mini1["nope"]
    assert "MultiDigitDataset(source='mini'" in repr(mini1)
    assert mini1.describe()["splits"]["test"]["images"] == 200


# ---------------------------------------------------------------- issue 16: bad content
def _images(n=2):
    return np.zeros((n, 28, 28, 1), np.float32)


@pytest.mark.parametrize(
    "labels,fragment",
    [
        ([[0, 4, 2], [-1, 0, 0]], "digits 0-9"),   # became a one-hot 9 ('/31')
        ([[0, 4, 2], [8.5, 0, 0]], "whole digits"),  # became 8
        ([[0, 4, 2], [10, 0, 0]], "digits 0-9"),  # IndexError in one_hot
        ([[0, 4, 2], [np.nan, 0, 0]], "whole digits"),
        ([["0", "4", "2"], ["1", "2", "3"]], "integers 0-9"),
    ],
)
def test_labels_that_are_not_digits_are_refused(labels, fragment):
    with pytest.raises(DataError, match=fragment) as info:
        md.Split(_images(), np.asarray(labels), "train")
    assert "'train'" in str(info.value)


def test_whole_float_labels_are_accepted():
    s = md.Split(_images(), np.array([[0.0, 4.0, 2.0], [9.0, 9.0, 9.0]]))
    assert s.label_strings.tolist() == ["042", "999"]


@pytest.mark.parametrize(
    "value,fragment",
    [(np.nan, "NaN or infinite"), (np.inf, "NaN or infinite"), (-0.5, "negative"),
     (1.5, r"\[0, 1\]"), (255.0, "divide 0-255 images by 255")],
)
def test_bad_pixels_are_refused(value, fragment):
    x = _images()
    x[1, 3, 4, 0] = value
    with pytest.raises(DataError, match=fragment):
        md.Split(x, [[0, 4, 2], [1, 2, 3]], "train")


def test_all_nan_images_are_refused():
    """An all-NaN batch used to be read (and predicted) as a label."""
    with pytest.raises(DataError, match="2352 pixels are NaN"):
        md.Split(np.full((3, 28, 28), np.nan, np.float32), [[6, 2, 3]] * 3)


def test_uint8_images_are_accepted_and_subset_revalidates():
    x = np.full((2, 28, 28, 1), 255, np.uint8)
    s = md.Split(x, [[0, 4, 2], [1, 2, 3]])
    assert len(s.subset([1])) == 1
    empty = md.Split(np.zeros((0, 28, 28, 1), np.float32), np.zeros((0, 3), int))
    assert len(empty) == 0 and empty.label_strings.tolist() == []

