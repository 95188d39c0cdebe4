"""SmoothGrad-squared and VarGrad: statistics of the gradient under input noise.

Both add Gaussian noise to the image ``samples`` times (Smilkov et al. 2017) and look
at the input gradients of the target's score:

* **SmoothGrad-squared** (Hooker et al. 2019): the mean of the *squared* gradients,
  ``E[g^2]``, which sharpens SmoothGrad's ``E[|g|]``;
* **VarGrad** (Adebayo et al. 2018): their variance, ``E[g^2] - E[g]^2``.

The noise is one seeded draw of ``samples`` noise images shared by every image (an
image's map does not depend on its batch); its standard deviation is ``noise`` times
each image's value range, as in ``saliency(smooth=N)``.  Noisy copies go through the
compiled batched gradient ``batch_size`` at a time.  Hand-written on the same
gradient function as ``saliency``: tf-keras-vis has neither method.

Examples
--------
>>> ex = md.explain(model, x, "vargrad", head=0, samples=16)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from multidigit._param_validation import check_int, check_number
from multidigit.explanation.methods.base import Explainer
from multidigit.explanation.methods.gradients import batched_gradients

__all__ = ["SmoothGradSquaredExplainer", "VarGradExplainer", "noisy_gradient_moments"]


def noisy_gradient_moments(model: Any, images: np.ndarray, targets: np.ndarray,
                           head_index: int, *, score: str = "logit", samples: int = 16,
                           noise: float = 0.2, seed: int = 0, batch_size: int = 256
                           ) -> tuple[np.ndarray, np.ndarray]:
    """``(E[g], E[g^2])`` of the input gradient over ``samples`` noisy copies."""
    samples = check_int("samples", samples, min=1)
    check_number("noise", noise, min=0.0)
    batch_size = check_int("batch_size", batch_size, min=1)
    x = np.asarray(images, np.float32)
    axes = tuple(range(1, x.ndim))
    sigma = noise * (x.max(axis=axes, keepdims=True) - x.min(axis=axes, keepdims=True))
    draws = np.random.default_rng(seed).standard_normal((samples, *x.shape[1:]),
                                                        dtype=np.float32)
    t = np.asarray(targets)
    mean, square = np.zeros_like(x), np.zeros_like(x)
    per_call = max(1, batch_size // len(x))
    for s in range(0, samples, per_call):
        d = draws[s:s + per_call]
        noisy = x[None] + d[:, None] * sigma[None]
        g = batched_gradients(model, noisy.reshape(-1, *x.shape[1:]), np.tile(t, len(d)),
                              head_index, score, batch_size).reshape(len(d), *x.shape)
        mean += g.sum(axis=0)
        square += (g * g).sum(axis=0)
    return mean / samples, square / samples


class SmoothGradSquaredExplainer(Explainer):
    """SmoothGrad-squared: the mean squared input gradient under noise.

    Options
    -------
    samples : int, default 16
        Noisy copies per image.
    noise : float, default 0.2
        Noise standard deviation, as a fraction of each image's value range.
    seed : int, default 0
    batch_size : int
        Noisy images per gradient call (``explain``'s ``batch_size``).
    score : {"logit", "probability"}, default "logit"
    normalize : bool, default True

    Returns ``(n, H, W)`` maps (largest over channels).
    """

    name = "smoothgrad_squared"
    backends = ("tensorflow",)
    common_options = {"score": "logit", "normalize": True}

    def attribute(self, model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                  *, score: str = "logit", samples: int = 16, noise: float = 0.2,
                  seed: int = 0, batch_size: int = 256) -> np.ndarray:
        return noisy_gradient_moments(
            model, images, targets, head_index, score=score, samples=samples, noise=noise,
            seed=seed, batch_size=batch_size)[1]


class VarGradExplainer(SmoothGradSquaredExplainer):
    """VarGrad: the variance of the input gradient under noise; same options as
    ``smoothgrad_squared``."""

    name = "vargrad"

    def attribute(self, model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                  *, score: str = "logit", samples: int = 16, noise: float = 0.2,
                  seed: int = 0, batch_size: int = 256) -> np.ndarray:
        mean, square = noisy_gradient_moments(
            model, images, targets, head_index, score=score, samples=samples, noise=noise,
            seed=seed, batch_size=batch_size)
        return np.maximum(square - mean * mean, 0.0)
