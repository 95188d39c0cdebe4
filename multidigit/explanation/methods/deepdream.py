"""DeepDream (Mordvintsev et al. 2015): gradient ascent on a layer's activations.

Hand-written (tf-keras-vis' ActivationMaximization starts from noise and optimises a
*score*, not real images with octaves).  The model's input size is fixed (its Flatten
layer), so an octave does not feed a smaller image to the model: the image is
*parameterised* at the octave's lower resolution and upsampled (bilinear, inside the
gradient) to the input size, coarse octaves first, keeping the detail lost by
downsampling the way the classic DeepDream loop does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from multidigit._param_validation import check_int, check_number
from multidigit.explanation.methods._common import cached, resolve_layer
from multidigit.explanation.methods.base import Explainer
from multidigit.model.build import last_conv_layer_name


def _step_fn(model: Any, layer: str, channels: tuple[int, ...] | None) -> Any:
    import keras
    import tensorflow as tf

    height, width, c = model.inputs[0].shape[1:]

    def build() -> Any:
        feat = keras.Model(model.inputs[0], model.get_layer(layer).output, name=f"dream_{layer}")

        @tf.function(
            input_signature=[
                tf.TensorSpec((None, None, None, c), tf.float32),
                tf.TensorSpec((), tf.float32),
            ],
            autograph=False,
        )
        def step(low: Any, step_size: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch(low)
                img = tf.image.resize(low, (height, width), method="bilinear")
                act = feat(img, training=False)
                if channels is not None:
                    act = tf.gather(act, list(channels), axis=-1)
                loss = tf.reduce_mean(act, axis=tuple(range(1, len(act.shape))))
            g = tape.gradient(loss, low)
            g = g / (tf.math.reduce_std(g, axis=(1, 2, 3), keepdims=True) + 1e-8)
            return tf.clip_by_value(low + step_size * g, 0.0, 1.0)

        return step

    return cached(model, ("deepdream", layer, channels), build)


class DeepDreamExplainer(Explainer):
    """Amplify what a layer sees: the images after gradient ascent on its activations.

    Does not depend on the head (``per_head = False``).

    Options
    -------
    layer : str or int, optional
        Layer whose mean activation is maximised; default the last convolution.
    channels : sequence of int, optional
        Maximise only these channels of the layer.
    octaves : int, default 3
        Number of resolutions, coarsest first.
    octave_scale : float, default 1.4
        Resolution ratio between consecutive octaves.
    steps : int, default 20
        Gradient-ascent steps per octave.
    step_size : float, default 0.01
        Step size (on the gradient normalised to unit standard deviation).

    Returns the dreamed images ``(n, H, W)`` (channels squeezed for grey images,
    ``(n, H, W, C)`` otherwise), values in [0, 1].
    """

    backends = ("tensorflow",)

    name = "deepdream"
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
        octaves: int = 3,
        octave_scale: float = 1.4,
        steps: int = 20,
        step_size: float = 0.01,
    ) -> np.ndarray:
        import tensorflow as tf

        check_int("octaves", octaves, min=1)
        check_int("steps", steps, min=0)
        check_number("octave_scale", octave_scale, min=1.0)
        check_number("step_size", step_size)
        name = resolve_layer(model, layer, last_conv_layer_name(model))
        chans = None if channels is None else tuple(int(c) for c in channels)
        step = _step_fn(model, name, chans)
        x = tf.constant(np.asarray(images, np.float32))
        h, w = x.shape[1:3]
        sizes = [
            (max(1, round(h / octave_scale**k)), max(1, round(w / octave_scale**k)))
            for k in reversed(range(int(octaves)))
        ]
        detail = None
        img = x
        for size in sizes:
            base = tf.image.resize(x, size, method="bilinear")
            img = base if detail is None else base + tf.image.resize(detail, size)
            img = tf.clip_by_value(img, 0.0, 1.0)
            for _ in range(int(steps)):
                img = step(img, tf.constant(step_size, tf.float32))
            detail = img - base
        out = tf.image.resize(img, (h, w), method="bilinear").numpy()
        return out[..., 0] if out.shape[-1] == 1 else out
