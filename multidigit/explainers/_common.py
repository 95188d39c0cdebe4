"""Shared helpers for the built-in explainers: sub-models, score functions, caching.

Every helper builds *new* Keras models on top of the user's layers (sharing their
weights, changing nothing) and caches them, with their compiled ``tf.function``, per
model, so repeated calls do not retrace.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._param_validation import fail
from ..heads import head_output_layer, model_head_names
from .base import SCORES, normalize_maps  # noqa: F401  (re-exported for the built-ins)

if TYPE_CHECKING:  # pragma: no cover
    import keras

_CACHE: "weakref.WeakKeyDictionary[Any, dict[Any, Any]]" = weakref.WeakKeyDictionary()

def cached(model: Any, key: Any, factory: Callable[[], Any]) -> Any:
    """``factory()`` memoised per (model, key); freed with the model."""
    try:
        per_model = _CACHE.setdefault(model, {})
    except TypeError:  # not weak-referenceable: no caching
        return factory()
    if key not in per_model:
        per_model[key] = factory()
    return per_model[key]


def layer_names(model: "keras.Model") -> list[str]:
    return [layer.name for layer in model.layers]


def resolve_layer(model: "keras.Model", layer: Any, default: str) -> str:
    """Name of the layer to use: ``layer`` (name or index) or ``default``."""
    if layer is None:
        return default
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        try:
            return model.layers[int(layer)].name
        except IndexError:
            pass
    elif isinstance(layer, str) and layer in layer_names(model):
        return layer
    from ..models import conv_layer_names

    raise fail("layer", f"a layer name or index of model {model.name!r}; its convolution "
               f"layers are {', '.join(conv_layer_names(model)) or '(none)'} (all layers: "
               f"{', '.join(layer_names(model))})", layer, "explain")


def score_model(model: "keras.Model", layer: str | None = None, owner: Any = None) -> Any:
    """A sub-model ``x -> [layer output,] input features of every head``.

    Stopping at the heads' *inputs* lets us compute a target's logit ourselves
    (features @ kernel + bias) instead of cloning the model and switching the heads'
    activation to linear the way tf-keras-vis' ``ReplaceToLinear`` does.  All heads
    come out of one forward pass, so one compiled function serves every head.
    """
    import keras

    def build() -> Any:
        n = len(model_head_names(model))
        outs = [head_output_layer(model, k).input for k in range(n)]
        if layer is not None:
            outs = [model.get_layer(layer).output, *outs]
        return keras.Model(model.inputs[0], outs, name=f"scores_{layer}")

    # ``owner``: cache on another object (guided backprop caches its clone's sub-model
    # on the user's model, so the clone is freed with it)
    return cached(model if owner is None else owner, ("score_model", layer, owner is None),
                  build)


def head_layers(model: "keras.Model") -> list[Any]:
    """The output layers of every head, in head order."""
    return [head_output_layer(model, k) for k in range(len(model_head_names(model)))]


def target_scores(heads: Sequence[Any], features: Sequence[Any], score: str, head: Any,
                  targets: Any) -> Any:
    """Score ``(n,)`` of digit ``targets`` on head ``head`` (a scalar tensor).

    ``heads`` are the head layers (:func:`head_layers`; closures capture them, not
    the model, so the per-model cache does not keep the model alive).  Every head's
    scores are computed (cheap: one small Dense each) and the wanted one gathered, so
    ``head`` can be a tensor and the compiled function is traced once.
    """
    import keras
    import tensorflow as tf

    per_head = []
    for layer, feats in zip(heads, as_list(features)):
        if score == "logit" and isinstance(layer, keras.layers.Dense):
            s = tf.matmul(feats, layer.kernel)
            if layer.use_bias:
                s = s + layer.bias
        else:
            s = layer(feats, training=False)
        per_head.append(s)
    scores = tf.gather(tf.stack(per_head, axis=1), head, axis=1)  # (n, classes)
    return tf.gather(scores, targets, batch_dims=1)


def as_list(outputs: Any) -> list[Any]:
    """A sub-model's outputs as a list: Keras returns a bare tensor for one output."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def image_spec(model: "keras.Model") -> Any:
    import tensorflow as tf

    return tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)
