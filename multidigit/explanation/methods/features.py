"""What the convolutions compute: feature maps (per image) and filters (per model).

Hand-written: both are a direct read of a layer's output or kernel, nothing for a
library to add.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from multidigit._param_validation import fail
from multidigit.errors import ModelError
from multidigit.explanation.methods._common import cached, image_spec, resolve_layer
from multidigit.explanation.methods.base import Explainer
from multidigit.model.build import conv_layer_names


def _first_conv(model: Any) -> str:
    names = conv_layer_names(model)
    if not names:
        raise ModelError(f"model {model.name!r} has no Conv2D layer; pass layer=...")
    return names[0]


def _select(arr: np.ndarray, channels: Sequence[int] | None, axis: int, total: int) -> np.ndarray:
    if channels is None:
        return arr
    idx = [int(c) for c in channels]
    bad = [c for c in idx if not -total <= c < total]
    if bad:
        raise fail("channels", f"channel indices in {-total}..{total - 1} (the layer has "
                   f"{total} channels)", list(channels), "explain")
    return np.take(arr, idx, axis=axis)


class FeatureMapsExplainer(Explainer):
    """Activations of a layer for each image (does not depend on the head).

    Options
    -------
    layer : str or int, optional
        Layer to read; default the first convolution (``conv_1``).
    channels : sequence of int, optional
        Keep only these channels.

    Returns ``(n, C, h, w)`` (channels first, ready to plot one channel per panel);
    for a layer with flat output, ``(n, units)``.
    """

    name = "feature_maps"
    per_head = False

    def attribute(
        self,
        model: Any,
        images: np.ndarray,
        targets: Any = None,
        head_index: Any = None,
        *,
        layer: str | int | None = None,
        channels: Sequence[int] | None = None,
    ) -> np.ndarray:
        import keras

        name = resolve_layer(model, layer, _first_conv(model))

        def build() -> Any:
            sub = keras.Model(model.inputs[0], model.get_layer(name).output, name=f"fm_{name}")
            if keras.config.backend() != "tensorflow":  # any backend: eager call
                return lambda x: keras.ops.convert_to_numpy(sub(x, training=False))
            import tensorflow as tf  # traced once per layer: ~10x faster on repeat calls

            fn = tf.function(lambda x: sub(x, training=False),
                             input_signature=[image_spec(model)], autograph=False)
            return lambda x: fn(x).numpy()

        fn = cached(model, ("feature_maps", name), build)
        act = np.asarray(fn(np.asarray(images, np.float32)))
        if act.ndim == 4:
            act = np.transpose(act, (0, 3, 1, 2))
            return _select(act, channels, 1, act.shape[1])
        return _select(act, channels, -1, act.shape[-1])


class FiltersExplainer(Explainer):
    """The kernels of a convolution layer: a *model-level* explanation.

    The images are ignored (``model_level = True``): the result describes the model.

    Options
    -------
    layer : str or int, optional
        Convolution layer; default the first one (``conv_1``, whose kernels act on
        pixels and are the only ones that read as images).
    channels : sequence of int, optional
        Keep only these filters.
    normalize : bool, default False
        Scale each kernel to [0, 1].

    Returns ``(F, kh, kw)``: each kernel averaged over its input channels.
    """

    name = "filters"
    per_head = False
    model_level = True
    common_options = {"normalize": False}

    def attribute(
        self,
        model: Any,
        images: Any = None,
        targets: Any = None,
        head_index: Any = None,
        *,
        layer: str | int | None = None,
        channels: Sequence[int] | None = None,
    ) -> np.ndarray:
        name = resolve_layer(model, layer, _first_conv(model))
        kernel = getattr(model.get_layer(name), "kernel", None)
        if kernel is None or len(kernel.shape) != 4:
            raise fail("layer", "a 2-D convolution (Conv2D) layer", name)
        k = np.asarray(kernel).mean(axis=2)  # (kh, kw, F)
        k = np.transpose(k, (2, 0, 1)).astype(np.float32)
        return _select(k, channels, 0, k.shape[0])
