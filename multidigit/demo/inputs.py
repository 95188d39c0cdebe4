"""The demo's inputs made into what the model reads, exactly as :func:`load_dataset` does.

Every picture the demo gets (a drawing, an uploaded file, a test image) becomes a grey
``uint8`` image with Pillow's ``convert("L")`` formula (the one the dataset loader
reproduces), is resized with :func:`multidigit._resize.resize_like_pil` (Pillow's
bicubic, the loader's resize) to the model's input size and divided by 255 into
``[0, 1]``.  No Gradio here: plain NumPy in, NumPy out, so it is tested on its own.

Examples
--------
>>> import numpy as np
>>> grey = np.zeros((336, 336), np.uint8); grey[100:200, 30:60] = 255
>>> to_model_input(grey, (28, 84)).shape
(28, 84)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit._resize import resize_like_pil
from multidigit.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["canvas_to_grey", "file_to_grey", "to_model_input", "display_image",
           "model_input_size", "model_fit_problem", "light_background",
           "validation_threshold", "canvas_guide", "GUIDE_LEVEL", "MAX_SURE_ERROR"]

#: Side used for a model input dimension left open (``None``): Triple MNIST's 84 px.
DEFAULT_SIDE = 84
#: Uploads larger than this (px, either side) are first box-reduced below it.
MAX_SIDE = 2048
#: Grey level of the canvas guide's dashed cells (the drawing's reader ignores it).
GUIDE_LEVEL = 40
#: Wrong readings allowed above the demo's "sure" threshold on the validation split.
MAX_SURE_ERROR = 0.01
_INK = 16  # grey level above which a canvas pixel counts as drawn (anti-aliasing is fainter)


def _rgb_to_grey(rgb: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("L")`` of an (H, W, 3) uint8 array (the loader's grey levels)."""
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb, np.uint8), "RGB").convert("L"))


def canvas_to_grey(value: Any) -> np.ndarray | None:
    """The sketch canvas as a grey uint8 image, white ink on black; None if nothing is drawn.

    ``value`` is Gradio's image-editor value (a dict whose ``"composite"`` is an
    (H, W, 4) RGBA array) or an array itself.  Transparent pixels count as black: the
    data has white digits on a black background.

    Examples
    --------
    >>> canvas_to_grey({"composite": np.zeros((8, 8, 4), np.uint8)}) is None
    True
    """
    img = value
    if isinstance(value, dict):
        img = value.get("composite")
        if img is None:
            img = value.get("background")
    if img is None:
        return None
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 4:  # composite onto black by alpha
        alpha = img[..., 3:].astype(np.uint16)
        img = ((img[..., :3].astype(np.uint16) * alpha + 127) // 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 3:
        img = _rgb_to_grey(img)
    elif img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim != 2:
        raise DataError(f"the drawing has shape {img.shape}; expected a grey or RGB(A) image.")
    return img if int(img.max()) > _INK else None


def file_to_grey(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file (PNG, JPEG...) of any size as grey uint8, like the loader.

    Images over :data:`MAX_SIDE` pixels a side are first reduced by an integer factor
    (a box filter), so a phone photo does not need gigabytes to resize.

    Raises
    ------
    DataError
        The file is not an image Pillow can read.
    """
    from PIL import Image

    name = os.path.basename(os.fspath(path))
    try:
        with Image.open(path) as im:
            grey = im.convert("L")
            factor = -(-max(grey.size) // MAX_SIDE)
            if factor > 1:
                # A phone photo (thousands of pixels a side) would need gigabytes of
                # float64 in the exact bicubic resize; a box reduce to <= MAX_SIDE px first
                # changes nothing visible at the model's 28-84 px.
                grey = grey.reduce(factor)
            return np.asarray(grey)
    # Pillow raises several classes for a bad file (UnidentifiedImageError, OSError,
    # ValueError, SyntaxError, DecompressionBombError); all mean "cannot read this".
    except Exception as exc:  # noqa: BLE001
        raise DataError(
            f"cannot read {name!r} as an image ({' '.join(str(exc).split())}); "
            "upload a PNG or JPEG picture."
        ) from exc


def to_model_input(grey: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a grey uint8 image to ``size`` (Pillow's bicubic) and scale it to [0, 1].

    The loader's steps, in its order, so the demo's inputs match the training data
    byte for byte.
    """
    small = resize_like_pil(np.asarray(grey, np.uint8)[None], size)[0]
    out = small.astype(np.float32)
    out /= np.float32(255.0)  # a division, as load_dataset does: the same float32 bits
    return out


def light_background(x: np.ndarray) -> bool:
    """True when a [0, 1] image is mostly light (dark digits on white, unlike the data)."""
    return float(np.median(x)) > 0.5


def display_image(x: np.ndarray, min_side: int = 168) -> np.ndarray:
    """A [0, 1] image as uint8, enlarged by whole pixels so the browser shows it crisply."""
    k = max(1, -(-min_side // max(1, min(x.shape[:2]))))
    img = np.clip(np.rint(np.asarray(x) * 255), 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(img, k, axis=0), k, axis=1)


def model_input_size(model: "keras.Model") -> tuple[int, int]:
    """The (H, W) the model reads; an open dimension (None) becomes 84."""
    shape = tuple(model.inputs[0].shape[1:3])
    return tuple(DEFAULT_SIDE if d is None else int(d) for d in shape)  # type: ignore[return-value]


def model_fit_problem(model: Any) -> str:
    """Why ``model`` cannot run in the demo, in one sentence; ``""`` when it fits.

    It fits when it takes one ``(H, W, 1)`` grey image and has one 10-way output per
    digit, named ``digit_0``, ``digit_1``... as :func:`multidigit.build_model` builds.
    """
    from multidigit.model.heads import model_head_names

    fix = "build it with multidigit.build_model (any preset)."
    inputs = list(getattr(model, "inputs", None) or [])
    if len(inputs) != 1:
        return f"it has {len(inputs)} inputs, but the demo feeds one image; {fix}"
    shape = tuple(inputs[0].shape[1:])
    if len(shape) != 3 or shape[-1] != 1:
        return f"its input has shape {shape}, but the demo feeds (H, W, 1) grey images; {fix}"
    names = model_head_names(model)
    if not names or not all(n.startswith("digit_") and n[6:].isdigit() for n in names):
        return f"its outputs are {names}, not digit heads digit_0, digit_1...; {fix}"
    widths = [int(t.shape[-1]) if t.shape[-1] is not None else -1 for t in model.outputs]
    if any(w != 10 for w in widths):
        return f"its heads have {widths} classes, but a digit head has 10; {fix}"
    return ""


def validation_threshold(model: "keras.Model", max_error: float = MAX_SURE_ERROR,
                         images_per_class: int = 2) -> float:
    """The "sure" threshold of ``model``: chosen once on the validation split.

    The ``mini`` dataset's validation split (``images_per_class`` pictures per label
    combination, at the model's input size) is read, and
    :func:`multidigit.evaluation.calibration.confidence_threshold` picks the lowest top probability
    above which at most ``max_error`` of its digits are misread.

    Examples
    --------
    >>> validation_threshold(md.load_model("multidigit-study/model.keras"))  # doctest: +SKIP
    0.97
    """
    import multidigit as md
    from multidigit.evaluation.calibration import confidence_threshold
    from multidigit.model.heads import model_head_names

    val = md.load_dataset("mini", images_per_class=images_per_class,
                          n_digits=len(model_head_names(model)),
                          image_size=model_input_size(model)).val
    pred = md.predict(model, val.images)
    return confidence_threshold(pred.probabilities, val.labels, max_error)


def canvas_guide(size: int = 336, n_digits: int = 3) -> np.ndarray:
    """The canvas background: black, with faint dashed cells where the digits go.

    Examples
    --------
    >>> g = canvas_guide(336, 3)
    >>> g.shape, int(g.max()) <= 40
    ((336, 336, 3), True)
    """
    grey = np.zeros((size, size), np.uint8)
    cell = size // n_digits
    top, bottom = size // 6, size - size // 6  # digits about two thirds of the height
    dash = (np.arange(size) // 8) % 2 == 0
    for k in range(n_digits):
        x0, x1 = k * cell + 6, (k + 1) * cell - 6
        for y in (top, bottom):
            grey[y, x0:x1] = np.where(dash[x0:x1], GUIDE_LEVEL, 0)
        for x in (x0, x1 - 1):
            grey[top:bottom, x] = np.where(dash[top:bottom], GUIDE_LEVEL, 0)
    return np.repeat(grey[..., None], 3, axis=2)
