"""Keras 3 CNNs with one 10-way output head per digit position.

Layer names are part of the public API (explainers and plots rely on them):

================== ==========================================================
name               layer
================== ==========================================================
``image``          the input, (H, W, 1) grey in [0, 1]
``resize``         down to the preset's working size (``shared``: height 84), only
                   when the input is taller
``digit_windows``  one square window per digit, centred on its ink, side by side
                   (``shared``: 84x84 -> 28x84; :class:`multidigit.model.windows.DigitWindows`)
``window_resize``  the windows resized into the preset's ``min_digit_size`` ..
                   ``digit_size`` (``shared``: 16..28), only when they are outside
                   it (a 28x28 input: 9 -> 16)
``digit_strip_k``  the k-th digit's strip (``shared``: its window), cut for
                   per-digit augmentation
``augment_rotate`` random rotation, training only (``shared``: one per strip,
                   ``augment_rotate_k``)
``augment_zoom``   random zoom, training only (a preset with ``augment_zoom``)
``augment_shift``  random shift, training only (``shared``: ``augment_shift_k``)
``join``           the strips side by side again (the image itself when not training)
``conv_{i}``       i-th convolution (1-based, ReLU), ``conv_1`` sees the image
``bn_{i}``         batch normalisation after ``conv_{i}`` (if ``batch_norm``)
``pool_{i}``       2x2 max pooling (``shared``: after ``conv_1`` only)
``drop_{i}``       dropout after the block
``vpool``          max over the image height (``vertical_pool``: ``shared``,
                   ``fast`` and ``wide`` presets)
``column_{k}``     the k-th strip of the feature map's width, where digit k sits
                   (``shared`` preset)
``flatten``        flatten (``shared``: called once per strip)
``dense``          the dense layer (ReLU); ``shared``: ONE layer read by every strip
``dense_bn``       its batch normalisation (if ``batch_norm``)
``dense_drop``     its dropout
``digit_{k}``      output head for digit position k (0-based), 10 units
================== ==========================================================

The last convolution (``conv_{n}``) is Grad-CAM's default layer.  In a model with
``digit_windows`` the convolutions see the windowed image (the feature maps show the
digits lined up); Grad-CAM puts its maps back where each window came from.
"""

from __future__ import annotations

import numbers
import os
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multidigit import _defaults as D
from multidigit._param_validation import (
    Body,
    Bool,
    Check,
    Choice,
    Int,
    Number,
    check_shape,
    fail,
    validate_params,
)
from multidigit.errors import ModelError
from multidigit.model._blocks import (
    _augment,
    _conv_blocks,
    _dense_block,
    _layout,
    _resize,
    _windows,
)
from multidigit.model.heads import head_names
from multidigit.model.losses import ACTIVATIONS, LOSSES, OBJECTIVES, HeadCrossEntropy
from multidigit.model.outputs import MultiDigitModel, ProbabilityHead
from multidigit.model.presets import PRESETS, Preset

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OBJECTIVES",
    "PRESETS",
    "Preset",
    "build_model",
    "conv_layer_names",
    "last_conv_layer_name",
    "load_model",
    "save_model",
]

#: Most filters per convolution: 10**9 ran out of memory in TensorFlow (a raw error).
_MAX_FILTERS = 4096


def _check_filters(filters: Any) -> tuple[int, ...] | None:
    if filters is None:
        return None
    ok = isinstance(filters, Sequence) and not isinstance(filters, str) and len(filters) > 0
    if not ok or not all(isinstance(f, numbers.Integral) and not isinstance(f, bool)
                         and 1 <= f <= _MAX_FILTERS for f in filters):
        raise fail("filters", "a non-empty sequence of integers >= 1 (at most "
                   f"{_MAX_FILTERS})", filters)
    return tuple(int(f) for f in filters)


def _architecture(preset: str, filters: Any, dense_units: Any, dropout: Any,
                  dense_dropout: Any, batch_norm: Any, l2: Any, vertical_pool: Any) -> Preset:
    """The preset with the explicit (declared and checked) overrides applied."""
    overrides = {
        "filters": _check_filters(filters), "dense_units": dense_units, "dropout": dropout,
        "dense_dropout": dense_dropout, "batch_norm": batch_norm, "l2": l2,
        "vertical_pool": vertical_pool,
    }
    arch = replace(PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None})
    return replace(arch, dense_units=int(arch.dense_units), dropout=float(arch.dropout),
                   dense_dropout=float(arch.dense_dropout), l2=float(arch.l2))


def _check_input_shape(input_shape: Any) -> tuple[int, int, int]:
    shape = check_shape("input_shape", input_shape, 3,
                        hint="Give (height, width, 1): the images are grey.")
    if shape[-1] != 1:
        raise fail("input_shape", "(height, width, 1) (one grey channel)", input_shape)
    return shape  # type: ignore[return-value]


def _compile(model: keras.Model, names: list[str], activation: str, loss: str,
             objective: str, learning_rate: float) -> None:
    """Adam, one loss per head (``objective``) and per-head argmax accuracy."""
    import keras

    if objective == "exact":
        losses = {n: HeadCrossEntropy(activation, loss) for n in names}
    else:  # Keras' string losses on the probabilities (TensorFlow: its logits shortcut)
        losses = {n: loss for n in names}
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=losses,
        metrics={n: [keras.metrics.CategoricalAccuracy(name="accuracy")] for n in names},
    )


_RATE = Number(min=0, max=1, max_inclusive=False, none_ok=True)


@validate_params({
    "activation": Choice(ACTIVATIONS),
    "loss": Choice(LOSSES),
    "input_shape": Check(_check_input_shape, invalid=(0, 28, 1)),
    "preset": Choice(PRESETS),  # the dict itself: read at call time (presets may be added)
    "filters": Check(_check_filters, invalid=()),
    "dense_units": Int(min=1, none_ok=True),
    "dropout": _RATE,
    "dense_dropout": _RATE,
    "batch_norm": Bool(),
    "l2": Number(min=0, none_ok=True),
    "vertical_pool": Bool(),
    "learning_rate": Number(min=0, min_inclusive=False),
    "n_digits": Int(min=1),
    "seed": Int(min=0, none_ok=True),
    "compile": Bool(),
    "objective": Choice(OBJECTIVES),
})
def build_model(
    activation: str = D.ACTIVATION,
    loss: str = D.LOSS,
    *,
    input_shape: Sequence[int] = (84, 84, 1),
    preset: str = "shared",
    filters: Sequence[int] | None = None,
    dense_units: int | None = None,
    dropout: float | None = None,
    dense_dropout: float | None = None,
    batch_norm: bool | None = None,
    l2: float | None = None,
    vertical_pool: bool | None = None,
    learning_rate: float = 1e-3,
    n_digits: int = 3,
    seed: int | None = None,
    compile: bool = True,
    objective: str = "exact",
) -> keras.Model:
    """Build (and compile) a multi-head digit CNN.

    Parameters
    ----------
    activation : {"softmax", "sigmoid"}
        Output activation of every head.
    loss : {"categorical_crossentropy", "binary_crossentropy"}
        Loss of every head (the total loss is their sum), computed on the
        activation's outputs (see ``objective``).
    input_shape : (H, W, 1)
        Image shape; 84x84 is Triple MNIST (what :func:`multidigit.load_dataset`
        returns by default), the study used 28x28.  The default preset reads each
        digit in a window centred on it (layer ``digit_windows``): at 84x84 every
        digit at full resolution, which is the size it prefers; a larger input is
        brought down to 84x84 inside the model (layer ``resize``), a smaller one
        (28x28) is read as it is, so it takes the images as they are loaded.
    preset : {"shared", "baseline", "tuned", "fast", "wide", "small"}
        Architecture (see :data:`PRESETS`); the explicit arguments below override it.
        ``"shared"`` (default) is multidigit's model: one classifier shared by the
        digit positions, each digit read at full resolution in a window centred on
        its ink wherever it was written, trained on digits moved and scaled on their
        own (measured accuracy and time: ``benchmarks/README.md``).
        ``"baseline"`` and ``"tuned"`` are the study's two models, exactly
        (with ``train(batch_size=32, schedule="step", epochs=20)`` they reproduce
        the study's runs).
    filters : sequence of int, optional
        Filters of each conv block; the number of entries is the number of blocks.
    dense_units, dropout, dense_dropout, batch_norm, l2
        Override the preset's dense width, block dropout, dense dropout, batch
        normalisation and L2 weight decay.
    vertical_pool : bool, optional
        Max-pool over the full image height before the dense layer (layer ``vpool``);
        the ``fast`` preset does.
    learning_rate : float
        Adam's initial learning rate.
    n_digits : int
        Number of output heads.
    seed : int, optional
        Seed for weight initialisation (same seed, same initial weights).
    compile : bool
        Compile with Adam, the loss and per-head accuracy.
    objective : {"exact", "keras"}
        ``"exact"`` (default): the loss of the activation's outputs, computed stably
        from the logits on every backend (:mod:`multidigit.model.losses`).  ``"keras"``:
        Keras' own losses on the probabilities, as in earlier versions of multidigit: on TensorFlow they use
        the logits the activation cached, so softmax + binary CE trains sigmoid +
        binary CE and sigmoid + categorical CE trains softmax + categorical CE; on
        JAX they use the (clipped) probabilities.  Kept to show and reproduce that.

    Returns
    -------
    keras.Model
        A functional model with outputs ``digit_0 .. digit_{n-1}`` (dict outputs of
        probabilities).  Each head reports ``accuracy`` as argmax accuracy
        (:class:`keras.metrics.CategoricalAccuracy`), also for a binary loss: Keras'
        plain ``"accuracy"`` would silently become *binary* accuracy there, which is
        ~90 % for a model that predicts nothing.

    Examples
    --------
    >>> import multidigit as md
    >>> model = md.build_model("softmax", "categorical_crossentropy",
    ...                        input_shape=(28, 28, 1), preset="small")
    >>> model.output_names if hasattr(model, "output_names") else None  # doctest: +SKIP
    ['digit_0', 'digit_1', 'digit_2']
    """
    import keras

    arch = _architecture(preset, filters, dense_units, dropout, dense_dropout, batch_norm,
                         l2, vertical_pool)
    shape = _check_input_shape(input_shape)
    if seed is not None:
        keras.utils.set_random_seed(seed)

    reg = keras.regularizers.L2(arch.l2) if arch.l2 > 0 else None
    inputs = keras.Input(shape=shape, name="image")
    try:
        x = _layout(_resize(inputs, arch), arch, seed, n_digits)
        x = _augment(_windows(x, arch, n_digits), arch, seed, n_digits)
        feats = _dense_block(_conv_blocks(x, arch, reg), arch, reg, n_digits)
    except ValueError as exc:  # an input too small for the preset's convolutions
        if "zero or negative" not in str(exc) and "would be negative" not in str(exc):
            raise
        raise fail("input_shape", f"an image large enough for preset {preset!r} "
                   f"({len(arch.filters)} convolution blocks): e.g. 28x28 or more",
                   tuple(shape)) from None
    names = head_names(n_digits)
    exact = objective == "exact"
    head = ProbabilityHead if exact else keras.layers.Dense
    outputs = {n: head(10, activation=activation, name=n)(f) for n, f in zip(names, feats)}
    model_class = MultiDigitModel if exact else keras.Model
    model = model_class(inputs, outputs, name=f"multidigit_{preset}_{activation}_{loss}")
    if compile:
        _compile(model, names, activation, loss, objective, float(learning_rate))
    return model


def _check_model(model: Any) -> None:
    import keras

    if not isinstance(model, keras.Model):
        raise fail("model", "a keras.Model", type(model).__name__)


def _check_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise fail("path", "a file path (str or pathlib.Path)", path)
    return Path(path).expanduser()


_MODEL = Check(_check_model, invalid="not a model")


@validate_params({"model": _MODEL})
def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the 2-D convolution layers, input side first.

    Examples
    --------
    >>> conv_layer_names(md.build_model(preset="small"))   # doctest: +SKIP
    ['conv_1', 'conv_2']
    """
    import keras

    return [l.name for l in model.layers if isinstance(l, keras.layers.Conv2D)]


@validate_params({"model": _MODEL})
def last_conv_layer_name(model: keras.Model) -> str:
    """Name of the last convolution (Grad-CAM's default layer).

    Examples
    --------
    >>> last_conv_layer_name(md.build_model(preset="small"))   # doctest: +SKIP
    'conv_2'
    """
    names = conv_layer_names(model)
    if not names:
        raise ModelError(f"model {model.name!r} has no Conv2D layer.")
    return names[-1]


@validate_params({"model": _MODEL,
                  "path": Body("a file path ending in '.keras'")})
def save_model(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Save a model in the native ``.keras`` format (atomic write).

    Examples
    --------
    >>> md.save_model(model, "digits.keras")   # doctest: +SKIP
    """
    from multidigit._io import atomic_path

    path = _check_path(path)
    if path.suffix != ".keras":
        raise fail("path", "a file name ending in '.keras' (native Keras format)", str(path))
    with atomic_path(path, suffix=".keras") as tmp:  # Keras wants the .keras suffix
        model.save(tmp)
    return path


@validate_params({"path": Check(_check_path, invalid=42), "safe_mode": Bool(),
                  "compile": Bool()})
def load_model(
    path: str | os.PathLike[str], *, safe_mode: bool = True, compile: bool = True
) -> keras.Model:
    """Load a model saved with :func:`save_model` (safe mode on: no arbitrary code).

    Examples
    --------
    >>> model = md.load_model("digits.keras")   # doctest: +SKIP
    """
    import keras

    from multidigit._keras_objects import register

    register()  # the classes a saved model names (see multidigit._keras_objects)
    path = _check_path(path)
    if not path.exists():
        raise ModelError(f"model file {str(path)!r} does not exist.")
    _check_keras_archive(path)
    try:
        return keras.saving.load_model(path, safe_mode=safe_mode, compile=compile)
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(f"model file {str(path)!r} is damaged and cannot be read ({exc}); "
                         "save the model again with multidigit.save_model.") from exc
    except (ValueError, TypeError, AttributeError, ImportError) as exc:
        raise ModelError(f"model file {str(path)!r} {_refusal(exc)}") from exc


def _refusal(exc: BaseException) -> str:
    """Keras' error on a hostile or foreign ``.keras`` file, said plainly (its own
    message suggests decorating classes, which sends the user the wrong way)."""
    import re

    msg = str(exc)
    if "Lambda" in msg:
        return ("holds a Lambda layer (Python code, which could do anything); it is "
                "refused in safe mode. Pass safe_mode=False only for a file you trust.")
    found = re.search(r"(?:locate class|deserialize(?: class)?|reconstruct an instance of) "
                      r"'([^']+)'", msg)
    if found:
        return (f"names a class that is not a Keras or multidigit layer "
                f"({found.group(1)!r}); it was not written by "
                "multidigit.save_model, so it is not loaded. Use a model file you trust.")
    if "weights.h5" in msg or "weights.npz" in msg:
        return "holds no weights; save the model again with multidigit.save_model."
    if "could not be loaded" in msg or "shape" in msg:
        return ("holds weights that do not fit its layers (another model's weights?); "
                "save the model again with multidigit.save_model.")
    return (f"cannot be loaded ({type(exc).__name__}: {msg[:200]}); save the model again "
            "with multidigit.save_model.")


def _check_keras_archive(path: Path) -> None:
    """A ``.keras`` file is a zip archive with a ``config.json``; say so plainly.

    Keras reports "File not found" for an existing file that is not a zip (a
    truncated download, a text file), which sends the user looking in the wrong place.
    """
    if path.is_dir():
        raise ModelError(f"model path {str(path)!r} is a folder; give a '.keras' file.")
    problem = ""
    if not zipfile.is_zipfile(path):
        problem = "is not a '.keras' archive (not a zip file: truncated or not a model?)"
    else:
        try:
            with zipfile.ZipFile(path) as archive:
                if "config.json" not in archive.namelist():
                    problem = "is a zip file without the 'config.json' of a Keras model"
                elif archive.testzip() is not None:
                    problem = "is a damaged '.keras' archive (checksum error)"
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            problem = f"is a damaged '.keras' archive ({exc})"
    if problem:
        raise ModelError(f"model file {str(path)!r} {problem}; save the model again with "
                         "multidigit.save_model.")
