"""Digit windows: each digit read at full resolution, centred on its ink.

Triple MNIST puts digit ``k`` in the ``k``-th third of the width, at a random height.
:class:`DigitWindows` (layer ``digit_windows`` of the default ``shared`` preset) cuts
each digit's column strip to a square window centred on the strip's ink (its centre
of mass, the way MNIST itself centres its digits) and puts the windows side by side:
an 84x84 image becomes 28x84, three MNIST-sized digits in a row.  The convolutions
then see every digit at full resolution on a third of the pixels, instead of the
whole 84 rows (mostly blank) at half resolution.

Windows are cut with a one-hot matrix product, so gradients reach exactly the input
pixels they came from:
saliency, guided backprop and DeepDream are unchanged.  Maps computed on the windowed
image (Grad-CAM) are put back where each window came from by
:meth:`DigitWindows.restore`.

Examples
--------
>>> import numpy as np
>>> from multidigit.model.windows import DigitWindows
>>> image = np.zeros((1, 84, 84, 1), "float32")
>>> image[0, 50:60, 5:20] = 1.0          # a blob low in the first strip
>>> windows = DigitWindows(3)
>>> np.asarray(windows(image)).shape
(1, 28, 84, 1)
>>> np.asarray(windows.tops(image))[0].tolist()   # first window: rows 41-68
[41, 28, 28]
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from multidigit._param_validation import Bool, Free, Int, validate_params

__all__ = ["DigitWindows"]

_PACKAGE = "multidigit"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DigitWindows(keras.layers.Layer):
    """Cut one square window per digit, centred on its ink; windows side by side.

    Input ``(batch, H, W, C)``; output ``(batch, S, n_digits * s, C)`` where
    ``s = W // n_digits`` is a strip's width and ``S = min(H, s)`` the window height.
    A window's top row is the centre of mass of its columns' ink (the pixel values,
    summed over channels) minus half the window, rounded and kept inside the image;
    a blank window gets the middle rows.

    Columns: with ``follow_columns=False`` window ``k`` takes the ``k``-th column
    strip, which starts at ``round(k * (W - s) / (n - 1))`` (``0, 28, 56`` for 84
    columns: Triple MNIST's layout).  With ``follow_columns=True`` the windows follow
    the ink horizontally too: the image's ink per column is split into ``n_digits``
    groups by a few steps of one-dimensional k-means started at the strips' centres,
    and window ``k`` is centred on group ``k``'s centre of mass (up to half a window
    past the image's edge, where it reads zeros).  A digit drawn off
    its third, or a number written with uneven gaps, is then still read whole.

    Parameters
    ----------
    n_digits : int
        Number of digits (windows).
    follow_columns : bool
        Centre the windows on the ink horizontally too (see above).
    """

    #: k-means steps (each moves a centre to its columns' centre of mass): from the
    #: thirds' centres, 4 steps settle digits moved by up to a third of a cell
    KMEANS_STEPS = 4
    #: soft assignment width, in columns: a column between two centres is shared
    #: smoothly (float arithmetic only: no argmin / boolean tensors, see _placement)
    KMEANS_WIDTH = 2.0

    @validate_params({
        "n_digits": Int(min=1),
        "follow_columns": Bool(),
        "kwargs": Free("keras.layers.Layer keywords (name, dtype...), Keras checks them"),
    })
    def __init__(self, n_digits: int = 3, follow_columns: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_digits = int(n_digits)
        self.follow_columns = follow_columns

    # -- geometry ---------------------------------------------------------------
    def strip_width(self, width: int) -> int:
        return max(1, int(width) // self.n_digits)

    def strip_starts(self, width: int) -> list[int]:
        s, n = self.strip_width(width), self.n_digits
        return [round(k * (int(width) - s) / (n - 1)) if n > 1 else 0 for k in range(n)]

    def window_height(self, height: int, width: int) -> int:
        return min(int(height), self.strip_width(width))

    def lefts(self, x: Any) -> Any:
        """First column of every window, ``(batch, n_digits)`` int32 (no gradient)."""
        width = int(x.shape[2])
        s = self.strip_width(width)
        starts = ops.convert_to_tensor(self.strip_starts(width), dtype="int32")
        if not self.follow_columns:
            return ops.zeros_like(ops.cast(x[:, 0, 0, :1], "int32")) + starts[None, :]
        x = ops.stop_gradient(ops.cast(x, "float32"))
        ink = ops.sum(x, axis=(1, 3))[:, :, None]  # (batch, W, 1)
        columns = ops.arange(width, dtype="float32")[None, :, None]
        centres = ops.cast(starts, "float32")[None, None, :] + (s - 1) / 2.0  # (1, 1, n)
        centres = centres + 0.0 * ink[:, :1, :]  # (batch, 1, n)
        for _ in range(self.KMEANS_STEPS):
            share = ops.softmax(-ops.square(columns - centres)
                                / (2 * self.KMEANS_WIDTH ** 2), axis=-1)  # (batch, W, n)
            mass = ops.sum(ink * share, axis=1, keepdims=True)
            moment = ops.sum(ink * share * columns, axis=1, keepdims=True)
            centres = (moment + 1e-3 * centres) / (mass + 1e-3)  # blank: stays put
        # a window may hang half over the image's edge (the one-hot cut reads zeros
        # there): a digit written at the very edge is still centred in its window
        left = ops.clip(ops.round(centres[:, 0, :] - (s - 1) / 2.0), -(s // 2),
                        width - s + s // 2)
        return ops.cast(ops.stop_gradient(left), "int32")

    def _columns(self, x: Any, lefts: Any) -> list[Any]:
        """Each window's columns, ``(batch, H, s, C)`` (a one-hot product: exact)."""
        width = int(x.shape[2])
        s = self.strip_width(width)
        if not self.follow_columns:
            return [x[:, :, start:start + s, :] for start in self.strip_starts(width)]
        return [ops.einsum("bhwc,bws->bhsc", x, _placement(lefts[:, k], width, s, x.dtype))
                for k in range(self.n_digits)]

    def _tops(self, strips: list[Any], height: int, h: int) -> Any:
        rows = ops.arange(height, dtype="float32")
        out = []
        for strip in strips:
            profile = ops.sum(ops.cast(strip, "float32"), axis=(2, 3))  # ink per row
            total = ops.sum(profile, axis=1)
            centre = ops.sum(profile * rows, axis=1) / ops.maximum(total, 1e-6)
            centre = ops.where(total > 1e-6, centre, (height - 1) / 2.0)
            top = ops.clip(ops.round(centre - (h - 1) / 2.0), 0, height - h)
            out.append(ops.cast(ops.stop_gradient(top), "int32"))
        return ops.stack(out, axis=1)

    def origins(self, x: Any) -> tuple[Any, Any]:
        """``(tops, lefts)``: every window's first row and column, each
        ``(batch, n_digits)`` int32 (no gradient); what :meth:`restore` takes."""
        height, width = int(x.shape[1]), int(x.shape[2])
        lefts = self.lefts(x)
        strips = self._columns(ops.stop_gradient(x), lefts)
        return self._tops(strips, height, self.window_height(height, width)), lefts

    def tops(self, x: Any) -> Any:
        """First row of every window, ``(batch, n_digits)`` int32 (no gradient)."""
        return self.origins(x)[0]

    # -- the layer --------------------------------------------------------------
    def call(self, x: Any) -> Any:
        height, width = int(x.shape[1]), int(x.shape[2])
        s, h = self.strip_width(width), self.window_height(height, width)
        strips = self._columns(x, self.lefts(x))
        tops = self._tops(strips, height, h)
        channels = int(x.shape[3])
        windows = []
        for k, strip in enumerate(strips):
            strip = ops.reshape(strip, (-1, height, s * channels))
            # rows picked by a one-hot matmul rather than a gather: exact (each value
            # times 1, plus zeros), and on TensorFlow the gather's gradient logs an
            # oneDNN int64 error line on every training run
            place = _placement(tops[:, k], height, h, x.dtype)  # (batch, height, h)
            window = ops.matmul(ops.transpose(place, (0, 2, 1)), strip)
            windows.append(ops.reshape(window, (-1, h, s, channels)))
        return ops.concatenate(windows, axis=2)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        height, width = input_shape[1], input_shape[2]
        s = self.strip_width(width)
        return (input_shape[0], self.window_height(height, width), s * self.n_digits,
                input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_digits": self.n_digits,
                "follow_columns": self.follow_columns}

    # -- back to image coordinates ------------------------------------------------
    def restore(self, maps: Any, tops: Any, height: int, width: int,
                lefts: Any = None) -> Any:
        """Put maps of the windowed image back where the windows came from.

        Parameters
        ----------
        maps : tensor
            Values on the windowed image: batch x window height x (n_digits x strip
            width); resize a coarser map to that size first.
        tops, lefts : tensor
            The :meth:`origins` of the images the windows were cut from (``lefts``
            may be left out for fixed strips, ``follow_columns=False``).
        height, width : int
            Size of those images.

        Returns
        -------
        tensor
            batch x height x width: each window's values at its rows and columns,
            zero outside every window (where windows overlap, the larger value).
        """
        s = self.strip_width(width)
        h = self.window_height(height, width)
        if lefts is None:
            if self.follow_columns:
                raise ValueError("restore() needs the windows' lefts (see origins()).")
            return self._restore_strips(maps, tops, height, width)
        out = None
        for k in range(self.n_digits):
            window = maps[:, :, k * s:(k + 1) * s]  # (batch, h, s)
            rows = ops.matmul(_placement(tops[:, k], height, h, window.dtype), window)
            place = _placement(lefts[:, k], width, s, window.dtype)  # (batch, W, s)
            image = ops.matmul(rows, ops.transpose(place, (0, 2, 1)))
            out = image if out is None else ops.maximum(out, image)
        return out

    def _restore_strips(self, maps: Any, tops: Any, height: int, width: int) -> Any:
        s = self.strip_width(width)
        h = self.window_height(height, width)
        columns = []
        covered = 0
        for k, start in enumerate(self.strip_starts(width)):
            window = maps[:, :, k * s:(k + 1) * s]  # (batch, h, s)
            strip = ops.matmul(_placement(tops[:, k], height, h, window.dtype), window)
            if start > covered:  # columns between strips (W not a multiple of n)
                columns.append(ops.zeros_like(strip[:, :, : start - covered]))
            columns.append(strip[:, :, max(0, covered - start):])
            covered = start + s
        if covered < width:
            columns.append(ops.zeros_like(columns[-1][:, :, : width - covered]))
        return ops.concatenate(columns, axis=2)


def _placement(tops: Any, height: int, h: int, dtype: Any) -> Any:
    """``(batch, height, h)``: 1 where image row r is window row j (r = top + j), else 0.

    Computed as ``max(0, 1 - |r - top - j|)`` on whole numbers rather than with
    ``equal``: no boolean tensor, whose gradient graph on TensorFlow logs an oneDNN
    "DT_BOOL" error line when the batch size is not fixed (the explainers' functions).
    """
    rows = ops.arange(height, dtype=dtype)[None, :, None]
    window_rows = (ops.cast(tops, dtype)[:, None, None]
                   + ops.arange(h, dtype=dtype)[None, None, :])
    return ops.maximum(1.0 - ops.abs(rows - window_rows), 0.0)


def windows_layer(model: Any) -> DigitWindows | None:
    """The model's :class:`DigitWindows` layer, or None."""
    return next((lay for lay in getattr(model, "layers", []) if isinstance(lay, DigitWindows)),
                None)
