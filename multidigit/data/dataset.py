"""The dataset types: one :class:`Split` of images and labels, and the three-split
:class:`MultiDigitDataset`.

A :class:`Split` checks its content when it is made, so bad data never reaches
training or evaluation: labels must be whole digits 0-9, and pixels finite, not
negative, and (for float images) at most 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit._param_validation import (
    Bool,
    Choice,
    Int,
    validate_params,
)
from multidigit.errors import DataError
from multidigit.model.heads import head_names

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

__all__ = ["SPLITS", "MultiDigitDataset", "Split"]

SPLITS: tuple[str, str, str] = ("train", "val", "test")


def _to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) -> float32 (N, H, W, 1) in [0, 1]."""
    out = images.astype(np.float32)
    out /= np.float32(255.0)  # a division, as the study's ``/ 255.0``: the same float32 bits
    return out[..., None]


def _checked_labels(labels: Any, name: str) -> np.ndarray:
    """Labels as int64, refusing what a cast would silently change (-1, 8.5, 10)."""
    raw = np.asarray(labels)
    if raw.dtype.kind not in "biuf":
        raise DataError(
            f"split {name!r}: labels must be integers 0-9, got an array of {raw.dtype}; "
            "convert label strings like '042' with [[int(c) for c in s] for s in labels]."
        )
    if raw.size and raw.dtype.kind == "f":
        bad = ~np.isfinite(raw) | (raw != np.round(raw))
        if bad.any():
            raise DataError(
                f"split {name!r}: labels must be whole digits 0-9, but "
                f"{int(bad.sum())} are not (first: {raw[bad].flat[0]!r}); fix the labels "
                "instead of rounding them."
            )
    out = raw.astype(np.int64)
    if out.size and (out.min() < 0 or out.max() > 9):
        bad = out[(out < 0) | (out > 9)]
        raise DataError(
            f"split {name!r}: labels must be digits 0-9, but {bad.size} are not "
            f"(first: {int(bad.flat[0])}); each label is one digit per position, e.g. "
            "[0, 4, 2] for '042'."
        )
    return out


def check_pixels(images: np.ndarray, what: str = "images") -> None:
    """Refuse NaN / inf, negative pixels, float pixels above 1 and integer pixels above
    255: the one pixel check of :class:`Split`, ``train``, ``evaluate`` and ``predict``.

    ``min`` / ``max`` propagate NaN, so two reductions find every bad value without a
    temporary array the size of the data.

    Examples
    --------
    >>> check_pixels(np.zeros((1, 2, 2, 1)))
    >>> check_pixels(np.full((1, 2, 2, 1), np.nan))
    Traceback (most recent call last):
    ...
    multidigit.errors.DataError: images: 4 pixels are NaN or infinite; ...
    """
    images = np.asarray(images)
    if images.size == 0 or images.dtype.kind not in "biuf":
        return
    lo, hi = images.min(), images.max()
    if images.dtype.kind == "f" and not (np.isfinite(lo) and np.isfinite(hi)):
        n_bad = int((~np.isfinite(images)).sum())
        raise DataError(
            f"{what}: {n_bad} pixels are NaN or infinite; the images are corrupt "
            "or were divided by zero: drop those images or replace the values "
            "(e.g. np.nan_to_num)."
        )
    if lo < 0:
        raise DataError(
            f"{what}: pixels must not be negative (min {float(lo):g}); images "
            "are grey levels in [0, 1]: undo any mean subtraction or rescale them."
        )
    if images.dtype.kind == "f" and hi > 1:
        raise DataError(
            f"{what}: float pixels must lie in [0, 1] (max {float(hi):g}); "
            "divide 0-255 images by 255."
        )
    if hi > 255:
        raise DataError(f"{what}: integer pixels must lie in [0, 255] (max {int(hi)}).")


def as_pixels(images: Any, what: str = "images") -> np.ndarray:
    """The one pixel rule of every entry point (Split, train, evaluate, predict, explain).

    * ``uint8``: grey levels 0-255, divided by 255;
    * ``bool``: a mask, read as 0 and 1;
    * float: must lie in [0, 1] (no NaN or infinity);
    * any other integer type (``int64``, ``uint16``, ...) is refused: 0/1 or 0-255 cannot
      be told apart, so the caller says which (``astype("uint8")`` or ``/ 255``).

    Returns float32 (the same array when it already is valid float32).

    Examples
    --------
    >>> as_pixels(np.array([[0, 255]], np.uint8)).tolist()
    [[0.0, 1.0]]
    >>> as_pixels(np.array([[False, True]])).tolist()
    [[0.0, 1.0]]
    >>> as_pixels(np.array([[0, 1]]))
    Traceback (most recent call last):
    ...
    multidigit.errors.DataError: images: int64 pixels are ambiguous ...
    """
    x = np.asarray(images)
    if x.dtype == bool:
        return x.astype(np.float32)
    if x.dtype.kind in "iu" and x.dtype != np.uint8:
        raise DataError(
            f"{what}: {x.dtype} pixels are ambiguous (0/1 or 0-255?); pass uint8 grey "
            "levels 0-255 (images.astype('uint8')) or floats in [0, 1] (images / 255)."
        )
    if x.dtype.kind not in "uf":
        raise DataError(f"{what}: pixels must be numbers, got an array of {x.dtype}.")
    check_pixels(x, what)
    if x.dtype == np.uint8:
        out = x.astype(np.float32)
        out /= np.float32(255.0)  # a division, as _to_float: the same float32 bits
        return out
    return x.astype(np.float32, copy=False)


@dataclass
class Split:
    """One split (train, val or test) of a multi-digit dataset.

    Attributes
    ----------
    images : ndarray of float32, shape (N, H, W, 1)
        Grey images scaled to [0, 1].
    labels : ndarray of int64, shape (N, n_digits)
        The digit at each position, left to right.
    name : str
        ``"train"``, ``"val"`` or ``"test"``.
    boxes : ndarray of int, shape (N, n_digits, 4), optional
        Where each digit is, ``(top, left, bottom, right)`` (bottom and right
        exclusive); see :mod:`multidigit.data.boxes`.  :meth:`digit_boxes` estimates
        them from the ink when they are not given.

    Raises
    ------
    DataError
        Wrong shapes, labels that are not digits 0-9, or pixels that are NaN,
        infinite, negative or (float images) above 1.

    Examples
    --------
    >>> import numpy as np
    >>> s = Split(np.zeros((2, 84, 84, 1), "float32"), np.array([[0, 4, 2], [9, 9, 9]]))
    >>> s.label_strings.tolist()
    ['042', '999']
    >>> s.one_hot()["digit_1"].argmax(1).tolist()
    [4, 9]
    """

    images: np.ndarray
    labels: np.ndarray
    name: str = "split"
    boxes: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.images = as_pixels(self.images, f"split {self.name!r}")
        self.labels = _checked_labels(self.labels, self.name)
        if self.images.ndim == 3:
            self.images = self.images[..., None]
        if self.images.ndim != 4 or self.images.shape[-1] != 1:
            raise DataError(
                f"split {self.name!r}: images must have shape (N, H, W, 1), got "
                f"{self.images.shape}; add a channel axis with images[..., None]."
            )
        if self.labels.ndim != 2 or len(self.labels) != len(self.images):
            raise DataError(
                f"split {self.name!r}: labels must have shape (N, n_digits) with N = "
                f"{len(self.images)} images, got {self.labels.shape}."
            )
        if self.boxes is not None:
            self.boxes = np.asarray(self.boxes, dtype=np.int64)
            if self.boxes.shape != (len(self.images), self.labels.shape[1], 4):
                raise DataError(
                    f"split {self.name!r}: boxes must have shape (N, n_digits, 4) = "
                    f"({len(self.images)}, {self.labels.shape[1]}, 4), got "
                    f"{self.boxes.shape}; pass boxes=None to estimate them from the ink."
                )

    def digit_boxes(self) -> np.ndarray:
        """Each digit's box ``(N, n_digits, 4)``: :attr:`boxes`, or estimated from the
        ink (:func:`multidigit.data.boxes.ink_boxes`) when the split has none."""
        if self.boxes is not None:
            return self.boxes
        from multidigit.data.boxes import ink_boxes

        return ink_boxes(self.images, self.n_digits)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        return (
            f"Split({self.name!r}, n={len(self)}, image_shape={self.image_shape}, "
            f"n_labels={len(np.unique(self.label_strings)) if len(self) else 0})"
        )

    @property
    def n_digits(self) -> int:
        """Number of digits per image (3 for Triple MNIST)."""
        return int(self.labels.shape[1])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape of one image, ``(H, W, 1)``."""
        return tuple(int(d) for d in self.images.shape[1:])  # type: ignore[return-value]

    @property
    def label_strings(self) -> np.ndarray:
        """The labels as strings, ``"042"``, one per image."""
        if len(self) == 0:
            return np.array([], dtype=f"<U{self.n_digits}")
        chars = (self.labels + ord("0")).astype(np.uint32)
        return chars.view(f"<U{self.n_digits}").reshape(-1)

    @property
    def label_ids(self) -> np.ndarray:
        """The label combination as one integer (``"042"`` -> 42), used to group folds."""
        weights = 10 ** np.arange(self.n_digits - 1, -1, -1)
        return self.labels @ weights

    def one_hot(self) -> dict[str, np.ndarray]:
        """Per-head one-hot targets ``{"digit_0": (N, 10), ...}`` (float32)."""
        eye = np.eye(10, dtype=np.float32)
        return {name: eye[self.labels[:, i]] for i, name in enumerate(head_names(self.n_digits))}

    def multi_hot(self) -> np.ndarray:
        """Flat multi-hot encoding, shape (N, 10 * n_digits): position i uses columns
        ``10*i .. 10*i+9``."""
        return np.concatenate(list(self.one_hot().values()), axis=1)

    def subset(self, index: Sequence[int] | np.ndarray, name: str | None = None) -> Split:
        """A new split holding the rows ``index`` (a copy)."""
        index = np.asarray(index)
        boxes = None if self.boxes is None else self.boxes[index]
        return Split(self.images[index], self.labels[index], name or self.name, boxes)

    @validate_params({
        "batch_size": Int(min=1), "shuffle": Bool(), "seed": Int(), "cache": Bool(),
        "targets": Choice(("heads", "multi_hot", "labels")), "drop_remainder": Bool(),
    })
    def to_tf_dataset(
        self,
        batch_size: int = 32,
        *,
        shuffle: bool = True,
        seed: int = 0,
        cache: bool = False,
        targets: str = "heads",
        drop_remainder: bool = False,
    ) -> tf.data.Dataset:
        """A batched, prefetched ``tf.data.Dataset`` of ``(images, targets)``.

        Parameters
        ----------
        batch_size : int
            Images per batch.
        shuffle : bool
            Reshuffle every epoch with ``seed`` (a fixed sequence of orders).
        seed : int
            Shuffle seed.
        cache : bool
            Cache the batches in memory after the first epoch.
        targets : {"heads", "multi_hot", "labels"}
            Per-head one-hot dict (for :func:`multidigit.build_model`), the flat
            30-way multi-hot vector, or the integer labels.
        """
        import tensorflow as tf

        y: Any = {"heads": self.one_hot, "multi_hot": self.multi_hot,
                  "labels": lambda: self.labels}[targets]()
        ds = tf.data.Dataset.from_tensor_slices((self.images, y))
        if cache:
            ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(
                min(len(self), 50_000), seed=seed, reshuffle_each_iteration=True
            )
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        return ds.prefetch(tf.data.AUTOTUNE)


@dataclass
class MultiDigitDataset:
    """A multi-digit MNIST dataset with ``train``, ``val`` and ``test`` splits.

    Returned by :func:`multidigit.load_dataset`.  Iterate over :attr:`splits` or index
    by name (``ds["test"]``).

    Examples
    --------
    >>> import numpy as np
    >>> s = {n: Split(np.zeros((1, 28, 28)), [[0, 4, 2]], n) for n in SPLITS}
    >>> ds = MultiDigitDataset(s["train"], s["val"], s["test"], source="toy")
    >>> ds["test"].image_shape, ds.n_digits
    ((28, 28, 1), 3)
    """

    train: Split
    val: Split
    test: Split
    source: str = "mini"
    info: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Split:
        if name not in SPLITS:
            raise KeyError(f"no split {name!r}; the splits are {', '.join(SPLITS)}")
        return getattr(self, name)

    @property
    def splits(self) -> dict[str, Split]:
        """``{"train": ..., "val": ..., "test": ...}``."""
        return {name: getattr(self, name) for name in SPLITS}

    @property
    def n_digits(self) -> int:
        """Number of digits per image."""
        return self.train.n_digits

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape of one image, ``(H, W, 1)``."""
        return self.train.image_shape

    def describe(self) -> dict[str, Any]:
        """Plain summary: per split, the number of images, labels, image shape and the
        overlap of label combinations with the training split (0 for a leak-free set)."""
        train_labels = set(self.train.label_strings.tolist())
        out: dict[str, Any] = {"source": self.source, "n_digits": self.n_digits, "splits": {}}
        for name, split in self.splits.items():
            labels = set(split.label_strings.tolist())
            out["splits"][name] = {
                "images": len(split),
                "labels": len(labels),
                "image_shape": list(split.image_shape),
                "pixel_min": float(split.images.min()) if len(split) else None,
                "pixel_max": float(split.images.max()) if len(split) else None,
                "labels_shared_with_train": 0 if name == "train" else len(labels & train_labels),
            }
        out.update({k: v for k, v in self.info.items() if k not in out})
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={len(s)}" for n, s in self.splits.items())
        return (
            f"MultiDigitDataset(source={self.source!r}, {parts}, "
            f"image_shape={self.image_shape}, n_digits={self.n_digits})"
        )
