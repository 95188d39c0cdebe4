"""Localisation metrics on synthetic maps whose answer is known, and on a model."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ParameterError
from multidigit.explanation.metrics.localisation import (
    localisation,
    pointing_game,
    relevance_mass,
    relevance_rank_accuracy,
)

BOX = np.array([[2, 2, 6, 6]])  # 16 pixels of a 10x10 map


def _map(points):
    m = np.zeros((1, 10, 10))
    for (r, c), v in points.items():
        m[0, r, c] = v
    return m


def test_pointing_game_hit_miss_and_constant():
    assert pointing_game(_map({(3, 3): 1.0, (9, 9): 0.5}), BOX).tolist() == [1.0]
    assert pointing_game(_map({(3, 3): 0.5, (9, 9): 1.0}), BOX).tolist() == [0.0]
    assert pointing_game(np.ones((1, 10, 10)), BOX).tolist() == [0.0]
    # a tie with one maximum inside is a hit
    assert pointing_game(_map({(3, 3): 1.0, (9, 9): 1.0}), BOX).tolist() == [1.0]


def test_relevance_mass_shares():
    m = _map({(3, 3): 3.0, (0, 0): 1.0})
    np.testing.assert_allclose(relevance_mass(m, BOX), [0.75])
    np.testing.assert_allclose(relevance_mass(np.ones((1, 10, 10)), BOX), [0.16])
    # negative relevance is not mass
    np.testing.assert_allclose(relevance_mass(_map({(3, 3): 1.0, (0, 0): -5.0}), BOX), [1.0])
    assert relevance_mass(np.zeros((1, 10, 10)), BOX).tolist() == [0.0]


def test_rank_accuracy_counts_top_k():
    m = np.zeros((1, 10, 10))
    m[0, 2:6, 2:6] = 1.0           # all 16 top pixels in the box
    assert relevance_rank_accuracy(m, BOX).tolist() == [1.0]
    m[0, 2:4, 2:6] = 0.0           # 8 in the box, then 8 outside at 0.5
    m[0, 8:10, 0:4] = 0.5
    np.testing.assert_allclose(relevance_rank_accuracy(m, BOX), [0.5])


def test_bad_boxes_are_one_clear_error():
    with pytest.raises(ParameterError, match="boxes"):
        pointing_game(np.zeros((2, 4, 4)), BOX)


def test_localisation_of_a_model_uses_split_boxes(trained_small_model, tiny_ds):
    split = tiny_ds.test.subset(range(6))
    res = localisation(trained_small_model, split, "saliency", head=2)
    assert res.head == "digit_2" and res.mass.shape == (6,)
    maps = md.explain(trained_small_model, split, "saliency", head=2).maps
    again = localisation(trained_small_model, split.images, boxes=split.boxes, head=2,
                         maps=maps)
    np.testing.assert_allclose(again.mass, res.mass)
    # a map that is exactly digit 2's box scores 1 everywhere; on digit 0's box, 0
    from multidigit.data.boxes import box_masks

    perfect = box_masks(split.boxes[:, 2], 28, 28).astype(float)
    best = localisation(trained_small_model, split, head=2, maps=perfect)
    assert best.summary() == {"pointing_game": 1.0, "relevance_mass": 1.0, "rank_accuracy": 1.0}
    wrong = localisation(trained_small_model, split, head=0, maps=perfect)
    assert wrong.relevance_mass == 0.0 and wrong.pointing_game == 0.0
    with pytest.raises(ParameterError, match="boxes"):
        localisation(trained_small_model, split.images, "saliency")
