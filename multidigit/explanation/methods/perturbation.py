"""Perturbation explainers: occlusion and RISE.  They only run the model forwards.

* **occlusion** (Zeiler and Fergus 2014): a patch of ``value`` slides over the image;
  a pixel's relevance is the mean drop of the target's score over the patch positions
  that cover it.
* **RISE** (Petsiuk et al. 2018): ``n_masks`` random smooth masks (a coarse
  ``grid x grid`` binary grid, cells kept with probability ``p``, upsampled
  bilinearly and shifted at random) multiply the image; a pixel's relevance is the
  score-weighted average of the masks, ``sum_m f(x * M_m) M_m / sum_m M_m``: the mean
  score of the masked images that keep the pixel.  (The paper divides by
  ``n_masks * p``, the expected ``sum_m M_m``; dividing by the actual sum, as xplique
  does, removes the sampling noise of the mask density, which otherwise dominates the
  map: two seeds' maps correlated 0.29 at 4,000 masks, against 0.99 now; see
  ``benchmarks/README.md``, "Peers".)

Perturbed images go through one compiled score function (:func:`score_fn`)
``batch_size`` at a time, so memory stays bounded whatever the number of patches or
masks.  The masks are one seeded draw shared by every image, so an image's map does
not depend on its batch.  Hand-written: tf-keras-vis has neither method (occlusion
was multidigit's plugin example, ``examples/occlusion_plugin``, which now registers
as ``plugin_occlusion``).

Examples
--------
>>> ex = md.explain(model, x, "rise", head=1, n_masks=500)   # doctest: +SKIP
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from multidigit._param_validation import check_int, check_number
from multidigit.explanation.methods._common import (
    cached,
    head_layers,
    image_spec,
    score_model,
    target_scores,
)
from multidigit.explanation.methods.base import Explainer

__all__ = ["OcclusionExplainer", "RISEExplainer", "score_fn", "rise_masks",
           "patch_positions"]


def score_fn(model: Any, score: str) -> Any:
    """Compiled, batched ``(x, targets, head) -> score (n,)`` of the target digit."""
    import tensorflow as tf

    def build() -> Any:
        sub = score_model(model)
        heads = head_layers(model)
        specs = [image_spec(model), tf.TensorSpec((None,), tf.int32),
                 tf.TensorSpec((), tf.int32)]

        @tf.function(input_signature=specs, autograph=False)
        def run(x: Any, t: Any, head: Any) -> Any:
            return target_scores(heads, sub(x, training=False), score, head, t)

        return run

    return cached(model, ("score_fn", score), build)


def _scores(model: Any, x: np.ndarray, t: np.ndarray, head: int, score: str,
            batch_size: int) -> np.ndarray:
    run = score_fn(model, score)
    t = np.asarray(t, np.int32)
    return np.concatenate([run(x[s:s + batch_size], t[s:s + batch_size], np.int32(head)).numpy()
                           for s in range(0, len(x), batch_size)])


def patch_positions(height: int, width: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Top-left corners of the occluding patches (the last row / column touches the edge).

    Examples
    --------
    >>> patch_positions(5, 5, 3, 2)
    [(0, 0), (0, 2), (2, 0), (2, 2)]
    """
    tops = list(range(0, height - size + 1, stride))
    lefts = list(range(0, width - size + 1, stride))
    tops += [height - size] if tops[-1] != height - size else []
    lefts += [width - size] if lefts[-1] != width - size else []
    return [(r, c) for r in tops for c in lefts]


class OcclusionExplainer(Explainer):
    """Occlusion sensitivity: the drop of the target's score under a sliding patch.

    Options
    -------
    size : int, default 6
        Side of the square patch, in pixels.
    stride : int, default 3
        Step between patch positions.
    value : float, default 0.0
        Value of the patch (0 = the MNIST background).
    score : {"logit", "probability"}, default "probability"
    batch_size : int
        Occluded images per model call (``explain``'s ``batch_size``).
    normalize : bool, default True

    Returns ``(n, H, W)`` maps (positive: the pixel supports the prediction).
    """

    name = "occlusion"
    backends = ("tensorflow",)
    common_options = {"score": "probability", "normalize": True}

    def attribute(self, model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                  *, score: str = "probability", size: int = 6, stride: int = 3,
                  value: float = 0.0, batch_size: int = 256) -> np.ndarray:
        x = np.asarray(images, np.float32)
        n, height, width = x.shape[:3]
        size = check_int("size", size, min=1, max=min(height, width))
        stride = check_int("stride", stride, min=1)
        check_number("value", value)
        batch_size = check_int("batch_size", batch_size, min=1)
        positions = patch_positions(height, width, size, stride)
        t = np.asarray(targets)
        base = _scores(model, x, t, head_index, score, batch_size)
        total = np.zeros((n, height, width), np.float64)
        count = np.zeros((height, width), np.float64)
        per_call = max(1, batch_size // n)
        for s in range(0, len(positions), per_call):
            group = positions[s:s + per_call]
            occluded = np.repeat(x[None], len(group), axis=0)
            for p, (r, c) in enumerate(group):
                occluded[p, :, r:r + size, c:c + size, :] = value
            drops = base[None] - _scores(model, occluded.reshape(-1, *x.shape[1:]),
                                         np.tile(t, len(group)), head_index, score,
                                         batch_size).reshape(len(group), n)
            for p, (r, c) in enumerate(group):
                total[:, r:r + size, c:c + size] += drops[p][:, None, None]
                count[r:r + size, c:c + size] += 1
        return (total / np.maximum(count, 1)).astype(np.float32)


def rise_masks(n_masks: int, height: int, width: int, *, grid: int = 7, p: float = 0.5,
               seed: int = 0) -> np.ndarray:
    """RISE's random masks ``(n_masks, H, W)`` in [0, 1] (Petsiuk et al. 2018).

    A ``grid x grid`` binary grid (cells on with probability ``p``) is upsampled
    bilinearly to ``(grid + 1)`` cells of ``ceil(H / grid)`` pixels and cropped at a
    random offset within one cell, so the masks are smooth and not aligned to a grid.

    Examples
    --------
    >>> m = rise_masks(4, 10, 10, grid=3)
    >>> m.shape, bool(m.min() >= 0 and m.max() <= 1)
    ((4, 10, 10), True)
    """
    return _rise_masks(int(n_masks), int(height), int(width), int(grid), float(p),
                       int(seed)).copy()


@functools.lru_cache(maxsize=4)
def _rise_masks(n_masks: int, height: int, width: int, grid: int, p: float,
                seed: int) -> np.ndarray:
    """:func:`rise_masks`, kept for the next batch of images (drawn once per call)."""
    from scipy.ndimage import zoom

    rng = np.random.default_rng(seed)
    cell_h, cell_w = -(-height // grid), -(-width // grid)
    cells = (rng.random((n_masks, grid, grid)) < p).astype(np.float32)
    big_h, big_w = (grid + 1) * cell_h, (grid + 1) * cell_w
    out = np.empty((n_masks, height, width), np.float32)
    for m in range(n_masks):
        # stretch the grid to (grid + 1) cells (as Petsiuk et al. and xplique do) so the
        # shifted crop stays inside; order=1: bilinear.  (Padding the grid with a cell of
        # zeros instead faded every mask towards the bottom and right edges.)
        up = zoom(cells[m], (big_h / grid, big_w / grid), order=1, grid_mode=True,
                  mode="nearest")[:big_h, :big_w]
        dy, dx = rng.integers(0, cell_h), rng.integers(0, cell_w)
        out[m] = up[dy:dy + height, dx:dx + width]
    return np.clip(out, 0.0, 1.0)


class RISEExplainer(Explainer):
    """RISE: randomised input sampling; score-weighted average of random masks.

    Options
    -------
    n_masks : int, default 500
        Random masks (more: smoother, slower; one forward pass each per image).
    grid : int, default 7
        Cells per side of the coarse mask grid.
    p : float, default 0.5
        Probability a cell is kept.
    seed : int, default 0
        Seed of the masks.
    score : {"logit", "probability"}, default "probability"
    batch_size : int
        Masked images per model call (``explain``'s ``batch_size``).
    normalize : bool, default True

    Returns ``(n, H, W)`` maps.
    """

    name = "rise"
    backends = ("tensorflow",)
    common_options = {"score": "probability", "normalize": True}

    def attribute(self, model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                  *, score: str = "probability", n_masks: int = 500, grid: int = 7,
                  p: float = 0.5, seed: int = 0, batch_size: int = 256) -> np.ndarray:
        x = np.asarray(images, np.float32)
        n, height, width = x.shape[:3]
        n_masks = check_int("n_masks", n_masks, min=1)
        grid = check_int("grid", grid, min=1, max=min(height, width))
        check_number("p", p, min=0.0, max=1.0, min_inclusive=False)
        batch_size = check_int("batch_size", batch_size, min=1)
        masks = rise_masks(n_masks, height, width, grid=grid, p=p, seed=seed)
        t = np.asarray(targets)
        total = np.zeros((n, height, width), np.float64)
        per_call = max(1, batch_size // n)
        for s in range(0, n_masks, per_call):
            m = masks[s:s + per_call]
            masked = x[None] * m[:, None, :, :, None]
            sc = _scores(model, masked.reshape(-1, *x.shape[1:]), np.tile(t, len(m)),
                         head_index, score, batch_size).reshape(len(m), n)
            total += np.einsum("mn,mhw->nhw", sc, m)
        # the summed masks, not n_masks * p: see the module docstring
        return (total / np.maximum(masks.sum(axis=0, dtype=np.float64), 1e-12)
                ).astype(np.float32)
