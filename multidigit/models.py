"""Keras 3 CNNs with one 10-way output head per digit position.

Layer names are part of the public API (explainers and plots rely on them):

============== ==========================================================
name           layer
============== ==========================================================
``image``      the input, (H, W, 1) grey in [0, 1]
``conv_{i}``   i-th convolution (1-based, ReLU), ``conv_1`` sees the image
``bn_{i}``     batch normalisation after ``conv_{i}`` (if ``batch_norm``)
``pool_{i}``   2x2 max pooling
``drop_{i}``   dropout after the block
``vpool``      max over the image height (``vertical_pool``, ``fast`` preset)
``flatten``    flatten
``dense``      the shared dense layer (ReLU)
``dense_bn``   its batch normalisation (if ``batch_norm``)
``dense_drop`` its dropout
``digit_{k}``  output head for digit position k (0-based), 10 units
============== ==========================================================

The last convolution (``conv_{n}``) is Grad-CAM's default layer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data import head_names
from .errors import ModelError

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "PRESETS",
    "Preset",
    "build_model",
    "save_model",
    "load_model",
    "conv_layer_names",
    "last_conv_layer_name",
]

ACTIVATIONS = ("softmax", "sigmoid")
#: Batch-norm momentum. Keras' default (0.99) needs several hundred steps before its
#: moving averages are usable, so small runs (tests, the mini set: 100 steps an epoch)
#: evaluate at chance for epochs; 0.9 converges in tens of steps and makes no
#: difference at the real scale (2,000 steps an epoch).
_BN_MOMENTUM = 0.9
LOSSES = ("categorical_crossentropy", "binary_crossentropy")


@dataclass(frozen=True)
class Preset:
    """An architecture: conv filters per block, dense units and regularisation."""

    filters: tuple[int, ...]
    dense_units: int
    dropout: float
    dense_dropout: float
    batch_norm: bool
    l2: float
    padding: str
    description: str
    vertical_pool: bool = False


#: multidigit's height-pooling model; ``wide`` is this with wider blocks and L2.
_FAST = Preset(
    filters=(32, 64, 64),
    dense_units=128,
    dropout=0.1,
    dense_dropout=0.3,
    batch_norm=True,
    l2=0.0,
    padding="same",
    vertical_pool=True,
    description="multidigit's default for the study command: three small blocks, "
    "then a max over the image height ('vpool') so each digit is read wherever it "
    "sits vertically (Triple MNIST offsets digits at random heights), Dense 128.",
)

PRESETS: dict[str, Preset] = {
    "baseline": Preset(
        filters=(32, 64),
        dense_units=256,
        dropout=0.25,
        dense_dropout=0.5,
        batch_norm=False,
        l2=1e-3,
        padding="valid",
        description="The study's first model: Conv 32 -> pool -> Conv 64 -> pool -> "
        "Dense 256, dropout .25/.25/.5, L2 1e-3.",
    ),
    "tuned": Preset(
        filters=(96, 128, 128),
        dense_units=256,
        dropout=0.25,
        dense_dropout=0.5,
        batch_norm=True,
        l2=1e-3,
        padding="same",
        description="The study's tuned model (keras-tuner's best): three blocks Conv "
        "96/128/128 'same' + BatchNorm + pool + dropout .25, Dense 256 + BatchNorm + "
        "dropout .5, L2 1e-3.",
    ),
    "fast": _FAST,
    "wide": replace(
        _FAST,
        filters=(64, 128, 128),
        dense_units=256,
        l2=1e-3,
        description="multidigit's default for real-scale data: the 'fast' preset's "
        "height max-pool with wider blocks (64/128/128), Dense 256 and L2 1e-3; with "
        "train(batch_size=128, schedule='onecycle', epochs=12) it reaches the study "
        "recipe's accuracy in under half its time (benchmarks/README.md).",
    ),
    "small": Preset(
        filters=(16, 32),
        dense_units=64,
        dropout=0.1,
        dense_dropout=0.25,
        batch_norm=True,
        l2=0.0,
        padding="same",
        description="A tiny, fast model for tests, examples and quick runs.",
    ),
}


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ModelError(
            f"unknown {name}={value!r}; choose one of: {', '.join(map(repr, choices))}."
        )


def build_model(
    activation: str = "softmax",
    loss: str = "binary_crossentropy",
    *,
    input_shape: Sequence[int] = (84, 84, 1),
    preset: str = "tuned",
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
) -> "keras.Model":
    """Build (and compile) a multi-head digit CNN.

    Parameters
    ----------
    activation : {"softmax", "sigmoid"}
        Output activation of every head.
    loss : {"categorical_crossentropy", "binary_crossentropy"}
        Loss of every head (the total loss is their sum).
    input_shape : (H, W, 1)
        Image shape; 84x84 is Triple MNIST, the study used 28x28.
    preset : {"baseline", "tuned", "fast", "wide", "small"}
        Architecture from the study (see :data:`PRESETS`); the explicit arguments
        below override it.
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

    Returns
    -------
    keras.Model
        A functional model with outputs ``digit_0 .. digit_{n-1}`` (dict outputs).
        Each head reports ``accuracy`` as argmax accuracy
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
    from keras import layers

    _check_choice("activation", activation, ACTIVATIONS)
    _check_choice("loss", loss, LOSSES)
    _check_choice("preset", preset, tuple(PRESETS))
    p = PRESETS[preset]
    filters = tuple(int(f) for f in (filters if filters is not None else p.filters))
    if not filters or any(f < 1 for f in filters):
        raise ModelError(f"filters must be a non-empty list of positive ints, got {filters!r}.")
    dense_units = int(dense_units if dense_units is not None else p.dense_units)
    dropout = float(p.dropout if dropout is None else dropout)
    dense_dropout = float(p.dense_dropout if dense_dropout is None else dense_dropout)
    batch_norm = bool(p.batch_norm if batch_norm is None else batch_norm)
    vertical_pool = bool(p.vertical_pool if vertical_pool is None else vertical_pool)
    l2 = float(p.l2 if l2 is None else l2)
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 1:
        raise ModelError(f"input_shape must be (H, W, 1), got {input_shape!r}.")
    if n_digits < 1:
        raise ModelError(f"n_digits must be >= 1, got {n_digits}.")
    if seed is not None:
        keras.utils.set_random_seed(seed)

    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for i, f in enumerate(filters, start=1):
        x = layers.Conv2D(
            f, 3, padding=p.padding, activation="relu", kernel_regularizer=reg, name=f"conv_{i}"
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"bn_{i}")(x)
        if x.shape[1] >= 2 and x.shape[2] >= 2:
            x = layers.MaxPooling2D(2, name=f"pool_{i}")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name=f"drop_{i}")(x)
    if vertical_pool:
        # Max over the whole height: features keep their column (which digit) but
        # not their row, so a digit is recognised at any vertical offset.
        x = layers.MaxPooling2D(pool_size=(int(x.shape[1]), 1), name="vpool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", kernel_regularizer=reg, name="dense")(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name="dense_bn")(x)
    if dense_dropout > 0:
        x = layers.Dropout(dense_dropout, name="dense_drop")(x)
    names = head_names(n_digits)
    outputs = {n: layers.Dense(10, activation=activation, name=n)(x) for n in names}
    model = keras.Model(inputs, outputs, name=f"multidigit_{preset}_{activation}_{loss}")
    if compile:
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss={n: loss for n in names},
            metrics={n: [keras.metrics.CategoricalAccuracy(name="accuracy")] for n in names},
        )
    return model


def conv_layer_names(model: "keras.Model") -> list[str]:
    """Names of the 2-D convolution layers, input side first."""
    import keras

    return [l.name for l in model.layers if isinstance(l, keras.layers.Conv2D)]


def last_conv_layer_name(model: "keras.Model") -> str:
    """Name of the last convolution (Grad-CAM's default layer)."""
    names = conv_layer_names(model)
    if not names:
        raise ModelError(f"model {model.name!r} has no Conv2D layer.")
    return names[-1]


def save_model(model: "keras.Model", path: str | os.PathLike[str]) -> Path:
    """Save a model in the native ``.keras`` format (atomic write).

    Examples
    --------
    >>> md.save_model(model, "digits.keras")   # doctest: +SKIP
    """
    from ._io import atomic_path

    path = Path(path).expanduser()
    if path.suffix != ".keras":
        raise ModelError(f"save to a '.keras' file (native Keras format), got {str(path)!r}.")
    with atomic_path(path, suffix=".keras") as tmp:  # Keras wants the .keras suffix
        model.save(tmp)
    return path


def load_model(
    path: str | os.PathLike[str], *, safe_mode: bool = True, compile: bool = True
) -> "keras.Model":
    """Load a model saved with :func:`save_model` (safe mode on: no arbitrary code).

    Examples
    --------
    >>> model = md.load_model("digits.keras")   # doctest: +SKIP
    """
    import keras

    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"model file {str(path)!r} does not exist.")
    return keras.saving.load_model(path, safe_mode=safe_mode, compile=compile)
