"""The model's output side: probability heads that remember their logits, and the
model class that hands those logits to the loss (see :mod:`multidigit.model.losses`).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["MultiDigitModel", "ProbabilityHead"]

_PACKAGE = "multidigit"


class _Recent:
    """The last few (output tensor -> logits) pairs of a head.

    Keyed by the output's identity; the entry keeps the output alive, so its ``id``
    cannot be reused while remembered.  A plain object (not a dict attribute) so that
    Keras' attribute tracking leaves it alone; several entries because replicas of a
    distributed step may interleave.
    """

    __slots__ = ("items",)
    size = 16

    def __init__(self) -> None:
        self.items: dict[int, tuple[Any, Any]] = {}

    def put(self, output: Any, logits: Any) -> None:
        if len(self.items) >= self.size:
            self.items.pop(next(iter(self.items)))
        self.items[id(output)] = (output, logits)

    def get(self, output: Any) -> Any:
        hit = self.items.get(id(output))
        return hit[1] if hit is not None and hit[0] is output else None


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ProbabilityHead(keras.layers.Dense):
    """A ``Dense`` output head that returns probabilities and remembers their logits.

    Behaves as ``Dense(units, activation=...)`` (the explainers read its kernel and
    bias); :meth:`logits_of` gives the logits behind an output it just returned.
    """

    def __init__(self, units: int, activation: Any = None, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self._recent = _Recent()

    def call(self, inputs: Any, training: Any = None) -> Any:
        logits = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            logits = ops.add(logits, self.bias)
        outputs = self.activation(logits) if self.activation is not None else logits
        self._recent.put(outputs, logits)
        return outputs

    def logits_of(self, outputs: Any) -> Any:
        """The logits of ``outputs`` if this head just produced them, else ``None``."""
        return self._recent.get(outputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MultiDigitModel(keras.Model):
    """A functional model whose compiled :class:`HeadCrossEntropy` losses get logits.

    Its outputs stay the heads' probabilities (``predict``, ``evaluate``, the
    explainers); only :meth:`compute_loss` sees the logits.
    """

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Any:
        """Keras' compiled loss, with each head's probabilities swapped for its logits.

        The logits come from the :class:`ProbabilityHead` that just produced ``y_pred``
        (or, for stored predictions, from :func:`logits_from_probabilities`).
        """
        if isinstance(y_pred, dict):
            y_pred = {name: self._logits(name, out) for name, out in y_pred.items()}
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                    training=training)

    def _logits(self, name: str, outputs: Any) -> Any:
        # imported at call time: multidigit.model.losses registers this module's
        # classes as it imports keras (multidigit._keras_objects)
        from multidigit.model.losses import logits_from_probabilities

        try:
            head = self.get_layer(name)
        except ValueError:
            return outputs
        if not isinstance(head, ProbabilityHead):
            return outputs
        logits = head.logits_of(outputs)
        if logits is None:  # predictions made earlier (e.g. by predict): invert them
            logits = logits_from_probabilities(outputs, head.activation.__name__)
        return logits
