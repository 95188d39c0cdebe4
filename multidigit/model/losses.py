"""The four activation x loss objectives, computed stably from the logits.

:func:`multidigit.build_model` (``objective="exact"``, the default) trains the loss of
the activation's *outputs*: binary cross-entropy of softmax probabilities is a
different objective from binary cross-entropy of sigmoid outputs.  Keras'
TensorFlow backend does not do that on its own: its softmax / sigmoid cache their
input logits on the output tensor (``_keras_logits``) and its cross-entropies use
them whenever they find them, so softmax + binary CE silently trains sigmoid + binary
CE (see :doc:`/how_it_works`).  ``objective="keras"`` keeps that behaviour.

How the logits reach the loss, on every backend
-----------------------------------------------
* :class:`ProbabilityHead` (the ``digit_k`` layers) is a ``Dense`` layer that returns
  probabilities, as before, and remembers the logits of the probabilities it just
  returned (keyed by the identity of the output tensor).
* :class:`MultiDigitModel.compute_loss` swaps each head's probabilities for the
  logits that produced them before Keras' compiled loss sees them; the compiled
  losses are :class:`HeadCrossEntropy` objects, which take logits.
* Probabilities the model did not just produce (``model.compute_loss`` called with
  stored predictions) are turned back into logits (``log p`` for softmax, ``log p -
  log(1 - p)`` for sigmoid): exact for unsaturated outputs; saturated ones are
  clipped.

The formulas (``z``: the logits of one head, ``y``: its one-hot target)
-----------------------------------------------------------------------
============ ======================== ==================================================
activation   loss                     per-image value
============ ======================== ==================================================
softmax      categorical CE           ``-sum_i y_i log_softmax(z)_i``
sigmoid      binary CE                ``mean_i softplus(z_i) - y_i z_i``
softmax      binary CE                ``-mean_i y_i log p_i + (1-y_i) log(1-p_i)``, with
                                      ``log(1-p_i) = logsumexp_{j!=i} z_j - logsumexp z``
sigmoid      categorical CE           ``-sum_i y_i log(s_i / sum_j s_j)``, ``s = sigmoid(z)``
                                      (Keras' reading: the outputs are rescaled to sum to
                                      one first), ``log s = log_sigmoid(z)``
============ ======================== ==================================================

Examples
--------
>>> import numpy as np
>>> from multidigit.model.losses import cross_entropy_from_logits
>>> z = np.array([[1e4, 0.0, -1e4]], "float32")
>>> y = np.array([[0.0, 1.0, 0.0]], "float32")  # confidently wrong: large, finite
>>> round(float(cross_entropy_from_logits(y, z, "softmax", "binary_crossentropy")[0]), 1)
6666.7
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from multidigit._param_validation import Choice, Free, check_choice, validate_params

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OBJECTIVES",
    "HeadCrossEntropy",
    "cross_entropy_from_logits",
    "logits_from_probabilities",
]

ACTIVATIONS = ("softmax", "sigmoid")
LOSSES = ("categorical_crossentropy", "binary_crossentropy")
#: ``"exact"``: the loss of the activation's outputs (from the logits);
#: ``"keras"``: Keras' own losses on the probabilities (TensorFlow: its logits shortcut).
OBJECTIVES = ("exact", "keras")

_PACKAGE = "multidigit"


def _log1m_softmax(z: Any) -> Any:
    """``log(1 - softmax(z)_i)`` for every ``i``: ``logsumexp_{j != i} z_j - logsumexp z``.

    ``1 - p_i`` cancels catastrophically once ``p_i`` rounds to 1; the sum over the
    other logits does not.  The row ``i`` of ``others`` is ``z`` with ``z_i`` masked.
    """
    n = ops.shape(z)[-1]
    eye = ops.cast(ops.eye(n), "bool")
    others = ops.where(eye, -float("inf"), ops.expand_dims(z, -2))  # (..., n, n)
    return ops.logsumexp(others, axis=-1) - ops.logsumexp(z, axis=-1, keepdims=True)


# Declared although the losses run inside Keras' compiled train step: the rules run in
# Python, once per trace (not per step), and only on the two option strings.
_TENSOR = Free("an array or tensor; Keras ops check its shape and dtype")


@validate_params({"y_true": _TENSOR, "logits": _TENSOR, "activation": Choice(ACTIVATIONS),
                  "loss": Choice(LOSSES)})
def cross_entropy_from_logits(y_true: Any, logits: Any, activation: str, loss: str) -> Any:
    """Per-image cross-entropy ``loss`` of ``activation(logits)`` against ``y_true``.

    Parameters
    ----------
    y_true : array (..., classes)
        One-hot targets.
    logits : array (..., classes)
        The head's pre-activation outputs.
    activation : {"softmax", "sigmoid"}
    loss : {"categorical_crossentropy", "binary_crossentropy"}

    Returns
    -------
    tensor (...)
        Binary CE is the mean over the classes and categorical CE their sum, as in Keras.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.eye(3, dtype="float32")[[0]]
    >>> z = np.zeros((1, 3), "float32")
    >>> round(float(cross_entropy_from_logits(y, z, "softmax", "categorical_crossentropy")[0]), 4)
    1.0986
    """
    z = ops.convert_to_tensor(logits)
    y = ops.cast(ops.convert_to_tensor(y_true), z.dtype)
    if activation == "softmax":
        log_p = ops.log_softmax(z, axis=-1)
        if loss == "categorical_crossentropy":
            return -ops.sum(y * log_p, axis=-1)
        log_q = _log1m_softmax(z)
    else:
        log_p = ops.log_sigmoid(z)
        if loss == "categorical_crossentropy":
            # Keras' categorical CE of probabilities rescales them to sum to one.
            log_p = log_p - ops.logsumexp(log_p, axis=-1, keepdims=True)
            return -ops.sum(y * log_p, axis=-1)
        log_q = ops.log_sigmoid(-z)  # log(1 - sigmoid(z))
    return -ops.mean(y * log_p + (1.0 - y) * log_q, axis=-1)


@validate_params({"probabilities": _TENSOR, "activation": Choice(ACTIVATIONS)})
def logits_from_probabilities(probabilities: Any, activation: str) -> Any:
    """Logits that give back ``probabilities`` (clipped where they saturated).

    ``softmax`` is invariant to adding a constant, so ``log p`` serves; ``sigmoid``
    inverts exactly as ``log p - log(1 - p)``.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.25, 0.75]], "float32")
    >>> [round(float(v), 4) for v in np.asarray(logits_from_probabilities(p, "sigmoid"))[0]]
    [-1.0986, 1.0986]
    """
    p = ops.convert_to_tensor(probabilities)
    # float32's smallest normal number and its largest value below 1: every output a
    # float32 head can give maps to a finite logit, the unsaturated ones exactly
    tiny, below_one = 1.1754944e-38, 1.0 - 2.0**-24
    if activation == "softmax":
        return ops.log(ops.clip(p, tiny, 1.0))
    p = ops.clip(p, tiny, below_one)
    return ops.log(p) - ops.log1p(-p)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class HeadCrossEntropy(keras.losses.Loss):
    """Cross-entropy of one head's ``activation`` outputs, given the head's LOGITS.

    :class:`MultiDigitModel` feeds it logits; used on its own it is a from-logits
    loss like ``keras.losses.CategoricalCrossentropy(from_logits=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> loss = HeadCrossEntropy("sigmoid", "binary_crossentropy")
    >>> round(float(loss(np.eye(2, dtype="float32"), np.zeros((2, 2), "float32"))), 4)
    0.6931
    """

    def __init__(self, activation: str = "softmax", loss: str = "binary_crossentropy",
                 name: str | None = None, reduction: str = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        check_choice("activation", activation, ACTIVATIONS, "HeadCrossEntropy")
        check_choice("loss", loss, LOSSES, "HeadCrossEntropy")
        super().__init__(name=name or f"{activation}_{loss}", reduction=reduction,
                         dtype=dtype)
        self.activation = activation
        self.loss = loss

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return cross_entropy_from_logits(y_true, y_pred, self.activation, self.loss)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": self.activation, "loss": self.loss}


def __getattr__(name: str) -> object:
    # names that moved to another module keep working here for one release
    if name in {"ProbabilityHead", "MultiDigitModel"}:
        import importlib
        import warnings

        warnings.warn(f"{__name__}.{name} moved to multidigit.model.outputs.{name}; "
                      "import it from there (the old path goes in the next release).",
                      FutureWarning, stacklevel=2)
        return getattr(importlib.import_module("multidigit.model.outputs"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
