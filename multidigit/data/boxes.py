"""Where each digit is: one bounding box per digit and image, for localisation metrics.

Boxes are ``(top, left, bottom, right)`` in pixels, bottom and right *exclusive*
(``image[top:bottom, left:right]`` is the digit), as an int array ``(N, n_digits, 4)``.

* Generated data (``"mini"`` and the real-scale sets of the benchmarks):
  :func:`multidigit.data.generate_dataset` records the box of the ink of every digit
  it pastes (``return_boxes=True``).  Digit ``k`` is pasted in columns
  ``28k .. 28k+28`` and the pastes do not overlap, so the ink boxes can also be read
  back exactly from the image (:func:`ink_boxes`); the test-suite checks that the two
  agree, and :func:`multidigit.load_dataset` fills ``Split.boxes`` that way, also
  after a cache hit or a resize.
* Loaded folders: the same estimate, :func:`ink_boxes`: the image is cut into
  one column strip per digit (digit ``k`` in strip ``k``, the generator's layout,
  :func:`strip_bounds`), and a digit's box is the bounding box of the strip's pixels brighter than
  ``threshold`` times the image's brightest pixel.  It is exact when digits do not
  cross strip borders (true of every Triple MNIST image) and approximate otherwise;
  a blank strip gets the whole strip.

Examples
--------
>>> import numpy as np
>>> x = np.zeros((1, 84, 84), "uint8")
>>> x[0, 10:20, 30:40] = 255             # one blob in the middle strip
>>> ink_boxes(x, 3)[0, 1].tolist()
[10, 30, 20, 40]
"""

from __future__ import annotations

import numpy as np

from multidigit._param_validation import Body, Int, Number, validate_params

__all__ = ["ink_boxes", "box_masks", "strip_bounds"]

_CHUNK = 2048


def strip_bounds(width: int, n_digits: int) -> list[tuple[int, int]]:
    """Column range ``[left, right)`` of each digit's strip in an image ``width`` wide.

    The generator's layout, scaled to ``width``: digit ``k`` at columns ``28k .. 28k+28``
    of a canvas ``max(28 * n_digits, 64)`` wide; the last strip runs to the right edge.

    Examples
    --------
    >>> strip_bounds(84, 3)
    [(0, 28), (28, 56), (56, 84)]
    >>> strip_bounds(64, 2)
    [(0, 28), (28, 64)]
    """
    scale = int(width) / max(28 * n_digits, 64)
    cuts = [round(28 * k * scale) for k in range(n_digits)] + [int(width)]
    return [(cuts[k], cuts[k + 1]) for k in range(n_digits)]


@validate_params({
    "images": Body("an array (N, H, W) or (N, H, W, C) of bright ink on dark"),
    "n_digits": Int(min=1),
    "threshold": Number(min=0.0, max=1.0),
})
def ink_boxes(images: np.ndarray, n_digits: int, *, threshold: float = 0.0) -> np.ndarray:
    """Estimate each digit's box from the ink (see the module docs).

    Parameters
    ----------
    images : array ``(N, H, W)`` or ``(N, H, W, C)``
        Dark background, bright ink (uint8 or float).
    n_digits : int
        Digits per image, one per column strip.
    threshold : float
        Ink is what is brighter than ``threshold`` times the image's maximum (0: any
        non-zero pixel, exact on generated data; raise it for noisy scans).

    Returns
    -------
    np.ndarray
        ``(N, n_digits, 4)`` int boxes ``(top, left, bottom, right)``.
    """
    images = np.asarray(images)
    if len(images) > _CHUNK:  # bounded memory on real-scale sets
        return np.concatenate([ink_boxes(images[s:s + _CHUNK], n_digits, threshold=threshold)
                               for s in range(0, len(images), _CHUNK)])
    x = images.astype(np.float32)
    if x.ndim == 4:
        x = x.max(axis=-1)
    n, height, width = x.shape
    peak = x.reshape(n, -1).max(axis=1) if n else np.zeros(0)
    ink = x > (threshold * peak)[:, None, None]
    ink &= x > 0
    out = np.zeros((n, n_digits, 4), dtype=np.int64)
    for k, (left, right) in enumerate(strip_bounds(width, n_digits)):
        strip = ink[:, :, left:right]
        rows, cols = strip.any(axis=2), strip.any(axis=1)  # (n, H), (n, s)
        found = rows.any(axis=1)
        top = np.where(found, rows.argmax(axis=1), 0)
        bottom = np.where(found, height - rows[:, ::-1].argmax(axis=1), height)
        first = np.where(found, cols.argmax(axis=1), 0)
        last = np.where(found, cols.shape[1] - cols[:, ::-1].argmax(axis=1), cols.shape[1])
        out[:, k] = np.stack([top, left + first, bottom, left + last], axis=1)
    return out


def box_masks(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Boolean masks ``(N, H, W)`` of boxes ``(N, 4)``.

    Examples
    --------
    >>> box_masks(np.array([[1, 1, 3, 2]]), 4, 4)[0].astype(int).tolist()
    [[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    """
    b = np.asarray(boxes).reshape(-1, 4)
    rows = np.arange(height)[None, :, None]
    cols = np.arange(width)[None, None, :]
    return ((rows >= b[:, 0, None, None]) & (rows < b[:, 2, None, None])
            & (cols >= b[:, 1, None, None]) & (cols < b[:, 3, None, None]))
