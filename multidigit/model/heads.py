"""Output heads: one per digit position, named ``digit_0``, ``digit_1``...

The one place that knows how heads are named and found in a Keras model; training,
evaluation, the explainers and the plots all ask here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit._param_validation import Body, Int, fail, validate_params

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["head_names", "model_head_names", "head_output_layer", "resolve_heads",
           "predict_heads"]


@validate_params({"n_digits": Int(min=1)})
def head_names(n_digits: int = 3) -> list[str]:
    """Names of the output heads, one per digit position: ``digit_0``, ``digit_1``...

    Examples
    --------
    >>> head_names(3)
    ['digit_0', 'digit_1', 'digit_2']
    """
    return [f"digit_{i}" for i in range(int(n_digits))]


def _is_head(name: str) -> bool:
    return name.startswith("digit_") and name[6:].isdigit()


@validate_params({"model": Body("a keras.Model (its outputs named digit_k)")})
def model_head_names(model: "keras.Model") -> list[str]:
    """Output names of ``model`` in head order (``digit_0``, ``digit_1``...).

    Models built by :func:`multidigit.build_model` name their outputs ``digit_<i>``;
    any other model keeps the order of its outputs.

    Examples
    --------
    >>> import keras
    >>> x = keras.Input((4,))
    >>> m = keras.Model(x, {"digit_1": keras.layers.Dense(2, name="digit_1")(x),
    ...                     "digit_0": keras.layers.Dense(2, name="digit_0")(x)})
    >>> model_head_names(m)
    ['digit_0', 'digit_1']
    """
    names = list(getattr(model, "output_names", None) or [])
    if not names:
        names = [t.name.split("/")[0] for t in model.outputs]
    if names and all(_is_head(n) for n in names):
        return sorted(names, key=lambda n: int(n[6:]))
    return names


@validate_params({
    "model": Body("a keras.Model with digit_k heads"),
    "head_index": Int(),
})
def head_output_layer(model: "keras.Model", head_index: int) -> Any:
    """The Keras layer (operation) producing head ``head_index``."""
    name = model_head_names(model)[head_index]
    try:
        return model.get_layer(name)
    except ValueError:
        return model.outputs[head_index]._keras_history.operation


@validate_params({
    "model": Body("a keras.Model with digit_k heads"),
    "head": Body("'all', a head index or a head name"),
})
def resolve_heads(model: "keras.Model", head: Any) -> list[int]:
    """Head indices selected by ``head``: ``"all"``, an index, or a head name.

    Examples
    --------
    >>> import keras
    >>> x = keras.Input((4,))
    >>> m = keras.Model(x, [keras.layers.Dense(2, name=f"digit_{i}")(x) for i in range(3)])
    >>> resolve_heads(m, "all"), resolve_heads(m, -1), resolve_heads(m, "digit_1")
    ([0, 1, 2], [2], [1])
    """
    names = model_head_names(model)
    if isinstance(head, str) and head == "all":
        return list(range(len(names)))
    if isinstance(head, (int, np.integer)) and not isinstance(head, bool):
        i = int(head)
        if -len(names) <= i < len(names):
            return [i % len(names)]
    elif isinstance(head, str) and head in names:
        return [names.index(head)]
    raise fail("head", f"'all', an index in 0..{len(names) - 1} or one of "
               + ", ".join(map(repr, names)), head)


@validate_params({
    "model": Body("a keras.Model with digit_k heads"),
    "images": Body("an array the model reads (Keras checks it)"),
    "batch_size": Int(min=1),
})
def predict_heads(model: "keras.Model", images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Per-head outputs of ``model`` on ``images``, shape ``(N, heads, classes)``."""
    names = model_head_names(model)
    out = []
    for start in range(0, len(images), batch_size):
        y = model(images[start : start + batch_size], training=False)
        if isinstance(y, dict):
            y = [y[n] for n in names]
        elif not isinstance(y, (list, tuple)):
            y = [y]
        out.append(np.stack([np.asarray(v) for v in y], axis=1))
    return np.concatenate(out, axis=0)
