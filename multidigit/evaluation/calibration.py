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

from multidigit._param_validation import Free, Int, Number, validate_params

__all__ = ["ECE_BINS", "brier_score", "expected_calibration_error", "confidence_threshold"]

#: Equal-width confidence bins of the expected calibration error (as Guo et al. 2017).
ECE_BINS = 15


_PROBS = Free("an (N, classes) array of probabilities; NumPy checks it")
_LABELS = Free("the (N,) true class indices; NumPy checks them")


@validate_params({"probabilities": _PROBS, "labels": _LABELS})
def brier_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean over images of ``sum_k (p_k - y_k)^2`` (one-hot ``y``): 0 is perfect.

    ``probabilities`` is ``(N, classes)``, ``labels`` the ``(N,)`` true class indices.
    For probabilities that sum to one the worst is 2; sigmoid heads' outputs need not
    sum to one (the worst is the number of classes) and are scored as they are.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.eye(p.shape[1])[np.asarray(labels, dtype=np.int64)]
    return float(np.mean(np.sum((p - y) ** 2, axis=1)))


@validate_params({"probabilities": _PROBS, "labels": _LABELS, "n_bins": Int(min=1)})
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


@validate_params({
    "probabilities": Free("an (N, classes) or (N, heads, classes) array; NumPy checks it"),
    "labels": Free("the (N,) or (N, heads) true class indices; NumPy checks them"),
    "max_error": Number(min=0, max=1),
})
def confidence_threshold(probabilities: np.ndarray, labels: np.ndarray,
                         max_error: float = 0.01) -> float:
    """The lowest top probability above which at most ``max_error`` of readings are wrong.

    Choose it on a validation split, then call a reading whose top probability is below
    it "unsure" (selective classification: the readings kept as sure have an error rate
    of at most ``max_error`` on that split).  ``probabilities`` is ``(N, classes)`` or
    ``(N, heads, classes)`` with ``labels`` ``(N,)`` or ``(N, heads)``: every head's
    digit is one reading.  When even the most confident readings err too often the
    answer is 1.0 (never sure).

    Examples
    --------
    >>> p = np.array([[0.99, 0.01], [0.9, 0.1], [0.6, 0.4], [0.55, 0.45]])
    >>> confidence_threshold(p, np.array([0, 0, 1, 0]), max_error=0.0)
    0.9
    >>> confidence_threshold(p, np.array([0, 0, 1, 0]), max_error=0.5)
    0.55
    """
    p = np.asarray(probabilities, dtype=np.float64)
    p = p.reshape(-1, p.shape[-1])
    y = np.asarray(labels).reshape(-1)
    conf = p.max(axis=1)
    order = np.argsort(-conf, kind="stable")
    wrong = (p.argmax(axis=1) != y)[order].astype(np.float64)
    risk = np.cumsum(wrong) / np.arange(1, len(wrong) + 1)  # error rate above each threshold
    sorted_conf = conf[order]
    # a threshold equal to a confidence keeps every reading at that confidence: judge the
    # risk at the last of equal confidences
    last = np.r_[sorted_conf[1:] != sorted_conf[:-1], True]
    ok = np.flatnonzero((risk <= max_error) & last)
    return float(sorted_conf[ok[-1]]) if len(ok) else 1.0
