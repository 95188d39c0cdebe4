"""Shared helpers for the built-in explainers: sub-models, score functions, caching.

Every helper builds *new* Keras models on top of the user's layers (sharing their
weights, changing nothing) and caches them, with their compiled ``tf.function``, per
model, so repeated calls do not retrace.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .._param_validation import fail
from ..heads import head_output_layer, model_head_names
from ..windows import windows_layer
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


class WindowView(NamedTuple):
    """How a model with ``digit_windows`` sees an image (see :func:`window_view`)."""

    #: the windows layer's output tensor (input of a sub-model on the windowed image)
    tensor: Any
    #: ``images -> windowed images``
    cut: Callable[[Any], Any]
    #: ``(images, maps on the windowed image (n, h, w)) -> maps (n, H, W) on the images``
    to_image: Callable[[Any, Any], Any]
    #: ``(h, w)`` of the windowed image
    size: tuple[int, int]


def window_view(model: "keras.Model") -> WindowView | None:
    """For a model with a ``digit_windows`` layer (its convolutions see the windowed
    image, not the image), the functions that go to and back from that image; else
    None.  TensorFlow ops: usable eagerly and inside ``tf.function``."""
    windows = windows_layer(model)
    if windows is None:
        return None

    def build() -> WindowView:
        import keras
        import tensorflow as tf

        before = keras.Model(model.inputs[0], windows.input)  # the image the windows cut
        h_in, w_in = (int(d) for d in windows.input.shape[1:3])
        height, width = (int(d) for d in model.inputs[0].shape[1:3])

        def cut(x: Any) -> Any:
            return windows(before(x, training=False))

        def to_image(x: Any, maps: Any) -> Any:
            maps = tf.convert_to_tensor(maps, tf.float32)
            tops, lefts = windows.origins(before(x, training=False))
            out = windows.restore(maps, tops, h_in, w_in, lefts)
            if (h_in, w_in) != (height, width):
                out = tf.image.resize(out[..., None], (height, width), method="bilinear")
                out = out[..., 0]
            return out

        size = (int(windows.output.shape[1]), int(windows.output.shape[2]))
        return WindowView(windows.output, cut, to_image, size)

    return cached(model, "window_view", build)


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
    from ..models import conv_layer_names

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


def head_region(model: "keras.Model", images: Any, head_index: int) -> np.ndarray:
    """Where head ``head_index`` reads, as a ``(n, H, W)`` mask in [0, 1].

    For a model with ``digit_windows`` (head ``k`` reads window ``k``), window ``k``'s
    columns of the windowed image, put back on the image by the windows' own
    ``restore`` (so the region follows the windows wherever they are cut); for other
    models, digit ``k``'s column strip of the Triple MNIST layout
    (:func:`multidigit.data.boxes.strip_bounds`, one strip per head).
    """
    x = np.asarray(images, np.float32)
    n, height, width = x.shape[:3]
    view = window_view(model)
    if view is None:
        from ..data.boxes import strip_bounds

        left, right = strip_bounds(width, len(model_head_names(model)))[head_index]
        mask = np.zeros((n, height, width), np.float32)
        mask[:, :, left:right] = 1.0
        return mask
    n_windows = windows_layer(model).n_digits
    h, w = view.size
    mask = np.zeros((n, h, w), np.float32)
    k = min(int(head_index), n_windows - 1)
    mask[:, :, k * w // n_windows:(k + 1) * w // n_windows] = 1.0
    return np.clip(np.asarray(view.to_image(x, mask), np.float32), 0.0, 1.0)


def restrict_to_head_region(model: "keras.Model", images: Any, maps: np.ndarray,
                            head_index: int, restrict: Any, func: str) -> np.ndarray:
    """``maps`` times :func:`head_region` when ``restrict`` (``None``: only for models
    with ``digit_windows``, whose head ``k`` reads nothing but window ``k``)."""
    from .._param_validation import check_bool

    if restrict is None:
        restrict = window_view(model) is not None
    if not check_bool("restrict_to_head", bool(restrict) if isinstance(restrict, np.bool_)
                      else restrict, func):
        return maps
    return maps * head_region(model, images, head_index)
