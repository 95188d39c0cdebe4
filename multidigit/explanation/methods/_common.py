"""Shared helpers for the built-in explainers: sub-models, score functions, caching.

The ones a plugin needs too are public in :mod:`multidigit.explanation.methods.helpers` and
imported here under their usual names; this module keeps those only the built-ins use.
Every helper builds *new* Keras models on top of the user's layers (sharing their
weights, changing nothing) and caches them, with their compiled ``tf.function``, per
model, so repeated calls do not retrace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit._param_validation import fail
from multidigit.explanation.methods.base import SCORES, normalize_maps  # noqa: F401  (re-exported for the built-ins)
from multidigit.explanation.methods.helpers import (  # noqa: F401  (the public helpers, under the built-ins' names)
    WindowView,
    as_list,
    cached,
    head_layers,
    head_region,
    score_model,
    target_scores,
    window_view,
)
from multidigit.model.windows import windows_layer

if TYPE_CHECKING:  # pragma: no cover
    import keras


def windowed_model(model: "keras.Model") -> Any:
    """A copy of a model with ``digit_windows`` whose input is the windowed image.

    For explainers that must see the convolutions' own input (Score-CAM masks it
    with the conv maps): the layers after ``digit_windows``, rebuilt from the model's
    config with an input layer in its place, weights copied from ``model`` on every
    call (so it follows further training; the user's model is not touched).  A copy
    rather than the same layers called again: a second call would give every layer
    two outputs, and ``model.get_layer(name).output`` would stop working.
    """
    import keras

    windows = windows_layer(model)

    def build() -> Any:
        config = model.get_config()
        upstream = _upstream(config, windows.name)
        image = next(c for c in config["layers"] if c["class_name"] == "InputLayer")
        new_input = {**image, "name": windows.name,
                     "config": {**image["config"], "name": windows.name,
                                "batch_shape": [None, *windows.output.shape[1:]]}}
        config["layers"] = [new_input] + [c for c in config["layers"]
                                          if c["name"] not in upstream]
        config["input_layers"] = [windows.name, 0, 0]
        return keras.Model.from_config(config)

    copy = cached(model, "windowed_model", build)
    for layer in copy.layers:
        if layer.weights:
            for a, b in zip(model.get_layer(layer.name).weights, layer.weights):
                b.assign(a)
    return copy


def _upstream(config: dict[str, Any], name: str) -> set[str]:
    """Names of the layer ``name`` and every layer it reads from, in a model config."""
    by_name = {c["name"]: c for c in config["layers"]}
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(_history_names(by_name[current].get("inbound_nodes", [])))
    return seen


def _history_names(obj: Any) -> list[str]:
    """Layer names in the ``keras_history`` entries of a config fragment."""
    if isinstance(obj, dict):
        hist = obj.get("config", {}).get("keras_history") if obj.get(
            "class_name") == "__keras_tensor__" else None
        if hist:
            return [hist[0]]
        return [n for v in obj.values() for n in _history_names(v)]
    if isinstance(obj, (list, tuple)):
        return [n for v in obj for n in _history_names(v)]
    return []


def layer_names(model: "keras.Model") -> list[str]:
    return [layer.name for layer in model.layers]


def resolve_layer(model: "keras.Model", layer: Any, default: str) -> str:
    """Name of the layer to use: ``layer`` (name or index) or ``default``."""
    if layer is None:
        return default
    from multidigit.model.build import conv_layer_names

    name = None
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if -len(model.layers) <= int(layer) < len(model.layers):
            name = model.layers[int(layer)].name
    elif isinstance(layer, str) and layer in layer_names(model):
        name = layer
    convs = ", ".join(conv_layer_names(model)) or "(none)"
    if name is None:
        raise fail("layer", f"a layer name or index of model {model.name!r}; its "
                   f"convolution layers are {convs} (all layers: "
                   f"{', '.join(layer_names(model))})", layer, "explain")
    shape = getattr(model.get_layer(name).output, "shape", None)
    if shape is not None and len(shape) != 4:  # a head or dense layer: no image maps
        raise fail("layer", "a layer with image-shaped output (H, W, channels), e.g. a "
                   f"Conv2D layer: {convs}", f"{layer!r} (output shape {tuple(shape)})",
                   "explain")
    return name


def image_spec(model: "keras.Model") -> Any:
    import tensorflow as tf

    return tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)


def restrict_to_head_region(model: "keras.Model", images: Any, maps: np.ndarray,
                            head_index: int, restrict: Any) -> np.ndarray:
    """``maps`` times :func:`head_region` when ``restrict`` (``None``: only for models
    with ``digit_windows``, whose head ``k`` reads nothing but window ``k``)."""
    from multidigit._param_validation import check_bool

    if restrict is None:
        restrict = window_view(model) is not None
    if not check_bool("restrict_to_head", bool(restrict) if isinstance(restrict, np.bool_)
                      else restrict):
        return maps
    return maps * head_region(model, images, head_index)
