"""Does the map of head k light up digit k?  Localisation metrics with ground truth.

Triple MNIST knows where every digit is (:mod:`multidigit.data.boxes`), so a map
explaining head ``k`` can be scored against digit ``k``'s box:

* **pointing game** (Zhang et al. 2016): a hit when the map's maximum falls in the box;
* **relevance mass** (Arras et al. 2022, "CLEVR-XAI"): the share of the map's
  positive mass inside the box;
* **relevance rank accuracy** (same paper): with ``K`` the box's area in pixels, the
  share of the map's ``K`` most relevant pixels that lie in the box.

All three are in [0, 1], higher is better.  A map spread evenly over an 84x84 image
scores about the box's share of the image (~5 % for an MNIST digit) on the last two.

:func:`pointing_game`, :func:`relevance_mass` and :func:`relevance_rank_accuracy`
score maps you already have; :func:`localisation` computes the maps of a method and
scores them, with the calling convention of :func:`~multidigit.explanation.metrics.checks.faithfulness`.

Examples
--------
>>> import numpy as np
>>> maps = np.zeros((1, 4, 4)); maps[0, 1, 1] = 1.0
>>> boxes = np.array([[0, 0, 2, 2]])               # top, left, bottom, right
>>> pointing_game(maps, boxes).tolist(), relevance_mass(maps, boxes).tolist()
([1.0], [1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from multidigit._param_validation import Body, Int, fail, validate_params
from multidigit._results import Result
from multidigit.data.boxes import box_masks

__all__ = ["pointing_game", "relevance_mass", "relevance_rank_accuracy", "localisation",
           "LocalisationResult"]


def _maps_and_masks(maps: Any, boxes: Any) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(maps, dtype=np.float64)
    b = np.asarray(boxes)
    if m.ndim != 3 or b.shape != (len(m), 4):
        raise fail("boxes", f"an array (N, 4) of (top, left, bottom, right) for maps (N, H, "
                   f"W); maps have shape {m.shape}", f"an array of shape {b.shape}")
    return m, box_masks(b, m.shape[1], m.shape[2])


@validate_params({
    "maps": Body("an array (N, H, W) of maps (checked with the boxes)"),
    "boxes": Body("an array (N, 4) of (top, left, bottom, right), one box per map"),
})
def pointing_game(maps: Any, boxes: Any) -> np.ndarray:
    """Per map, 1.0 when its maximum lies in the box, else 0.0.

    Ties count as a hit when one of the tied maxima is in the box; a constant map
    (no maximum at all) is a miss.

    Examples
    --------
    >>> m = np.zeros((2, 3, 3)); m[0, 0, 0] = 1; m[1, 2, 2] = 1
    >>> pointing_game(m, [[0, 0, 1, 1], [0, 0, 1, 1]]).tolist()
    [1.0, 0.0]
    """
    m, masks = _maps_and_masks(maps, boxes)
    flat, inside = m.reshape(len(m), -1), masks.reshape(len(m), -1)
    top = flat.max(axis=1, keepdims=True)
    hit = ((flat == top) & inside).any(axis=1) & (flat.min(axis=1) < top[:, 0])
    return hit.astype(np.float64)


@validate_params({
    "maps": Body("an array (N, H, W) of maps (checked with the boxes)"),
    "boxes": Body("an array (N, 4) of (top, left, bottom, right), one box per map"),
})
def relevance_mass(maps: Any, boxes: Any) -> np.ndarray:
    """Per map, the share of its positive mass inside the box (0 for an empty map).

    Examples
    --------
    >>> m = np.ones((1, 2, 2))
    >>> relevance_mass(m, [[0, 0, 1, 2]]).tolist()
    [0.5]
    """
    m, masks = _maps_and_masks(maps, boxes)
    pos = np.clip(m, 0.0, None)
    total = pos.sum(axis=(1, 2))
    inside = (pos * masks).sum(axis=(1, 2))
    return np.where(total > 0, inside / np.where(total > 0, total, 1.0), 0.0)


@validate_params({
    "maps": Body("an array (N, H, W) of maps (checked with the boxes)"),
    "boxes": Body("an array (N, 4) of (top, left, bottom, right), one box per map"),
})
def relevance_rank_accuracy(maps: Any, boxes: Any) -> np.ndarray:
    """Per map, the share of its ``K`` highest pixels in the box (``K`` = box area).

    Ties at the K-th value are broken by position (stable sort), so a constant map
    scores the share of the first ``K`` pixels in row order that fall in the box.

    Examples
    --------
    >>> m = np.zeros((1, 4, 4)); m[0, 0, :2] = 1.0        # 2 hot pixels, both in the box
    >>> relevance_rank_accuracy(m, [[0, 0, 1, 2]]).tolist()
    [1.0]
    """
    m, masks = _maps_and_masks(maps, boxes)
    flat, inside = m.reshape(len(m), -1), masks.reshape(len(m), -1)
    out = np.zeros(len(m))
    for i, (values, mask) in enumerate(zip(flat, inside)):
        k = int(mask.sum())
        if k:
            top = np.argsort(-values, kind="stable")[:k]
            out[i] = mask[top].mean()
    return out


@dataclass
class LocalisationResult(Result):
    """Outcome of :func:`localisation`: per-image scores and their means."""

    method: str
    head: str
    pointing: np.ndarray
    mass: np.ndarray
    rank: np.ndarray

    @property
    def pointing_game(self) -> float:
        """Share of images whose map peaks inside the digit's box."""
        return float(np.mean(self.pointing))

    @property
    def relevance_mass(self) -> float:
        """Mean share of the maps' mass inside the box."""
        return float(np.mean(self.mass))

    @property
    def rank_accuracy(self) -> float:
        """Mean relevance rank accuracy."""
        return float(np.mean(self.rank))

    def _html_rows(self) -> list[list[Any]]:
        return [["method", self.method], ["head", self.head], ["images", len(self.mass)],
                ["pointing game", self.pointing_game], ["relevance mass", self.relevance_mass],
                ["rank accuracy", self.rank_accuracy]]

    def summary(self) -> dict[str, float]:
        """The three means, as a dict."""
        return {"pointing_game": self.pointing_game, "relevance_mass": self.relevance_mass,
                "rank_accuracy": self.rank_accuracy}


def _boxes_for(images: Any, boxes: Any, n: int, head: int) -> np.ndarray:
    if boxes is None:
        if not hasattr(images, "digit_boxes"):
            raise fail("boxes", "an array (N, n_digits, 4) or (N, 4) of digit boxes, or "
                       "images given as a dataset Split (its boxes are used)", None)
        boxes = images.digit_boxes()
    b = np.asarray(boxes)
    if b.ndim == 3 and len(b) == n and b.shape[2] == 4 and head < b.shape[1]:
        return b[:, head]
    if b.shape == (n, 4):
        return b
    raise fail("boxes", f"an array ({n}, n_digits, 4) or ({n}, 4)",
               f"an array of shape {b.shape}")


@validate_params({
    "model": Body("a keras.Model with digit heads"),
    "images": Body("a batch the model reads, or a dataset Split (its boxes are used)"),
    "method": Body("an attribution method with per-head maps"),
    "boxes": Body("None (images a Split) or (N, n_digits, 4) / (N, 4) boxes"),
    "head": Body("one head (an index or a name)"),
    "target": Body("None, an int or digits per image"),
    "batch_size": Int(min=1),
    "maps": Body("None or maps (N, H, W) of this head"),
    "options": Body("options of the explainer"),
})
def localisation(
    model: Any,
    images: Any,
    method: str = "gradcam",
    *,
    boxes: Any = None,
    head: int | str = 0,
    target: Any = None,
    batch_size: int = 256,
    maps: np.ndarray | None = None,
    **options: Any,
) -> LocalisationResult:
    """Pointing game, relevance mass and rank accuracy of ``method`` on ``images``.

    Parameters
    ----------
    model, images, method, head, target, batch_size, **options
        As for :func:`~multidigit.explanation.metrics.checks.faithfulness` (one head).
    boxes : array, optional
        ``(N, n_digits, 4)`` digit boxes (head ``k`` is scored on digit ``k``) or
        ``(N, 4)``; default: the boxes of ``images`` when it is a ``Split``.
    maps : array (N, H, W), optional
        Maps already computed for this head (then nothing is explained again).

    Returns
    -------
    LocalisationResult

    Examples
    --------
    >>> r = md.explanation.metrics.localisation.localisation(model, ds.test.subset(range(16)), "saliency",
    ...                                head=1)                    # doctest: +SKIP
    >>> r.pointing_game, r.relevance_mass                         # doctest: +SKIP
    """
    from multidigit.explanation.api import as_image_batch, explain
    from multidigit.explanation.metrics.checks import _per_head_method, _single_head
    from multidigit.model.heads import model_head_names

    h = _single_head(model, head)
    x = as_image_batch(model, images)
    b = _boxes_for(images, boxes, len(x), h)
    if maps is None:
        _per_head_method(method)
        maps = explain(model, x, method, head=h, target=target, batch_size=batch_size,
                       **options).maps
    return LocalisationResult(method, model_head_names(model)[h], pointing_game(maps, b),
                              relevance_mass(maps, b), relevance_rank_accuracy(maps, b))
