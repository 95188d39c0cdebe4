"""multidigit.evaluation.calibration: Brier score and expected calibration error vs references."""

from __future__ import annotations

import numpy as np
import pytest

from multidigit.evaluation.calibration import ECE_BINS, brier_score, expected_calibration_error


def _ece_reference(p, y, n_bins=15):
    """Guo et al. (2017), written as a loop over bins (lo, hi]."""
    conf, pred = p.max(1), p.argmax(1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        mask = (conf > lo) & (conf <= hi) if b else (conf >= 0) & (conf <= hi)
        if mask.sum():
            total += mask.sum() / len(p) * abs((pred[mask] == y[mask]).mean() - conf[mask].mean())
    return total


def test_hand_computed_values():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    y = np.array([0, 0])
    # (0.1^2 + 0.1^2 + 0.8^2 + 0.8^2) / 2
    assert brier_score(p, y) == pytest.approx(0.65)
    # bin of 0.9: acc 1, conf 0.9; bin of 0.8: acc 0, conf 0.8 -> (0.1 + 0.8) / 2
    assert expected_calibration_error(p, y) == pytest.approx(0.45)
    assert brier_score(np.eye(3), np.arange(3)) == 0.0
    assert expected_calibration_error(np.eye(3), np.arange(3)) == 0.0


@pytest.mark.parametrize("kind", ["softmax", "sigmoid"])
def test_against_numpy_references(kind, rng):
    logits = rng.normal(scale=3, size=(500, 10))
    if kind == "softmax":
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    else:  # sigmoid heads: outputs need not sum to one
        p = 1 / (1 + np.exp(-logits))
    y = rng.integers(0, 10, 500)
    onehot = np.eye(10)[y]
    assert brier_score(p, y) == pytest.approx(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    assert expected_calibration_error(p, y) == pytest.approx(_ece_reference(p, y))
    assert ECE_BINS == 15


def test_edge_confidences_fall_in_the_lower_bin():
    # 0.8 = 12/15 exactly: bin (11/15, 12/15], alone with its accuracy 0
    p = np.array([[0.8, 0.2], [0.81, 0.19]])
    y = np.array([1, 0])
    assert expected_calibration_error(p, y) == pytest.approx(_ece_reference(p, y))
