"""Digit boxes: the generator's record, the ink estimate, and Split.boxes."""

from __future__ import annotations

import numpy as np
import pytest

from multidigit.data import Split, generate_dataset
from multidigit.data.boxes import box_masks, ink_boxes, strip_bounds
from multidigit.errors import DataError


def test_generator_boxes_hold_exactly_the_ink():
    out = generate_dataset(n_digits=3, images_per_class=1, seed=4, return_boxes=True)
    images, labels, boxes = out["test"]
    assert boxes.shape == (len(images), 3, 4)
    for img, per_image in zip(images[:20], boxes[:20]):
        covered = np.zeros(img.shape, bool)
        for top, left, bottom, right in per_image:
            covered[top:bottom, left:right] = True
            crop = img[top:bottom, left:right]
            # tight: every border row and column of the box has ink
            assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()
        assert not img[~covered].any()  # no ink outside the boxes


def test_ink_estimate_equals_generator_record():
    out = generate_dataset(n_digits=2, images_per_class=1, seed=1, return_boxes=True)
    for images, _, boxes in out.values():
        np.testing.assert_array_equal(ink_boxes(images, 2), boxes)


def test_ink_boxes_of_a_drawn_image_and_a_blank_strip():
    x = np.zeros((1, 30, 30, 1), np.float32)
    x[0, 3:9, 2:5] = 0.9
    x[0, 20:22, 12:17] = 0.5
    b = ink_boxes(x, 3)[0]
    assert b[0].tolist() == [3, 2, 9, 5]
    assert b[1].tolist() == [20, 12, 22, 17]
    assert b[2].tolist() == [0, 20, 30, 30]  # blank: the whole strip (cut at 20 = 56 * 30 / 84)
    assert strip_bounds(30, 3) == [(0, 10), (10, 20), (20, 30)]
    # a faint stroke drops out with a threshold
    assert ink_boxes(x, 3, threshold=0.6)[0, 1].tolist() == [0, 10, 30, 20]


def test_box_masks_area():
    m = box_masks(np.array([[2, 3, 5, 7], [0, 0, 0, 0]]), 8, 8)
    assert m[0].sum() == 3 * 4 and m[1].sum() == 0


def test_split_boxes_checked_and_subset(tiny_ds):
    s = tiny_ds.test
    assert s.boxes is not None and s.boxes.shape == (len(s), 3, 4)
    np.testing.assert_array_equal(s.subset([3, 1]).boxes, s.boxes[[3, 1]])
    bare = Split(s.images[:2], s.labels[:2], "bare")
    np.testing.assert_array_equal(bare.digit_boxes(), ink_boxes(s.images[:2], 3))
    with pytest.raises(DataError, match="boxes must have shape"):
        Split(s.images[:2], s.labels[:2], "bad", np.zeros((2, 2, 4)))
