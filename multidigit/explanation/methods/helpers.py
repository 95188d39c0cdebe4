"""Public helpers for explainer plugins: the model's heads, scores and digit windows.

What a third-party explainer needs to work on any multidigit model, the windowed ones
included (the default preset reads each digit in a window cut around its ink, layer
``digit_windows``: its convolutions see the *windowed* image, not the image).  The
built-in explainers use the same functions.  See :doc:`/writing_plugins`.

=========================== ===========================================================
:func:`window_view`         how a windowed model sees an image, and the way back
:func:`score_model`         one sub-model: ``x -> [layer output,] every head's features``
:func:`head_layers`         the output layer of every head
:func:`target_scores`       the logit or probability of the target digit on one head
:func:`head_region`         where a head reads, as a mask on the image
:func:`cached`              memoise a sub-model or compiled function per model
=========================== ===========================================================

Every helper builds *new* Keras models on top of the user's layers (sharing their
weights, changing nothing) and caches them per model, so repeated calls do not retrace.

Examples
--------
>>> import multidigit as md
>>> from multidigit.explanation.methods.helpers import score_model, window_view
>>> model = md.build_model(preset="small", input_shape=(28, 84, 1), seed=0)
>>> window_view(model) is None                  # the small preset has no windows
True
>>> [tuple(t.shape) for t in score_model(model).outputs]   # each head's input features
[(None, 64), (None, 64), (None, 64)]
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from multidigit._param_validation import Body, Check, Choice, Free, Int, fail, validate_params
from multidigit.model.heads import head_output_layer, model_head_names
from multidigit.model.windows import windows_layer

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["WindowView", "window_view", "score_model", "head_layers", "target_scores",
           "head_region", "cached", "as_list"]

_CACHE: "weakref.WeakKeyDictionary[Any, dict[Any, Any]]" = weakref.WeakKeyDictionary()


def _check_callable(factory: Any) -> None:
    if not callable(factory):
        raise fail("factory", "a callable (called once, with no arguments)", factory)


#: the user's model: any keras.Model; one without digit_k heads fails in the body
_MODEL = Body("a keras.Model with digit_k heads")


@validate_params({
    "model": Free("any object; one that cannot be weakly referenced is not cached"),
    "key": Free("any hashable value"),
    "factory": Check(_check_callable, invalid=42),
})
def cached(model: Any, key: Any, factory: Callable[[], Any]) -> Any:
    """``factory()``, memoised per ``(model, key)`` and freed with the model.

    Parameters
    ----------
    model : object
        What the result belongs to (usually the user's Keras model); an object that
        cannot be weakly referenced is not cached.
    key : hashable
        Which result, e.g. ``("my_explainer", layer_name)``.
    factory : callable
        Builds the result (a sub-model, a ``tf.function``) on the first call.

    Returns
    -------
    object
        What ``factory`` returned, the same object on every later call.

    Examples
    --------
    >>> class Model:  # any weakly referenceable object
    ...     pass
    >>> m = Model()
    >>> cached(m, "answer", lambda: [42]) is cached(m, "answer", lambda: [0])
    True
    """
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


@validate_params({"model": _MODEL})
def window_view(model: "keras.Model") -> WindowView | None:
    """How a model with a ``digit_windows`` layer sees an image, and the way back.

    Its convolutions see the windowed image (the digits' windows side by side), not
    the image: a map computed on a convolution layer is in windowed-image
    coordinates and must be put back on the image with ``to_image``.

    Parameters
    ----------
    model : keras.Model
        Any multidigit model.

    Returns
    -------
    WindowView or None
        ``tensor`` (the windows layer's output, to build sub-models on), ``cut``
        (``images -> windowed images``), ``to_image`` (``(images, maps (n, h, w)) ->
        maps (n, H, W)``) and ``size`` (``(h, w)`` of the windowed image): TensorFlow
        ops, usable eagerly and inside ``tf.function``.  ``None`` for a model without
        windows (its maps are already on the image).

    Examples
    --------
    >>> import numpy as np
    >>> import multidigit as md
    >>> model = md.build_model(seed=0)              # the default preset has windows
    >>> view = window_view(model)
    >>> view.size
    (28, 84)
    >>> x = np.zeros((2, 84, 84, 1), np.float32)
    >>> np.asarray(view.cut(x)).shape, np.asarray(view.to_image(x, np.ones((2, 28, 84)))).shape
    ((2, 28, 84, 1), (2, 84, 84))
    """
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


@validate_params({
    "model": _MODEL,
    "layer": Body("None or a layer name (Keras' get_layer refuses an unknown one)"),
    "owner": Free("None or any object to cache the sub-model on"),
})
def score_model(model: "keras.Model", layer: str | None = None, owner: Any = None) -> Any:
    """A sub-model ``x -> [layer output,] input features of every head``.

    Stopping at the heads' *inputs* lets :func:`target_scores` compute a target's
    logit (features @ kernel + bias) instead of cloning the model and switching the
    heads' activation to linear, the way tf-keras-vis' ``ReplaceToLinear`` does.  All
    heads come out of one forward pass, so one compiled function serves every head.

    Parameters
    ----------
    model : keras.Model
        Any multidigit model (never modified).
    layer : str, optional
        Also output this layer (e.g. the last convolution, for a CAM method).
    owner : object, optional
        Cache the sub-model on this object rather than on ``model`` (for a sub-model
        of a clone that must be freed with the user's model).

    Returns
    -------
    keras.Model
        Outputs ``[layer output,] features of head 0, head 1, ...`` (a list; a bare
        tensor for a one-head model without ``layer``: see :func:`as_list`).

    Examples
    --------
    >>> import numpy as np
    >>> import multidigit as md
    >>> model = md.build_model(preset="small", input_shape=(28, 84, 1), seed=0)
    >>> outs = score_model(model, "conv_2")(np.zeros((1, 28, 84, 1)))
    >>> len(outs), tuple(outs[1].shape)                # conv_2, then 3 heads
    (4, (1, 64))
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


@validate_params({"model": _MODEL})
def head_layers(model: "keras.Model") -> list[Any]:
    """The output layers of every head, in head order.

    Examples
    --------
    >>> import multidigit as md
    >>> model = md.build_model(preset="small", input_shape=(28, 84, 1), seed=0)
    >>> [layer.name for layer in head_layers(model)]
    ['digit_0', 'digit_1', 'digit_2']
    """
    return [head_output_layer(model, k) for k in range(len(model_head_names(model)))]


# called while a compiled function is traced (its rules run then, not per step)
@validate_params({
    "heads": Free("the output of head_layers"),
    "features": Free("the output of score_model; TensorFlow checks the shapes"),
    "score": Choice(("logit", "probability")),
    "head": Free("a head index or a scalar tensor; tf.gather checks it"),
    "targets": Free("(n,) digit indices or a tensor; tf.gather checks them"),
})
def target_scores(heads: Sequence[Any], features: Sequence[Any], score: str, head: Any,
                  targets: Any) -> Any:
    """Score ``(n,)`` of digit ``targets`` on head ``head``, from the heads' features.

    Every head's scores are computed (cheap: one small Dense each) and the wanted one
    gathered, so ``head`` can be a tensor and a compiled function is traced once.

    Parameters
    ----------
    heads : list of keras layers
        :func:`head_layers` (closures capture them, not the model, so a per-model
        cache does not keep the model alive).
    features : list of tensors
        The heads' input features, as :func:`score_model` returns them.
    score : {"logit", "probability"}
        The logit (before the head's activation) or the head's output.
    head : int or scalar tensor
        Which head.
    targets : int array ``(n,)``
        The digit to score, per image.

    Returns
    -------
    tf.Tensor
        ``(n,)`` scores, differentiable with respect to the input.

    Examples
    --------
    >>> import numpy as np
    >>> import multidigit as md
    >>> model = md.build_model(preset="small", input_shape=(28, 84, 1), seed=0)
    >>> feats = score_model(model)(np.zeros((2, 28, 84, 1)))
    >>> s = target_scores(head_layers(model), feats, "probability", 1, np.array([3, 7]))
    >>> p = model.predict(np.zeros((2, 28, 84, 1)), verbose=0)["digit_1"]
    >>> np.allclose(np.asarray(s), p[[0, 1], [3, 7]], atol=1e-6)
    True
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
    """A sub-model's outputs as a list: Keras returns a bare tensor for one output.

    Examples
    --------
    >>> as_list("tensor"), as_list(("a", "b"))
    (['tensor'], ['a', 'b'])
    """
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


@validate_params({
    "model": _MODEL,
    "images": Free("an (n, H, W[, C]) batch; NumPy checks it"),
    "head_index": Int(min=0),
})
def head_region(model: "keras.Model", images: Any, head_index: int) -> np.ndarray:
    """Where head ``head_index`` reads, as a ``(n, H, W)`` mask in [0, 1].

    For a model with ``digit_windows`` (head ``k`` reads window ``k``), window ``k``'s
    columns of the windowed image, put back on the image by the windows' own
    ``restore`` (so the region follows the windows wherever they are cut); for other
    models, digit ``k``'s column strip of the Triple MNIST layout
    (:func:`multidigit.data.boxes.strip_bounds`, one strip per head).

    Examples
    --------
    >>> import numpy as np
    >>> import multidigit as md
    >>> model = md.build_model(preset="small", input_shape=(28, 84, 1), seed=0)
    >>> mask = head_region(model, np.zeros((1, 28, 84, 1)), 1)
    >>> mask.shape, mask[0, 0, [27, 28, 55, 56]].tolist()    # the middle strip
    ((1, 28, 84), [0.0, 1.0, 1.0, 0.0])
    """
    x = np.asarray(images, np.float32)
    n, height, width = x.shape[:3]
    view = window_view(model)
    if view is None:
        from multidigit.data.boxes import strip_bounds

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
