"""How trustworthy a head's probabilities are: the Brier score and the expected
calibration error (ECE), per head.

These are where softmax and sigmoid heads truly differ: both can pick the same
argmax, but only a calibrated head's 0.9 means "right nine times in ten".  Written
with NumPy because scikit-learn's ``brier_score_loss`` is binary only and it has no
ECE; both follow the textbook definitions (Brier 1950; Guo et al. 2017).

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.9, 0.1], [0.2, 0.8]])
>>> y = np.array([0, 0])
>>> round(float(brier_score(p, y)), 3)
0.65
>>> round(float(expected_calibration_error(p, y)), 3)
0.45
"""

from __future__ import annotations

import numpy as np

__all__ = ["ECE_BINS", "brier_score", "expected_calibration_error"]

#: Equal-width confidence bins of the expected calibration error (as Guo et al. 2017).
ECE_BINS = 15


def brier_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean over images of ``sum_k (p_k - y_k)^2`` (one-hot ``y``): 0 is perfect.

    ``probabilities`` is ``(N, classes)``, ``labels`` the ``(N,)`` true class indices.
    For probabilities that sum to one the worst is 2; sigmoid heads' outputs need not
    sum to one (the worst is the number of classes) and are scored as they are.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.eye(p.shape[1])[np.asarray(labels, dtype=np.int64)]
    return float(np.mean(np.sum((p - y) ** 2, axis=1)))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray,
                               n_bins: int = ECE_BINS) -> float:
    """``sum_b |B_b| / N * |accuracy(B_b) - confidence(B_b)|`` over equal-width bins.

    The confidence of an image is its top probability; bin ``b`` holds the images with
    confidence in ``(b / n_bins, (b + 1) / n_bins]`` (the first bin also holds 0).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(labels)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # side="left" on the inner edges puts a value equal to an edge into the lower bin
    bins = np.clip(np.searchsorted(edges[1:-1], conf, side="left"), 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)
