"""Occlusion sensitivity (Zeiler & Fergus 2014) as a multidigit explainer plugin.

Slide a grey patch over the image; the map at a pixel is the mean drop of the target
digit's probability over every patch position covering that pixel.  Model-agnostic:
it only calls the model.

multidigit now has a built-in ``occlusion`` explainer; this example registers under
another name, ``plugin_occlusion``, since a plugin may not take a built-in's name
(it would be skipped with a PluginWarning).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from multidigit import Explainer
from multidigit.errors import ParameterError

__all__ = ["OcclusionExplainer"]
__version__ = "0.1.0"


def _head_output(outputs: Any, head_index: int) -> np.ndarray:
    if isinstance(outputs, dict):
        keys = sorted(outputs, key=lambda k: (len(k), k))  # digit_0, digit_1, ... digit_10
        return np.asarray(outputs[keys[head_index]])
    if isinstance(outputs, (list, tuple)):
        return np.asarray(outputs[head_index])
    return np.asarray(outputs)


class OcclusionExplainer(Explainer):
    """Occlusion sensitivity maps.

    Options
    -------
    size : int, default 6
        Side of the square patch, in pixels.
    stride : int, default 3
        Step between patch positions.
    value : float, default 0.0
        Value of the occluding patch (0 = background for MNIST).
    batch_size : int, default 512
        Occluded images per model call.

    Returns ``(n, H, W)`` maps: the drop in the target's probability (positive = the
    pixel supports the prediction).
    """

    name = "plugin_occlusion"

    def explain(
        self,
        model: Any,
        images: np.ndarray,
        targets: np.ndarray,
        head_index: int,
        *,
        size: int = 6,
        stride: int = 3,
        value: float = 0.0,
        batch_size: int = 512,
    ) -> np.ndarray:
        n, h, w = images.shape[:3]
        if not (1 <= size <= min(h, w)) or stride < 1:
            raise ParameterError(
                f"explain(method='plugin_occlusion'): size must be in 1..{min(h, w)} and stride "
                f">= 1; got "
                f"size={size}, stride={stride}."
            )
        tops = list(range(0, h - size + 1, stride))
        lefts = list(range(0, w - size + 1, stride))
        if tops[-1] != h - size:
            tops.append(h - size)
        if lefts[-1] != w - size:
            lefts.append(w - size)
        positions = [(r, c) for r in tops for c in lefts]
        targets = np.asarray(targets, dtype=np.int64)

        def prob(x: np.ndarray, t: np.ndarray) -> np.ndarray:
            out = []
            for s in range(0, len(x), batch_size):
                y = _head_output(model(x[s : s + batch_size], training=False), head_index)
                out.append(y[np.arange(len(y)), t[s : s + batch_size]])
            return np.concatenate(out)

        base = prob(images, targets)
        total = np.zeros((n, h, w), np.float64)
        count = np.zeros((h, w), np.float64)
        occluded = np.repeat(images[None], len(positions), axis=0)  # (P, n, H, W, C)
        for p, (r, c) in enumerate(positions):
            occluded[p, :, r : r + size, c : c + size, :] = value
            count[r : r + size, c : c + size] += 1
        probs = prob(occluded.reshape((-1,) + images.shape[1:]), np.tile(targets, len(positions)))
        drops = base[None] - probs.reshape(len(positions), n)
        for p, (r, c) in enumerate(positions):
            total[:, r : r + size, c : c + size] += drops[p][:, None, None]
        return (total / np.maximum(count, 1)).astype(np.float32)
