"""Test pictures of MNIST test digits laid out as people write them, not as the generator.

Triple MNIST pastes digit *k* at ``x = 28k``: a model can learn that layout and nothing
else.  :func:`make_condition_images` composes pictures of the same test digits under
one *condition* each (the names of :data:`CONDITIONS`):

=====================  =================================================================
``control``            the generator's layout (digit *k* at ``x = 28k``, random height)
``shift_4/8``          each digit moved sideways by a random amount within ±4 / ±8 px
``shift_exactly_4/8``  each digit moved sideways by exactly 4 / 8 px, left or right
``scale_0.7/1.4``      digits scaled 0.7x / 1.4x about their cell's centre
``scale_0.7-1.4``      each digit scaled by a random factor in [0.7, 1.4]
``drawn``              as drawn on the demo's 336-px canvas: digits 50-80 % of its height
                       (narrowed to fit, down to 0.8 of their width, then made smaller),
                       uneven gaps, a round pen 6-14 px wide; then resized to 84 px
``drawn_small``        the same at 25-33 % of the height, one digit per third
``stroke_thick/thin``  strokes redrawn twice / 0.6 times as wide
``light_background``   the control pictures inverted: dark digits on white paper
``uneven_gaps``        digits at their size, with random (often tiny or large) gaps
``touching``           digits side by side with their ink touching or overlapping 1-2 px
=====================  =================================================================

Pictures are uint8, ``max(28 n, 64)`` pixels square (84x84 for three digits), white on
black (but ``light_background``).  Label combinations are the test split's
(:func:`multidigit.class_split`) and the digits are the test pool of the ``mini``
dataset (MNIST digits never used in its training), unless ``digits`` is given.

Examples
--------
>>> images, labels, info = make_condition_images("shift_exactly_4", 5, seed=0)
>>> images.shape, labels.shape, sorted(set(abs(info["dx"]).ravel().tolist()))
((5, 84, 84), (5, 3), [4])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from multidigit._param_validation import Body, Choice, Int, validate_params
from multidigit.handwriting._strokes import (
    MNIST_STROKE_WIDTH,
    STROKE_LEVEL,
    pen_stroke,
    resize_float,
    set_stroke_width,
    stroke_width,
)

__all__ = ["CONDITIONS", "make_condition_images", "digit_pool"]

#: Every condition :func:`make_condition_images` composes, in the order tables show them.
CONDITIONS = ("control", "shift_4", "shift_exactly_4", "shift_8", "shift_exactly_8",
              "scale_0.7", "scale_1.4", "scale_0.7-1.4", "drawn", "drawn_small",
              "stroke_thick", "stroke_thin", "light_background", "uneven_gaps", "touching")
_DRAW = 4  # the drawn conditions are composed at 4x (336 px for 84), like the demo's canvas


@validate_params({"digits": Body("None or (images, labels) of single 28x28 digits")})
def digit_pool(digits: tuple[np.ndarray, np.ndarray] | None = None) -> list[np.ndarray]:
    """Per digit class, the ``(M, 28, 28)`` uint8 test digits (default: ``mini``'s pool)."""
    if digits is None:
        from multidigit.data.generation import _digit_pools, _mnist_digits

        return _digit_pools(*_mnist_digits())["test"]
    imgs, labs = np.asarray(digits[0], np.uint8), np.asarray(digits[1])
    return [imgs[labs == d] for d in range(10)]


def _crop(d: np.ndarray) -> np.ndarray:
    """The digit's ink bounding box."""
    rows, cols = np.flatnonzero(d.any(1)), np.flatnonzero(d.any(0))
    if len(rows) == 0:
        return d
    return d[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _paste(canvas: np.ndarray, img: np.ndarray, x: int, y: int) -> None:
    """Lay ``img`` at (x, y) by maximum (ink over ink), clipped to the canvas."""
    h, w = img.shape
    H, W = canvas.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 > x0 and y1 > y0:
        part = img[y0 - y:y1 - y, x0 - x:x1 - x]
        canvas[y0:y1, x0:x1] = np.maximum(canvas[y0:y1, x0:x1], part)


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _scaled(d: np.ndarray, s: float) -> np.ndarray:
    n = max(1, round(28 * s))
    return _to_u8(resize_float(d.astype(np.float32), (n, n)))


def _restroke(d: np.ndarray, factor: float) -> np.ndarray:
    """The digit with strokes ``factor`` times MNIST's width (drawn at x4, reduced)."""
    from scipy.ndimage import gaussian_filter

    big = resize_float(d.astype(np.float32) / 255, (112, 112))
    mask = big > STROKE_LEVEL * max(float(big.max()), 1e-6)
    target = factor * stroke_width(mask) if mask.any() else MNIST_STROKE_WIDTH * 4
    pen = gaussian_filter(set_stroke_width(mask, target).astype(np.float32), 1.0)
    return _to_u8(resize_float(pen, (28, 28)) * 255)


def _pen(d: np.ndarray, height: int, width: int, pen: float) -> np.ndarray:
    """A digit redrawn ``height`` x ``width`` px with a round pen ``pen`` px wide."""
    from scipy.ndimage import gaussian_filter

    big = resize_float(_crop(d).astype(np.float32) / 255, (height, width))
    mask = big > STROKE_LEVEL * max(float(big.max()), 1e-6)
    drawn = gaussian_filter(pen_stroke(mask, pen).astype(np.float32), 0.7)
    return _to_u8(drawn * 255)


def _drawn(digits: list[np.ndarray], side: int, rs: np.random.Generator,
           small: bool) -> np.ndarray:
    """Digits as a person draws them on the demo's canvas, reduced like the demo does."""
    from multidigit._resize import resize_like_pil

    big = side * _DRAW
    n = len(digits)
    canvas = np.zeros((big, big), np.uint8)
    lo, hi = (0.25, 0.33) if small else (0.5, 0.8)
    heights = (rs.uniform(lo, hi, n) * big).astype(int)
    crops = [_crop(d) for d in digits]
    widths = np.array([max(1, round(h * c.shape[1] / c.shape[0]))
                       for h, c in zip(heights, crops)])
    gaps = rs.uniform(0.02, 0.1, n + 1) * big if not small else np.full(n + 1, 0.0)
    room = big - 4 - gaps.sum()
    squeeze = min(1.0, room / widths.sum())
    if squeeze < 1:  # people squeeze their digits to fit, and draw smaller past a point
        shrink = min(1.0, squeeze / 0.8)
        heights = np.maximum(8, (heights * shrink).astype(int))
        widths = np.maximum(1, (widths * squeeze).astype(int))
    pen = rs.uniform(6, 14)
    if small:  # one digit centred in each third
        xs = [int(big * (2 * k + 1) / (2 * n) - w / 2) for k, w in enumerate(widths)]
    else:
        x0 = rs.uniform(0, max(0.0, room - widths.sum()) + 1)
        xs = list((x0 + np.cumsum(np.r_[0, widths[:-1]]) + np.cumsum(gaps[:n])).astype(int))
    for d, h, w, x in zip(digits, heights, widths, xs):
        y = int(rs.integers(0, big - h + 1))
        _paste(canvas, _pen(d, int(h), int(w), pen), int(x), y)
    return resize_like_pil(canvas[None], (side, side))[0]


def _row(digits: list[np.ndarray], side: int, rs: np.random.Generator,
         touching: bool) -> np.ndarray:
    """Digits at their own size, cropped to their ink, with uneven or no gaps."""
    canvas = np.zeros((side, side), np.uint8)
    crops = [_crop(d) for d in digits]
    widths = np.array([c.shape[1] for c in crops])
    n = len(crops)
    if touching:
        gaps = np.r_[0, -rs.integers(0, 3, n - 1), 0]  # ink touching or 1-2 px over
        free = side - (widths.sum() + gaps.sum())
        gaps[0] = rs.integers(0, max(free, 0) + 1)
        y_mid = rs.integers(10, side - 10)
    else:
        free = max(0, side - int(widths.sum()))
        gaps = np.floor(rs.dirichlet(np.full(n + 1, 0.7)) * free).astype(int)
        y_mid = None
    x = int(gaps[0])
    for k, c in enumerate(crops):
        h = c.shape[0]
        y = (int(y_mid - h // 2 + rs.integers(-2, 3)) if y_mid is not None
             else int(rs.integers(0, side - h + 1)))
        _paste(canvas, c, x, int(np.clip(y, 0, side - h)))
        x += int(widths[k] + gaps[k + 1])
    return canvas


def _compose(condition: str, digits: list[np.ndarray], side: int,
             rs: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """One picture, and each digit's horizontal shift (0 unless a shift condition)."""
    n = len(digits)
    if condition.startswith("drawn"):
        return _drawn(digits, side, rs, condition == "drawn_small"), [0] * n
    if condition in ("uneven_gaps", "touching"):
        return _row(digits, side, rs, condition == "touching"), [0] * n
    canvas = np.zeros((side, side), np.uint8)
    ys = rs.integers(0, side - 28 + 1, n)  # the generator's random height, drawn first
    dx = [0] * n
    if condition.startswith("shift"):
        amount = int(condition.rsplit("_", 1)[1])
        if "exactly" in condition:
            dx = list(amount * rs.choice([-1, 1], n))
        else:
            dx = list(rs.integers(-amount, amount + 1, n))
    for k, d in enumerate(digits):
        img, x, y = d, 28 * k + int(dx[k]), int(ys[k])
        if condition.startswith("scale"):
            lo, _, hi = condition[6:].partition("-")
            s = rs.uniform(float(lo), float(hi)) if hi else float(lo)
            img = _scaled(d, s)
            x, y = 28 * k + 14 - img.shape[1] // 2, y + 14 - img.shape[0] // 2
            y = int(np.clip(y, 0, max(0, side - img.shape[0])))
        elif condition.startswith("stroke"):
            img = _restroke(d, 2.0 if condition == "stroke_thick" else 0.6)
        _paste(canvas, img, x, y)
    if condition == "light_background":
        canvas = 255 - canvas
    return canvas, [int(v) for v in dx]


@validate_params({
    "condition": Choice(CONDITIONS),
    "n_images": Int(min=1),
    "seed": Int(min=0),
    "n_digits": Int(min=1, max=5),
    "digits": Body("None or (images, labels) of single 28x28 digits"),
})
def make_condition_images(condition: str, n_images: int, *, seed: int = 0, n_digits: int = 3,
                          digits: tuple[np.ndarray, np.ndarray] | None = None,
                          ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Compose ``n_images`` test pictures under one condition.

    Parameters
    ----------
    condition : str
        One of :data:`CONDITIONS`.
    n_images : int
        Pictures to compose.
    seed : int
        Seed: same arguments, same pictures.  The labels and digits drawn depend on the
        seed only, so every condition shows the same numbers written with the same
        digits (``control`` and ``shift_8`` differ only by the shifts).
    n_digits : int
        Digits per picture (1 to 5).
    digits : (images, labels), optional
        The digit pool, ``(M, 28, 28)`` uint8 and ``(M,)`` ints (default: ``mini``'s
        test pool of real MNIST digits).

    Returns
    -------
    images : ndarray of uint8, shape (n_images, S, S)
        ``S = max(28 * n_digits, 64)``.
    labels : ndarray of int, shape (n_images, n_digits)
    info : dict
        ``"dx"``: each digit's horizontal shift in pixels, shape (n_images, n_digits).

    Examples
    --------
    >>> a, la, _ = make_condition_images("control", 3, seed=1)
    >>> b, lb, _ = make_condition_images("light_background", 3, seed=1)
    >>> bool((la == lb).all() and (b == 255 - a).all())
    True
    """
    from multidigit.data.generation import class_split

    pool = digit_pool(digits)
    combos = class_split(n_digits)["test"]
    side = max(28 * n_digits, 64)
    pick = np.random.default_rng([seed, 0])  # labels and digits: the same for every condition
    images = np.zeros((n_images, side, side), np.uint8)
    labels = np.zeros((n_images, n_digits), np.int64)
    dx = np.zeros((n_images, n_digits), np.int64)
    for i in range(n_images):
        labels[i] = [int(c) for c in combos[int(pick.integers(len(combos)))]]
        chosen = [pool[d][int(pick.integers(len(pool[d])))] for d in labels[i]]
        # one generator per picture, heights drawn first: a shifted picture is its
        # control picture with the digits moved
        shape = np.random.default_rng([seed, 1, i])
        images[i], dx[i] = _compose(condition, chosen, side, shape)
    return images, labels, {"dx": dx}
