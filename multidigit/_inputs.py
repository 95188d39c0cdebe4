"""Checks shared by train / evaluate / predict / cross_validate: the data and the model.

One clear multidigit error per problem: a bad argument raises ``ParameterError``,
bad data content (empty, NaN / inf / out-of-range pixels) ``DataError``, and a model
that does not fit the data ``ModelError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from multidigit._param_validation import fail
from multidigit.data import MultiDigitDataset, Split
from multidigit.data.dataset import _checked_labels, as_pixels, check_pixels  # the one pixel rule
from multidigit.errors import DataError, ModelError
from multidigit.model.heads import head_names, model_head_names

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "as_pixels",
    "check_model",
    "checked_split",
    "check_pixels",
    "model_image_shape",
    "resolve_data",
    "training_split",
]

_DATA = "a MultiDigitDataset (from load_dataset) or a Split"


def _validation_of(data: Any, validation: Any) -> Split | None:
    if isinstance(validation, str):
        if validation != "val":
            raise fail("validation", "'val' (the dataset's validation split), a Split or None",
                       validation, hint="Never validate on the test split.")
        return data.val if isinstance(data, MultiDigitDataset) else None
    if validation is not None and not isinstance(validation, Split):
        raise fail("validation", "'val', a Split or None", type(validation).__name__)
    return validation


def checked_split(split: Split) -> Split:
    """``split`` checked again where it is used: its labels or pixels may have been
    changed in place since it was made (``split.labels[0, 0] = -1``).  Pixels follow
    :func:`as_pixels`; returns a new Split only when they had to be converted.

    Examples
    --------
    >>> import numpy as np
    >>> s = Split(np.zeros((1, 4, 4, 1), "float32"), [[0, 4, 2]])
    >>> s.labels[0, 0] = -1
    >>> checked_split(s)
    Traceback (most recent call last):
    ...
    multidigit.errors.DataError: split 'split': labels must be digits 0-9, ...
    """
    _checked_labels(split.labels, split.name)
    images = as_pixels(split.images, f"split {split.name!r}")
    return split if images is split.images else Split(images, split.labels, split.name)


def resolve_data(data: Any, validation: Any) -> tuple[Split, Split | None]:
    """The training and validation splits :func:`multidigit.train` fits on."""
    train_split = training_split(data)
    val_split = _validation_of(data, validation)
    if len(train_split) == 0:
        raise DataError("the training split is empty.")
    train_split = checked_split(train_split)
    if val_split is not None and len(val_split) == 0:
        val_split = None
    if val_split is not None:
        val_split = checked_split(val_split)
    return train_split, val_split


def training_split(data: Any) -> Split:
    """``data.train`` for a dataset, the split itself for a Split (messages name the
    public function called, see :func:`multidigit._param_validation.validate_params`)."""
    if isinstance(data, MultiDigitDataset):
        return data.train
    if isinstance(data, Split):
        return data
    raise fail("data", _DATA, type(data).__name__,
               hint="Wrap arrays with multidigit.Split(images, labels).")


def model_image_shape(model: keras.Model) -> tuple[int, int, int]:
    """The model's (H, W, C) input; -1 for a free dimension."""
    shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if shape is None or len(shape) != 3:
        raise ModelError(
            f"model {getattr(model, 'name', model)!r} must take one (H, W, 1) image "
            "input; build it with multidigit.build_model."
        )
    return tuple(int(d) if d is not None else -1 for d in shape)  # type: ignore[return-value]


def check_model(model: Any, split: Split, *, need_compiled: bool) -> list[str]:
    """Check that ``model`` fits ``split`` (heads, input shape); return the head names."""
    import keras

    if not isinstance(model, keras.Model):
        raise fail("model", "a keras.Model (from multidigit.build_model)",
                   type(model).__name__)
    if need_compiled and getattr(model, "optimizer", None) is None:
        raise ModelError(
            f"model {model.name!r} is not compiled; build it with "
            "multidigit.build_model(..., compile=True) or call model.compile(...)."
        )
    expected = head_names(split.n_digits)
    names = model_head_names(model)
    if sorted(names) != sorted(expected):
        raise ModelError(
            f"model {model.name!r} has outputs {names}, but the data has "
            f"{split.n_digits} digits (expected outputs {expected}); build the model "
            f"with n_digits={split.n_digits}."
        )
    shape = model_image_shape(model)
    if any(a != -1 and a != b for a, b in zip(shape, split.image_shape)):
        raise ModelError(
            f"model {model.name!r} expects images of shape {shape}, the data holds "
            f"{split.image_shape}; build the model with input_shape={split.image_shape} "
            "or load the dataset with image_size=(H, W)."
        )
    return expected
