"""PIL's bicubic resize of grey uint8 images, vectorised over a whole stack.

The study resized every image with ``Image.open(p).convert("L").resize((28, 28))``,
i.e. Pillow's bicubic filter.  Written by hand because no library reproduces that
filter on a batch: OpenCV's bicubic uses a fixed 4x4 kernel (Pillow widens the kernel
with the reduction factor, i.e. it antialiases), and even an exact float version of
Pillow's kernel (TensorFlow's antialiased bicubic is one) differs by up to ~18 grey
levels, because Pillow works in 22-bit fixed point and clips to uint8 between its two
passes.  This module follows ``libImaging/Resample.c`` step by step (same
double-precision coefficients, same rounding, same clipping, same pass order) and
computes each pass as one float64 matrix product over a block of images: every
product and partial sum is a multiple of 2**-22 below 2**31, exactly representable, so
the sums are exact in any order and the result is byte-identical to Pillow's, at BLAS
speed instead of one Python call per image (~50 us each).

:func:`resize_like_pil` checks the first image of every call against Pillow itself and
falls back to Pillow image by image if a future Pillow ever changes the algorithm, so
the output is Pillow's output either way.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["resize_like_pil"]

#: Pillow: ``#define PRECISION_BITS (32 - 8 - 2)``
_PRECISION_BITS = 32 - 8 - 2
_CHUNK = 128  # images per matrix product: float64 temporaries stay in cache (~7 MB at 84x84)


def _bicubic(x: float) -> float:
    """Pillow's ``bicubic_filter`` (a = -0.5), same operation order."""
    a = -0.5
    if x < 0.0:
        x = -x
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


@lru_cache(maxsize=64)
def _weights(in_size: int, out_size: int) -> np.ndarray:
    """(in_size, out_size) fixed-point weights of one pass, over ``2**PRECISION_BITS``.

    ``precompute_coeffs`` + ``normalize_coeffs_8bpc``: plain Python on purpose (a few
    hundred scalars), so the sums run in the same order as in C and round the same way.
    """
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale  # bicubic support 2, widened when reducing
    inv = 1.0 / filterscale
    one = float(1 << _PRECISION_BITS)
    weights = np.zeros((out_size, in_size))
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        ks = [_bicubic((x + xmin - center + 0.5) * inv) for x in range(xmax - xmin)]
        ww = 0.0
        for k in ks:
            ww += k
        for x, k in enumerate(ks):
            if ww != 0.0:
                k = k / ww
            weights[xx, xmin + x] = int(-0.5 + k * one) if k < 0 else int(0.5 + k * one)
    # transposed for ``rows @ weights`` and scaled by 2**-PRECISION_BITS (exact)
    weights = np.ascontiguousarray(weights.T) / one
    weights.setflags(write=False)
    return weights


def _pass(rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Resample every row of a (M, in) uint8 array to (M, out) uint8, as Pillow does.

    Pillow: ``ss = 1 << (PRECISION_BITS - 1); ss += pixel * k; clip8(ss >> PRECISION_BITS)``.
    Here the weights come pre-divided by ``2**PRECISION_BITS`` (exact, a power of two),
    so ``acc = rows @ weights + 0.5`` and ``clip8(floor(acc))`` equals truncating
    ``clip(acc, 0, 255.5)`` to uint8.
    """
    acc = rows.astype(np.float64) @ weights
    acc += 0.5
    np.clip(acc, 0.0, 255.5, out=acc)
    return acc.astype(np.uint8)


def _horizontal(images: np.ndarray, w: int) -> np.ndarray:
    n, h0, w0 = images.shape
    return _pass(images.reshape(n * h0, w0), _weights(w0, w)).reshape(n, h0, w)


def _vertical(images: np.ndarray, h: int) -> np.ndarray:
    n, h0, w0 = images.shape
    cols = np.ascontiguousarray(images.transpose(0, 2, 1)).reshape(n * w0, h0)
    return _pass(cols, _weights(h0, h)).reshape(n, w0, h).transpose(0, 2, 1)


def _vectorised(images: np.ndarray, size: tuple[int, int], vertical_first: bool) -> np.ndarray:
    h, w = size
    _, h0, w0 = images.shape
    out = images
    if vertical_first:
        if h != h0:
            out = _vertical(out, h)
        if w != w0:
            out = _horizontal(out, w)
    else:
        if w != w0:
            out = _horizontal(out, w)
        if h != h0:
            out = _vertical(out, h)
    return np.ascontiguousarray(out)


def _vertical_first(in_hw: tuple[int, int], out_hw: tuple[int, int]) -> bool:
    """Pillow's pass order: Pillow 13 runs the vertical pass first when the height
    shrinks by more than twice as many pixels as the width; Pillow 12.3 and older always
    run the horizontal pass first.  :func:`_order_for` checks which one the installed
    Pillow does (the test suite runs on both)."""
    (h0, w0), (h, w) = in_hw, out_hw
    return (h0 - h) > 0 and (h0 - h) > (w0 - w) * 2


def _pil_one(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.BICUBIC))


@lru_cache(maxsize=64)
def _order_for(in_hw: tuple[int, int], out_hw: tuple[int, int]) -> bool | None:
    """Which pass order reproduces the installed Pillow for this size pair (None: neither).

    Probed on a fixed random image, whose output differs between the two orders.
    """
    probe = np.random.default_rng(0).integers(0, 256, size=(1, *in_hw), dtype=np.uint8)
    want = _pil_one(probe[0], out_hw)
    guess = _vertical_first(in_hw, out_hw)
    for order in (guess, not guess):
        if np.array_equal(_vectorised(probe, out_hw, order)[0], want):
            return order
    return None


def resize_like_pil(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a stack of grey images exactly as ``Image.resize(size, Image.BICUBIC)``.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, H, W)
    size : (h, w)
        Target height and width.

    Returns
    -------
    ndarray of uint8, shape (N, h, w)
        Byte-identical to resizing each image with Pillow.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((2, 84, 84), np.uint8)
    >>> resize_like_pil(x, (28, 28)).shape
    (2, 28, 28)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W), got {images.dtype} {images.shape}")
    size = (int(size[0]), int(size[1]))
    n, h0, w0 = images.shape
    if (h0, w0) == size:
        return images.copy()
    out = np.empty((n, *size), dtype=np.uint8)
    if n == 0:
        return out
    order = _order_for((h0, w0), size)
    if order is not None and not np.array_equal(
        _vectorised(images[:1], size, order)[0], _pil_one(images[0], size)
    ):
        order = None
    if order is None:  # a Pillow whose algorithm differs: use it image by image
        for i in range(n):
            out[i] = _pil_one(images[i], size)
        return out
    for lo in range(0, n, _CHUNK):
        out[lo : lo + _CHUNK] = _vectorised(images[lo : lo + _CHUNK], size, order)
    return out
