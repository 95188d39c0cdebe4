"""Layout augmentation: each digit moved and scaled on its own, while training only.

Triple MNIST writes digit ``k`` in the ``k``-th third of the width, always at the same
size; people write digits off-centre, close together and at different sizes.
:class:`DigitLayout` (layer ``layout`` of the default ``shared`` preset) teaches the
model that: while training, the image is cut into one column strip per digit, each
strip is scaled about its centre by a random factor and moved sideways by a random
number of pixels, and the strips are added back together (digits can now come close
to, or into, their neighbours).  Outside training the layer returns its input.

All the strips of a batch are moved in one ``keras.ops.image.affine_transform`` call:
written as one layer because Keras' ``RandomZoom`` and ``RandomTranslation``, one pair
per strip, cost six transforms per batch, several times this layer's cost
(measured in ``benchmarks/README.md``, "Why hand-written").

Examples
--------
>>> import numpy as np
>>> from multidigit.model.layout import DigitLayout
>>> x = np.random.default_rng(0).random((2, 84, 84, 1)).astype("float32")
>>> layer = DigitLayout(3, shift=0.1, scale=(0.7, 1.4), seed=0)
>>> bool(np.array_equal(np.asarray(layer(x, training=False)), x))
True
>>> np.asarray(layer(x, training=True)).shape
(2, 84, 84, 1)
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from multidigit._param_validation import Body, Free, Int, Number, fail, validate_params

__all__ = ["DigitLayout"]


@keras.saving.register_keras_serializable(package="multidigit")
class DigitLayout(keras.layers.Layer):
    """Move and scale each digit's column strip on its own while training.

    Parameters
    ----------
    n_digits : int
        Number of column strips (digit ``k``: columns ``round(k W / n)`` to
        ``round((k + 1) W / n)``).
    shift : float
        Largest sideways move, as a fraction of the image width (uniform in
        ``[-shift, shift]``).
    scale : (float, float) or None
        Range of the scale factor.  Drawn as Keras' ``RandomZoom`` draws it: the zoom
        ``z`` is uniform in ``[1/hi - 1, 1/lo - 1]`` and the strip is shown at ``1 / (1
        + z)`` of its size, about the strip's centre.  None: no scaling.
    fraction : float
        Share of the images of a batch that are moved and scaled (each image drawn on
        its own); the others pass as they are, so the model also sees the layout it is
        tested on.  1: every image.
    seed : int, optional
        Seed of the random draws.
    """

    @validate_params({
        "n_digits": Int(min=1),
        "shift": Number(min=0, max=1),
        "scale": Body("None or (low, high) with 0 < low <= high"),
        "seed": Int(min=0, none_ok=True),
        "fraction": Number(min=0, max=1),
        "kwargs": Free("keras.layers.Layer keywords (name, dtype...), Keras checks them"),
    })
    def __init__(self, n_digits: int = 3, shift: float = 0.0,
                 scale: tuple[float, float] | None = None, seed: int | None = None,
                 fraction: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_digits = int(n_digits)
        self.shift = float(shift)
        if scale is not None:
            ok = (isinstance(scale, (tuple, list)) and len(scale) == 2
                  and all(isinstance(v, (int, float)) and v > 0 for v in scale)
                  and scale[0] <= scale[1])
            if not ok:
                raise fail("scale", "None or (low, high) with 0 < low <= high", scale)
            scale = (float(scale[0]), float(scale[1]))
        self.scale = scale
        self.seed = None if seed is None else int(seed)
        self.fraction = float(fraction)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x: Any, training: bool | None = None) -> Any:
        if not training or (self.shift == 0 and self.scale is None) or self.fraction == 0:
            return x
        height, width = int(x.shape[1]), int(x.shape[2])
        n = self.n_digits
        cuts = [round(k * width / n) for k in range(n + 1)]
        columns = ops.arange(width, dtype=x.dtype)
        strips = []
        for k in range(n):  # each digit's columns, on a blank canvas of the full width
            inside = (ops.relu(ops.sign(columns - (cuts[k] - 0.5)))
                      * ops.relu(ops.sign((cuts[k + 1] - 0.5) - columns)))
            strips.append(x * inside[None, None, :, None])
        batch = ops.shape(x)[0]
        stacked = ops.concatenate(strips, axis=0)  # (n * batch, H, W, C), strip-major
        centres = ops.repeat(ops.convert_to_tensor(
            [(cuts[k] + cuts[k + 1] - 1) / 2.0 for k in range(n)], dtype="float32"),
            batch, axis=0)
        count = ops.shape(stacked)[:1]
        inverse = ops.ones(count, dtype="float32")  # input pixels per output pixel
        if self.scale is not None:
            lo, hi = self.scale
            zoom = keras.random.uniform(count, 1 / hi - 1, 1 / lo - 1,
                                        seed=self.seed_generator)
            inverse = 1.0 + zoom
        move = ops.zeros(count, dtype="float32")
        if self.shift > 0:
            move = keras.random.uniform(count, -self.shift * width, self.shift * width,
                                        seed=self.seed_generator)
        if self.fraction < 1:  # the same images keep their layout in every strip
            chosen = keras.random.uniform(ops.shape(x)[:1], seed=self.seed_generator)
            chosen = ops.tile(ops.cast(chosen < self.fraction, "float32"), (n,))
            inverse = 1.0 + (inverse - 1.0) * chosen
            move = move * chosen
        middle = (height - 1) / 2.0
        zero = ops.zeros(count, dtype="float32")
        # output (col, row) reads input (a0 col + a2, b1 row + b2): scaled about the
        # strip's centre, then moved by `move` columns
        transform = ops.stack([inverse, zero, centres - (centres + move) * inverse,
                               zero, inverse, middle - middle * inverse, zero, zero], axis=1)
        moved = ops.image.affine_transform(ops.cast(stacked, "float32"), transform,
                                           interpolation="bilinear", fill_mode="constant",
                                           data_format="channels_last")
        moved = ops.reshape(ops.cast(moved, x.dtype), (n, -1, height, width, int(x.shape[3])))
        return ops.sum(moved, axis=0)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_digits": self.n_digits, "shift": self.shift,
                "scale": None if self.scale is None else list(self.scale),
                "seed": self.seed, "fraction": self.fraction}
