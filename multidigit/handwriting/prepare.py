"""Prepare a picture of handwritten digits the way MNIST prepared its digits.

The models learnt Triple MNIST: white digits on black, each one an MNIST digit that
NIST's scans were normalised into (fitted in a 20x20 box, aspect ratio kept,
anti-aliased, then placed in a 28x28 field with its centre of mass at the centre),
digit *k* in the *k*-th 28-px column.  A person's drawing or a photo is none of that:
digits of any size and spacing, dark ink on light paper, a thick pen.
:func:`prepare_handwriting` redoes MNIST's normalisation on each digit it finds:

1. grey, [0, 1], ink up: colour is made grey, transparent pixels are laid over the
   paper, and a light background (judged from the border) is inverted;
2. digits are found as connected components (:func:`scipy.ndimage.label`), pieces that
   overlap horizontally are merged, specks dropped, and they are ordered left to right;
   one component several digits wide is cut at its thinnest columns only when fewer
   digits than ``n_digits`` were found;
3. each digit is fitted into a 20x20 box (aspect kept, anti-aliased), its strokes are
   thinned or thickened towards MNIST's width, and its centre of mass is put at the
   centre of a 28x28 cell;
4. the cells are laid out as the generator does (cell *k* at ``x = 28k``, centred
   vertically) and resized like :func:`multidigit.load_dataset` to ``image_size``.

Finding more or fewer digits than ``n_digits`` raises :class:`DigitCountError`, which
carries the boxes found: it does not guess.

Examples
--------
>>> import numpy as np
>>> page = np.full((120, 300), 255, np.uint8)           # dark digits on white paper
>>> page[20:100, 30:42] = 0; page[30:90, 130:150] = 0; page[25:95, 230:245] = 0
>>> prep = prepare_handwriting(page, 3)
>>> prep.image.shape, prep.inverted, len(prep.boxes)
((84, 84), True, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit._param_validation import (
    Body,
    Choice,
    Int,
    Shape,
    fail,
    validate_params,
)
from multidigit._results import Result, figure_html, html_table
from multidigit.errors import DataError
from multidigit.handwriting._digits import box, find_digits
from multidigit.handwriting._strokes import (
    MNIST_STROKE_WIDTH,
    STROKE_LEVEL,
    WORK_SCALE,
    resize_float,
    set_stroke_width,
    stroke_width,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["prepare_handwriting", "prepare_batch", "PreparedInput", "DigitCountError"]

Box = tuple[int, int, int, int]  # (left, top, right, bottom), right/bottom exclusive

# Strokes are redrawn at MNIST's width only outside [THIN, THICK] x that width.  Measured
# on 150 pictures per condition (``conditions``, seed 0): prepared digits drawn twice as
# thick as MNIST's resemble the prepared originals more when left alone (mean pixel
# correlation 0.79) than eroded to MNIST's width (0.70), and drawn thin pens more when
# thickened (0.62 against 0.57): so thin pens are thickened, only very thick ones thinned.
THIN, THICK = 0.8, 2.0
FAINT = 0.02  # ink above this share of the peak is inside a digit's box (its soft edge)
_BOX, _CELL = 20, 28  # MNIST: the digit box and its field


class DigitCountError(DataError):
    """The picture holds more or fewer digits than the model reads.

    Attributes
    ----------
    found, expected : int
        Digits found and digits wanted.
    boxes : list of (left, top, right, bottom)
        Where the digits found are, in input pixels.
    ink : ndarray
        The picture as grey ink on black in [0, 1] (what the boxes refer to).
    """

    def __init__(self, message: str, found: int, expected: int, boxes: list[Box],
                 ink: np.ndarray) -> None:
        super().__init__(message)
        self.found, self.expected, self.boxes, self.ink = found, expected, boxes, ink

    @validate_params({"ax": Body("None or a matplotlib Axes")})
    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """The picture with the boxes of the digits found."""
        fig, ax = _axes(ax, 1)
        _show_split(ax[0], self.ink, self.boxes, f"found {self.found}, "
                    f"expected {self.expected}")
        return fig


@dataclass
class PreparedInput(Result):
    """What :func:`prepare_handwriting` returns.

    Attributes
    ----------
    image : ndarray of float32, shape image_size
        The prepared picture, white on black in [0, 1], as the model reads it.
    boxes : list of (left, top, right, bottom)
        Where each digit was found in the input (pixels, right and bottom exclusive).
    digit_images : ndarray of float32, shape (n_digits, 28, 28)
        Each digit normalised as MNIST's: in a 20x20 box, centre of mass at the centre.
    inverted : bool
        Whether the input was inverted (a light background).
    stroke_widths : list of float
        Each digit's stroke width before normalisation, in 28x28 pixels.
    ink : ndarray of float32
        The input as grey ink on black in [0, 1] (what the boxes refer to).
    """

    image: np.ndarray = field(repr=False)
    boxes: list[Box]
    digit_images: np.ndarray = field(repr=False)
    inverted: bool
    stroke_widths: list[float]
    ink: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Boxes, inversion and widths (the images stay out of the JSON)."""
        return {"boxes": [list(map(int, b)) for b in self.boxes], "inverted": self.inverted,
                "stroke_widths": [float(w) for w in self.stroke_widths],
                "image_shape": list(self.image.shape)}

    def _repr_html_(self) -> str:
        rows = [["digits found", len(self.boxes)], ["inverted", self.inverted],
                ["boxes", self.boxes]]
        return html_table(rows, ["", ""], caption="PreparedInput") + figure_html(self.plot())

    @validate_params({"ax": Body("None, one matplotlib Axes (split in two) or a pair")})
    def plot(self, ax: "Any | None" = None) -> "Figure":
        """Two panels: the input with the boxes found, then the prepared image.

        ``ax`` is one Axes (split in two panels), a pair of Axes, or None for a new
        figure; returns the figure.
        """
        fig, axes = _axes(ax, 2)
        _show_split(axes[0], self.ink, self.boxes, "input (ink up), digits found")
        h, w = self.image.shape
        axes[1].imshow(self.image, cmap="gray", vmin=0, vmax=1)
        for k in range(1, len(self.boxes)):
            axes[1].axvline(k * w / len(self.boxes) - 0.5, color="tab:orange", lw=0.8)
        axes[1].set_title("prepared (what the model reads)")
        axes[1].set_axis_off()
        return fig


# ----------------------------------------------------------------------------- plots


def _axes(ax: Any, n: int) -> tuple["Figure", list["Axes"]]:
    from matplotlib.axes import Axes

    from multidigit._figures import canvas

    if ax is None or isinstance(ax, Axes):  # a new figure, or one Axes split in n panels
        c = canvas(ax, 1, n, size=(3.2 * n, 3.0))
        return c.figure, list(c.axes.flat)
    axes = list(np.atleast_1d(ax))
    if len(axes) < n:
        raise fail("ax", f"{n} matplotlib Axes or None", ax)
    return axes[0].figure, axes


def _show_split(ax: "Axes", ink: np.ndarray, boxes: list[Box], title: str) -> None:
    from matplotlib.patches import Rectangle

    ax.imshow(ink, cmap="gray", vmin=0, vmax=1)
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False,
                               edgecolor="tab:orange", lw=1.5))
        ax.text(x0, y0 - 1, str(k), color="tab:orange", va="bottom", fontsize=9)
    ax.set_title(title)
    ax.set_axis_off()


# ----------------------------------------------------------------------------- step 1


def _to_grey(image: Any) -> np.ndarray:
    """Any picture as grey float [0, 1]; alpha laid over the paper (the ink's opposite)."""
    x = np.asarray(image)
    if x.dtype.kind not in "biuf" or x.size == 0:
        raise fail("image", "a non-empty numeric image array", f"{x.dtype} {x.shape}",
                   "prepare_handwriting")
    if not (x.ndim == 2 or (x.ndim == 3 and x.shape[2] in (1, 3, 4))):
        raise DataError(f"prepare_handwriting() got an array of shape {x.shape}; pass one "
                        "picture: (H, W) grey, (H, W, 3) colour or (H, W, 4) with alpha.")
    x = x.astype(np.float64)
    if not np.isfinite(x).all() or x.min() < 0:
        raise DataError("prepare_handwriting(): the picture has NaN, infinite or negative "
                        "pixels; pass grey levels in [0, 1] or [0, 255].")
    if x.max() > 1.0:  # 8-bit levels (an integer array, or floats in [0, 255])
        x /= 255.0 if x.max() <= 255 else float(np.iinfo(np.uint16).max)
    if x.ndim == 2:
        return x
    alpha = x[..., 3] if x.shape[2] == 4 else None
    grey = x[..., 0] if x.shape[2] == 1 else x[..., :3] @ np.array([0.299, 0.587, 0.114])
    if alpha is not None and (alpha < 1).any():
        ink = float((grey * alpha).sum() / max(alpha.sum(), 1e-9))
        paper = 0.0 if ink > 0.5 else 1.0  # light strokes on transparency: black paper
        grey = grey * alpha + paper * (1 - alpha)
    return grey


def _ink_up(grey: np.ndarray, invert: Any) -> tuple[np.ndarray, bool]:
    """White ink on black, background at 0, ink's peak at 1."""
    border = np.concatenate([grey[:2].ravel(), grey[-2:].ravel(),
                             grey[:, :2].ravel(), grey[:, -2:].ravel()])
    flip = bool(np.median(border) > 0.5) if invert == "auto" else bool(invert)
    ink = 1.0 - grey if flip else grey
    ink = np.clip(ink - np.median(1.0 - border if flip else border), 0, None)
    peak = float(np.percentile(ink[ink > 0], 99)) if (ink > 0).any() else 0.0
    return (np.clip(ink / peak, 0, 1) if peak > 0.05 else np.zeros_like(ink)), flip


# ----------------------------------------------------------------------------- step 3


def normalise_digit(ink: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
    """One digit as MNIST made them: a (28, 28) float image and its original width.

    Fitted in a 20x20 box (aspect kept, anti-aliased), strokes brought towards
    :data:`~multidigit.handwriting._strokes.MNIST_STROKE_WIDTH`, centre of mass at (14, 14).
    """
    from scipy import ndimage

    grow = ndimage.binary_dilation(mask, iterations=1)  # keep the anti-aliased edge
    x0, y0, x1, y1 = box(grow & (ink > FAINT))  # the box holds the faint edge, as MNIST's
    crop = (ink * grow)[y0:y1, x0:x1]
    h, w = crop.shape
    fit = _BOX / max(h, w)
    size = (max(1, round(h * fit)), max(1, round(w * fit)))
    big = np.clip(resize_float(crop, (size[0] * WORK_SCALE, size[1] * WORK_SCALE)), 0, 1)
    strokes = big > STROKE_LEVEL * big.max()
    width = stroke_width(strokes)  # measured at x4, as MNIST_STROKE_WIDTH was
    target = MNIST_STROKE_WIDTH * WORK_SCALE
    if THIN * target <= width <= THICK * target:  # MNIST-like pen: one resize, no redraw
        small = resize_float(crop, size)
    else:  # far from MNIST's pen: redraw it at x4, then reduce
        big = ndimage.gaussian_filter(set_stroke_width(strokes, target).astype(np.float32),
                                      WORK_SCALE / 4)
        small = resize_float(big, size)
    small = np.clip(small / max(float(small.max()), 1e-6), 0, 1)
    cy, cx = ndimage.center_of_mass(small)  # to (14, 14): MNIST's mean, measured on mini
    sh, sw = small.shape
    top = int(np.clip(round(_CELL / 2 - cy), 0, _CELL - sh))
    left = int(np.clip(round(_CELL / 2 - cx), 0, _CELL - sw))
    cell = np.zeros((_CELL, _CELL), np.float32)
    cell[top:top + sh, left:left + sw] = small
    return cell, width / WORK_SCALE


# ----------------------------------------------------------------------------- step 4


def _layout(cells: list[np.ndarray], image_size: tuple[int, int]) -> np.ndarray:
    """Cells side by side as the generator lays them, resized like load_dataset."""
    from multidigit._resize import resize_like_pil

    n = len(cells)
    side = max(_CELL * n, 64)  # the generator's canvas (data.generation._canvas_size)
    canvas = np.zeros((side, side), np.uint8)
    y0 = (side - _CELL) // 2
    for k, c in enumerate(cells):
        canvas[y0:y0 + _CELL, _CELL * k:_CELL * (k + 1)] = np.rint(c * 255).astype(np.uint8)
    if tuple(image_size) != canvas.shape:
        canvas = resize_like_pil(canvas[None], tuple(image_size))[0]
    return canvas.astype(np.float32) / np.float32(255.0)


@validate_params({
    "image": Body("one picture: a 2-D grey or (H, W, 3/4) colour array"),
    "n_digits": Int(min=1, max=5),
    "invert": Choice(("auto", True, False)),
    "image_size": Shape(2),
})
def prepare_handwriting(image: Any, n_digits: int = 3, *, invert: Any = "auto",
                        image_size: tuple[int, int] = (84, 84)) -> PreparedInput:
    """Find the digits in a picture and lay them out as the models read them.

    Parameters
    ----------
    image : array
        One picture: ``(H, W)`` grey, ``(H, W, 3)`` colour or ``(H, W, 4)`` with alpha
        (transparent pixels lie on the paper, as in Gradio's sketchpad); uint8 or
        floats in [0, 1]; any size, light or dark background.
    n_digits : int
        Digits the model reads (its heads).
    invert : "auto", True or False
        Invert (dark ink on light paper)?  ``"auto"`` decides from the border pixels.
    image_size : (H, W)
        Size of the prepared image: the model's input (84x84 for Triple MNIST).

    Returns
    -------
    PreparedInput

    Raises
    ------
    DigitCountError
        More or fewer than ``n_digits`` digits found (it carries the boxes found).
    DataError
        Not a picture (a batch, NaN pixels...).
    ParameterError
        A bad ``n_digits``, ``invert`` or ``image_size``.

    Examples
    --------
    >>> ink = np.zeros((60, 200)); ink[10:50, 20:26] = 1; ink[10:50, 100:106] = 1
    >>> prepare_handwriting(ink, 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    multidigit.handwriting.prepare.DigitCountError: found 2 digits, but the model reads 3: ...
    """
    image_size = tuple(int(v) for v in image_size)
    ink, inverted = _ink_up(_to_grey(image), invert)
    masks = find_digits(ink, n_digits)
    boxes = [box(m) for m in masks]
    if len(masks) != n_digits:
        hint = ("nothing that looks like ink: draw darker, or check the invert option"
                if not masks else "draw the digits apart, one after the other, left to "
                "right" if len(masks) < n_digits else "remove stray marks or extra digits")
        raise DigitCountError(f"found {len(masks)} digit{'s' * (len(masks) != 1)}, but the "
                              f"model reads {n_digits}: {hint} (boxes found: {boxes}).",
                              len(masks), n_digits, boxes, ink.astype(np.float32))
    cells, widths = zip(*(normalise_digit(ink, m) for m in masks))
    return PreparedInput(image=_layout(list(cells), image_size), boxes=boxes,
                         digit_images=np.stack(cells), inverted=inverted,
                         stroke_widths=[round(float(w), 3) for w in widths],
                         ink=ink.astype(np.float32))


@validate_params({
    "images": Body("one picture, a batch (N, H, W[, C]) or a list of pictures"),
    "n_digits": Int(min=1, max=5),
    "invert": Choice(("auto", True, False)),
    "image_size": Shape(2),
})
def prepare_batch(images: Any, n_digits: int = 3, *, invert: Any = "auto",
                  image_size: tuple[int, int] = (84, 84)) -> np.ndarray:
    """:func:`prepare_handwriting` on each picture: a float32 ``(N, H, W)`` batch.

    ``images`` is one picture (2-D, or 3-D ending in 3 or 4 channels), a batch
    ``(N, H, W)`` / ``(N, H, W, C)``, or a list of pictures of any sizes.  The first
    picture that does not hold ``n_digits`` digits raises its :class:`DigitCountError`,
    its message starting with the picture's index.

    Examples
    --------
    >>> prepare_batch(np.zeros((2, 84, 84, 1)), 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    multidigit.handwriting.prepare.DigitCountError: image 0: found 0 digits, ...
    """
    if isinstance(images, (list, tuple)):
        items = list(images)
    else:
        x = np.asarray(images)
        single = x.ndim == 2 or (x.ndim == 3 and x.shape[-1] in (3, 4))
        items = [x] if single else list(x)
    out = []
    for i, img in enumerate(items):
        try:
            out.append(prepare_handwriting(img, n_digits, invert=invert,
                                           image_size=image_size).image)
        except DigitCountError as exc:
            raise DigitCountError(f"image {i}: {exc}", exc.found, exc.expected, exc.boxes,
                                  exc.ink) from None
    return np.stack(out)
