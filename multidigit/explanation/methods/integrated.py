"""Integrated Gradients (Sundararajan et al. 2017), with several baselines.

The attribution of pixel ``i`` is ``(x_i - b_i)`` times the average gradient of the
target's score along the straight path from a baseline image ``b`` to ``x``.  Its
axiom, *completeness*: the attributions sum to ``f(x) - f(b)``.  The path integral is
approximated with the trapezoid rule on ``steps`` intervals (``steps + 1`` gradient
evaluations per image), computed ``batch_size`` path points at a time, so memory stays
bounded whatever ``steps`` is.

Hand-written (a few lines on top of the compiled batched gradient of
:mod:`multidigit.explanation.methods.gradients`): tf-keras-vis has no Integrated Gradients,
and xplique pins an older TensorFlow.

Examples
--------
>>> ex = md.explain(model, x, "integrated_gradients", head=0, baseline="blur")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from multidigit._param_validation import check_choice, check_int, check_number, fail
from multidigit.explanation.methods.base import COMMON_DEFAULTS, Explainer
from multidigit.explanation.methods.gradients import batched_gradients

__all__ = ["IntegratedGradientsExplainer", "BASELINES", "make_baseline"]

#: Named baselines: an all-black image, the image blurred, uniform noise in [0, 1].
BASELINES = ("black", "blur", "uniform")


def make_baseline(images: np.ndarray, baseline: Any = "black", *, blur_sigma: float = 5.0,
                  seed: int = 0) -> np.ndarray:
    """The baseline images ``(n, H, W, C)`` for ``images``.

    ``"black"``: zeros (the MNIST background).  ``"blur"``: each image blurred with a
    Gaussian of ``blur_sigma`` pixels (:func:`scipy.ndimage.gaussian_filter`): keeps
    the overall brightness, removes the strokes.  ``"uniform"``: uniform noise in
    [0, 1], one draw from ``seed`` shared by every image (so an image's result does not
    depend on its batch).  A number: a constant image; an array: broadcast to the images.

    Examples
    --------
    >>> make_baseline(np.ones((2, 4, 4, 1)), 0.5)[0, 0, 0].tolist()
    [0.5]
    """
    x = np.asarray(images, np.float32)
    if isinstance(baseline, str):
        check_choice("baseline", baseline, BASELINES)
        if baseline == "black":
            return np.zeros_like(x)
        if baseline == "blur":
            from scipy.ndimage import gaussian_filter

            check_number("blur_sigma", blur_sigma, min=0.0)
            return gaussian_filter(x, sigma=(0, blur_sigma, blur_sigma, 0)).astype(np.float32)
        noise = np.random.default_rng(seed).random(x.shape[1:], dtype=np.float32)
        return np.broadcast_to(noise, x.shape).copy()
    try:
        return np.broadcast_to(np.asarray(baseline, np.float32), x.shape).copy()
    except (TypeError, ValueError):
        raise fail("baseline", f"one of {', '.join(map(repr, BASELINES))}, a number or an "
                   f"array broadcastable to {x.shape}", baseline) from None


class IntegratedGradientsExplainer(Explainer):
    """Integrated Gradients: path-integrated gradients from a baseline image.

    Options
    -------
    baseline : {"black", "blur", "uniform"}, number or array, default "black"
        The reference image (see :func:`make_baseline`).
    steps : int, default 32
        Trapezoid intervals along the path (``steps + 1`` gradients per image).
    blur_sigma : float, default 5.0
        Gaussian width of the ``"blur"`` baseline, in pixels.
    seed : int, default 0
        Seed of the ``"uniform"`` baseline.
    batch_size : int
        Path points per gradient call (``explain``'s ``batch_size``).
    score : {"logit", "probability"}, default "logit"
    absolute : bool, default True
        Magnitude of the attribution (max over channels); ``False``: signed sum, whose
        total is ``f(x) - f(baseline)`` (with ``normalize=False``).
    normalize : bool, default True

    Returns ``(n, H, W)`` maps.
    """

    name = "integrated_gradients"
    backends = ("tensorflow",)
    common_options = dict(COMMON_DEFAULTS)

    def attribute(self, model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                  *, score: str = "logit", baseline: Any = "black", steps: int = 32,
                  blur_sigma: float = 5.0, seed: int = 0, batch_size: int = 256
                  ) -> np.ndarray:
        steps = check_int("steps", steps, min=1)
        batch_size = check_int("batch_size", batch_size, min=1)
        x = np.asarray(images, np.float32)
        base = make_baseline(x, baseline, blur_sigma=blur_sigma, seed=seed)
        alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[[0, -1]] /= 2.0  # trapezoid rule
        t = np.asarray(targets)
        total = np.zeros_like(x)
        per_call = max(1, batch_size // len(x))  # path points of every image per call
        for s in range(0, steps + 1, per_call):
            a = alphas[s:s + per_call]
            path = base[None] + a[:, None, None, None, None] * (x - base)[None]
            g = batched_gradients(model, path.reshape(-1, *x.shape[1:]), np.tile(t, len(a)),
                                  head_index, score, batch_size)
            total += np.tensordot(weights[s:s + per_call], g.reshape(len(a), *x.shape), 1)
        return (x - base) * total
