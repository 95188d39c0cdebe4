"""Guided backpropagation (Springenberg et al. 2015), hand-written.

Hand-written because tf-keras-vis' ``GuidedBackpropagation`` modifier assigns a new
activation to the layers of the model it is given: we apply the same idea to a private
*clone* (``keras.models.clone_model``) whose ReLU activations are replaced by a
``tf.custom_gradient`` ReLU that only lets positive gradients through positive inputs.
The user's model is never touched; the clone's weights are re-synchronised from the
model on every call, so it stays correct if the model is trained further.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from multidigit.explanation.methods._common import cached
from multidigit.explanation.methods.base import COMMON_DEFAULTS, Explainer


def _guided_relu() -> Any:
    import tensorflow as tf

    @tf.custom_gradient
    def guided_relu(x: Any) -> Any:
        def grad(dy: Any) -> Any:
            return dy * tf.cast(dy > 0, dy.dtype) * tf.cast(x > 0, dy.dtype)

        return tf.nn.relu(x), grad

    return guided_relu


def _guided_clone(model: Any) -> Any:
    import keras

    def build() -> Any:
        clone = keras.models.clone_model(model)
        relu = keras.activations.relu
        guided = _guided_relu()
        for layer in clone.layers:
            act = getattr(layer, "activation", None)
            if act is relu or getattr(act, "__name__", "") == "relu":
                layer.activation = guided  # the clone only
        return clone

    return cached(model, "guided_clone", build)


def _sync_weights(src: Any, dst: Any) -> None:
    for a, b in zip(src.weights, dst.weights):
        b.assign(a)


class GuidedBackpropExplainer(Explainer):
    """Guided backpropagation: input gradient with ReLUs passing only positive signal.

    Options
    -------
    score : {"logit", "probability"}, default "logit"
    absolute : bool, default True
        Magnitude of the guided gradient (max over channels); else its signed sum.
    normalize : bool, default True
        Scale each map to [0, 1].

    Returns ``(n, H, W)`` maps.
    """

    backends = ("tensorflow",)
    name = "guided_backprop"
    common_options = dict(COMMON_DEFAULTS)

    def attribute(
        self,
        model: Any,
        images: np.ndarray,
        targets: np.ndarray,
        head_index: int,
        *,
        score: str = "logit",
    ) -> np.ndarray:
        from multidigit.explanation.methods.gradients import input_gradient_fn

        clone = _guided_clone(model)
        _sync_weights(model, clone)
        # The clone's input gradient *is* guided backprop: its ReLUs are guided.
        fn = input_gradient_fn(clone, score, owner=model)
        return fn(
            np.asarray(images, np.float32), np.asarray(targets, np.int32), np.int32(head_index)
        ).numpy()
