"""Measure a trained model (:func:`evaluate`) and read new images (:func:`predict`).

:func:`evaluate` reports per-digit and whole-number accuracy, Hamming loss, the
model's loss, classification reports, confusion matrices and how trustworthy the
probabilities are (Brier score and expected calibration error per head, see
:mod:`multidigit.evaluation.calibration`).  :func:`predict` reads labels such as ``"042"`` from
arrays or image files.

Examples
--------
>>> res = md.evaluate(model, ds.test)     # doctest: +SKIP
>>> md.predict(model, "scans/").labels    # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit import _defaults as D
from multidigit._inputs import as_pixels, check_model, checked_split, model_image_shape
from multidigit._param_validation import Body, Bool, Check, Int, fail, validate_params
from multidigit._results import Result, html_table, to_jsonable
from multidigit.data import MultiDigitDataset, Split
from multidigit.data.decoding import check_image_size
from multidigit.errors import DataError, ModelError
from multidigit.evaluation.calibration import brier_score, expected_calibration_error
from multidigit.model.heads import model_head_names

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["EvaluationResult", "Prediction", "evaluate", "predict"]


# =========================================================================== evaluate
@dataclass
class EvaluationResult(Result):
    """What :func:`evaluate` returns.

    Attributes
    ----------
    digit_accuracy : list of float
        Accuracy of each digit position (argmax of its head).
    mean_digit_accuracy : float
        Their mean: the fraction of digits read correctly.
    whole_accuracy : float
        Fraction of images with *every* digit right (the number read correctly).
    hamming_loss : float
        :func:`sklearn.metrics.hamming_loss` on the flat multi-hot encoding
        (``10 x n_digits`` labels per image, predicted by each head's argmax).  With
        one class per head it equals ``(1 - mean_digit_accuracy) / 5``.
    loss : float or None
        The model's loss on the split (as ``model.evaluate``; None if not compiled).
    n_images : int
        Images evaluated.
    reports : list of dict
        Per position, :func:`sklearn.metrics.classification_report` (``output_dict``).
    confusion_matrices : ndarray of int, shape (n_digits, 10, 10)
        Per position, rows = true digit, columns = predicted digit.
    predicted : ndarray of int, shape (N, n_digits)
        The predicted digits (not in :meth:`to_dict`).
    split_name : str
        Name of the evaluated split.
    brier_score : list of float
        Per head, the Brier score of its outputs (0 is perfect).
    mean_brier_score : float
        Their mean.
    ece : list of float
        Per head, the expected calibration error (15 equal-width confidence bins).
    mean_ece : float
        Their mean.
    """

    digit_accuracy: list[float]
    mean_digit_accuracy: float
    whole_accuracy: float
    hamming_loss: float
    loss: float | None
    n_images: int
    reports: list[dict[str, Any]] = field(repr=False)
    confusion_matrices: np.ndarray = field(repr=False)
    predicted: np.ndarray = field(repr=False)
    split_name: str = "split"
    brier_score: list[float] = field(default_factory=list)
    mean_brier_score: float = float("nan")
    ece: list[float] = field(default_factory=list)
    mean_ece: float = float("nan")

    @property
    def n_digits(self) -> int:
        return len(self.digit_accuracy)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (without the per-image predictions)."""
        return to_jsonable({
            "split": self.split_name, "n_images": self.n_images, "loss": self.loss,
            "digit_accuracy": self.digit_accuracy,
            "mean_digit_accuracy": self.mean_digit_accuracy,
            "whole_accuracy": self.whole_accuracy, "hamming_loss": self.hamming_loss,
            "brier_score": self.brier_score, "mean_brier_score": self.mean_brier_score,
            "ece": self.ece, "mean_ece": self.mean_ece,
            "reports": self.reports, "confusion_matrices": self.confusion_matrices,
        })

    def summary(self) -> str:
        """A few readable lines."""
        per = ", ".join(f"digit_{i} {100 * a:.1f} %" for i, a in enumerate(self.digit_accuracy))
        loss = "n/a" if self.loss is None else f"{self.loss:.4f}"
        return "\n".join([
            f"Evaluation on {self.split_name!r} ({self.n_images} images)",
            f"  whole-number accuracy  {100 * self.whole_accuracy:6.2f} %",
            f"  mean digit accuracy    {100 * self.mean_digit_accuracy:6.2f} %  ({per})",
            f"  Hamming loss           {self.hamming_loss:.4f}",
            f"  loss                   {loss}",
            f"  Brier score            {self.mean_brier_score:.4f}",
            f"  calibration error      {self.mean_ece:.4f}  (ECE, 15 bins)",
        ])

    __str__ = summary

    def __repr__(self) -> str:
        return (f"EvaluationResult(split={self.split_name!r}, n_images={self.n_images}, "
                f"mean_digit_accuracy={self.mean_digit_accuracy:.4f}, "
                f"whole_accuracy={self.whole_accuracy:.4f})")

    def _repr_html_(self) -> str:
        heads = [f"digit_{i}" for i in range(self.n_digits)]
        per_head = [
            ["accuracy", *self.digit_accuracy, self.mean_digit_accuracy],
            ["Brier score", *self.brier_score, self.mean_brier_score],
            ["ECE", *self.ece, self.mean_ece],
        ]
        overall = [["images", self.n_images], ["whole-number accuracy", self.whole_accuracy],
                   ["Hamming loss", self.hamming_loss],
                   ["loss", "n/a" if self.loss is None else self.loss]]
        return (html_table(overall, ["", ""], caption=f"Evaluation on {self.split_name!r}")
                + html_table([r for r in per_head if len(r) == self.n_digits + 2],
                             ["", *heads, "mean"]))

    def plot(self, ax: "Axes | None" = None, *, normalize: bool = False) -> "Figure":
        """The confusion matrices: :func:`multidigit.plots.plot_confusion_matrices`.

        Examples
        --------
        >>> fig = md.evaluate(model, ds.test).plot(normalize=True)   # doctest: +SKIP
        """
        from multidigit.plots import plot_confusion_matrices

        return plot_confusion_matrices(self, normalize=normalize, ax=ax)


def _check_split(split: Any) -> Split:
    if isinstance(split, MultiDigitDataset):
        raise fail("split", "one Split, e.g. ds.test or ds.val", "a MultiDigitDataset")
    if not isinstance(split, Split):
        raise fail("split", "a multidigit Split", type(split).__name__)
    if len(split) == 0:
        raise DataError(f"split {split.name!r} is empty.")
    return checked_split(split)


def _compiled_loss(model: keras.Model, split: Split, names: list[str],
                   probs: dict[str, np.ndarray]) -> float | None:
    """The compiled loss (plus regularisation) on ``probs``: ``model.evaluate``'s number
    without running the model a second time."""
    from keras import ops

    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        return None
    y_true = split.one_hot()
    value = model.compute_loss(
        x=split.images[:0],
        y={n: ops.convert_to_tensor(y_true[n]) for n in names},
        y_pred={n: ops.convert_to_tensor(probs[n]) for n in names},
        training=False,
    )
    return float(ops.convert_to_numpy(value))


def _reports(split: Split, predicted: np.ndarray) -> tuple[list[dict[str, Any]], np.ndarray]:
    from sklearn.metrics import classification_report, confusion_matrix

    labels10 = list(range(10))
    reports = [
        classification_report(split.labels[:, i], predicted[:, i], labels=labels10,
                               target_names=[str(d) for d in labels10], output_dict=True,
                               zero_division=0)
        for i in range(split.n_digits)
    ]
    cms = np.stack([confusion_matrix(split.labels[:, i], predicted[:, i], labels=labels10)
                    for i in range(split.n_digits)])
    return to_jsonable(reports), cms


@validate_params({
    "model": Body("a keras.Model whose heads fit the split"),
    "split": Body("one Split"),
    "batch_size": Int(min=1),
})
def evaluate(model: keras.Model, split: Split, *,
             batch_size: int = D.PREDICT_BATCH_SIZE) -> EvaluationResult:
    """Measure a model on one split.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`multidigit.build_model` (compiled, to report the loss).
    split : Split
        For instance ``ds.test``.
    batch_size : int
        Inference batch size.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    ParameterError
        ``split`` is not a Split (a whole dataset, an array), a bad ``batch_size``.
    DataError
        An empty split, or NaN / infinite / out-of-range pixels.
    ModelError
        A model whose heads or input do not fit the split.

    Examples
    --------
    >>> res = md.evaluate(model, ds.test)     # doctest: +SKIP
    >>> print(res)                            # doctest: +SKIP
    >>> res.whole_accuracy, res.mean_ece      # doctest: +SKIP
    """
    from keras import ops
    from sklearn.metrics import hamming_loss

    split = _check_split(split)
    batch_size = int(batch_size)
    names = check_model(model, split, need_compiled=False)
    raw = model.predict(split.images, batch_size=batch_size, verbose=0)
    probs = {n: np.asarray(ops.convert_to_numpy(raw[n])) for n in names}
    predicted = np.stack([probs[n].argmax(axis=1) for n in names], axis=1).astype(np.int64)
    correct = predicted == split.labels
    digit_acc = [float(v) for v in correct.mean(axis=0)]
    eye = np.eye(10, dtype=np.int64)
    pred_hot = np.concatenate([eye[predicted[:, i]] for i in range(split.n_digits)], axis=1)
    reports, cms = _reports(split, predicted)
    brier = [brier_score(probs[n], split.labels[:, i]) for i, n in enumerate(names)]
    ece = [expected_calibration_error(probs[n], split.labels[:, i]) for i, n in enumerate(names)]
    return EvaluationResult(
        digit_accuracy=digit_acc,
        mean_digit_accuracy=float(np.mean(digit_acc)),
        whole_accuracy=float(correct.all(axis=1).mean()),
        hamming_loss=float(hamming_loss(split.multi_hot().astype(np.int64), pred_hot)),
        loss=_compiled_loss(model, split, names, probs),
        n_images=len(split), reports=reports, confusion_matrices=cms, predicted=predicted,
        split_name=split.name, brier_score=brier, mean_brier_score=float(np.mean(brier)),
        ece=ece, mean_ece=float(np.mean(ece)),
    )


# =========================================================================== predict
@dataclass
class Prediction(Result):
    """What :func:`predict` returns.

    Attributes
    ----------
    labels : list of str
        The number read in each image, ``"042"``.
    digits : ndarray of int, shape (N, n_digits)
        The same as integers.
    probabilities : ndarray of float32, shape (N, n_digits, 10)
        Each head's output (softmax or sigmoid scores).
    paths : list of str or None
        The files read, when predicting from files.
    """

    labels: list[str]
    digits: np.ndarray
    probabilities: np.ndarray
    paths: list[str] | None = None

    #: Rows shown in the notebook table (the rest is summarised in one line).
    HTML_ROWS = 20

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def confidence(self) -> np.ndarray:
        """Per image, the product of each head's top score, shape (N,)."""
        return self.probabilities.max(axis=2).prod(axis=1)

    def __repr__(self) -> str:
        shown = ", ".join(repr(s) for s in self.labels[:5])
        more = f", ... ({len(self)} images)" if len(self) > 5 else ""
        return f"Prediction(labels=[{shown}{more}])"

    def _repr_html_(self) -> str:
        conf = self.confidence
        rows = []
        for i in range(min(len(self), self.HTML_ROWS)):
            row = [i, self.labels[i], float(conf[i])]
            rows.append(row + ([self.paths[i]] if self.paths else []))
        header = ["image", "label", "confidence"] + (["file"] if self.paths else [])
        caption = f"Prediction: {len(self)} images"
        if len(self) > self.HTML_ROWS:
            caption += f" (first {self.HTML_ROWS} shown)"
        return html_table(rows, header, caption=caption)


def _as_image_batch(images: Any, target: tuple[int, int, int],
                    resize: bool = False) -> np.ndarray:
    """``images`` as a float32 ``(N, H, W, 1)`` batch in [0, 1] at the model's size."""
    x = np.asarray(images)
    if x.dtype.kind not in "biuf":
        raise fail("images", "a numeric array", f"dtype {x.dtype}")
    if x.size == 0:
        raise DataError(f"predict() got an empty batch (shape {x.shape}); pass at least one "
                        "image.")
    if x.ndim == 3 and x.shape[-1] in (3, 4):
        # (H, W, 3) would otherwise be read as H images of W x 3 pixels
        raise DataError(
            f"images of shape {x.shape} look like one RGB(A) image; the models read grey "
            "images: convert it (e.g. images[..., :3].mean(axis=-1)) or pass a batch "
            "(N, H, W, 1)."
        )
    x = as_pixels(x, "images")  # the one pixel rule (uint8 / 255, bool 0/1, float [0, 1])
    if x.ndim == 2:  # one (H, W) image
        x = x[None, ..., None]
    elif x.ndim == 3:
        # (H, W, 1) is one image (a batch of 1-pixel-wide images is no input); else a
        # batch (N, H, W)
        x = x[None] if x.shape[-1] == 1 and x.shape[1] != 1 else x[..., None]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise DataError(
            f"images must be (N, H, W, 1), (N, H, W) or one (H, W) image, got "
            f"{np.shape(images)}; convert colour images to grey first."
        )
    if x.shape[1:3] != tuple(target[:2]) and -1 not in target[:2] and not resize:
        raise DataError(
            f"the images are {x.shape[1]}x{x.shape[2]} pixels, the model reads "
            f"{target[0]}x{target[1]}; resize them (load_dataset(image_size=...)) or pass "
            f"image_size={tuple(x.shape[1:3])} to resize them to the model's input."
        )
    if x.shape[1:3] != tuple(target[:2]) and -1 not in target[:2]:
        from keras import ops

        # resize to the model's input (bicubic, like load_dataset), keep [0, 1]
        x = np.clip(ops.convert_to_numpy(
            ops.image.resize(x, target[:2], interpolation="bicubic", antialias=True)),
            0.0, 1.0).astype(np.float32)
    return x


def _is_paths(obj: Any) -> bool:
    if isinstance(obj, (str, os.PathLike)):
        return True
    return (isinstance(obj, (list, tuple)) and len(obj) > 0
            and all(isinstance(p, (str, os.PathLike)) for p in obj))


def _read_inputs(images_or_png_paths: Any, size: tuple[int, ...]) -> tuple[Any, list[str] | None]:
    """The pixels to predict on, and the file paths when they came from files."""
    from multidigit.data import iter_image_paths, read_images

    if isinstance(images_or_png_paths, Split):
        return images_or_png_paths.images, None
    if not _is_paths(images_or_png_paths):
        return images_or_png_paths, None
    items = ([images_or_png_paths] if isinstance(images_or_png_paths, (str, os.PathLike))
             else list(images_or_png_paths))
    files = iter_image_paths(items)
    if not files:
        raise DataError(f"no image files found in {[str(p) for p in items]}.")
    return read_images(files, None if -1 in size else size), [str(p) for p in files]


@validate_params({
    "model": Body("a keras.Model with digit_k heads"),
    "images_or_png_paths": Body("images, a Split, or image files"),
    "image_size": Check(check_image_size, invalid=0),
    "batch_size": Int(min=1),
    "prepare": Bool(),
})
def predict(
    model: keras.Model,
    images_or_png_paths: Any,
    *,
    image_size: tuple[int, int] | None = None,
    batch_size: int = D.PREDICT_BATCH_SIZE,
    prepare: bool = False,
) -> Prediction:
    """Read the digits in images.

    Parameters
    ----------
    model : keras.Model
        A trained model from :func:`multidigit.build_model`.
    images_or_png_paths : array, path, folder or list of paths
        An array ``(N, H, W, 1)``, ``(N, H, W)``, one ``(H, W, 1)`` or ``(H, W)``
        image (floats in [0, 1], ``uint8`` divided by 255, ``bool`` read as 0/1; other
        integer types are refused: see :doc:`/bad_inputs`); a Split; or image files:
        one path, a list of paths, or a folder (searched recursively).  Files of
        another size are resized to the model's input; arrays must have its size.
    image_size : int or (H, W), optional
        Size to resize files (and arrays, from that size) to before the model's own
        size; default: the model's input size.
    batch_size : int
        Inference batch size.
    prepare : bool
        Run :func:`multidigit.prepare_handwriting` on each image first (find the digits,
        normalise them as MNIST's, lay them out as the model reads them): for drawings,
        photos and scans.  Then one picture may also be ``(H, W, 3)`` colour, and a
        list may hold pictures of different sizes.

    Returns
    -------
    Prediction

    Raises
    ------
    DigitCountError
        With ``prepare=True``: an image holds more or fewer digits than the model reads.
    DataError
        An empty batch, a colour image, NaN / infinite / out-of-range pixels, no files.
    ModelError
        A model without ``digit_k`` heads.

    Examples
    --------
    >>> pred = md.predict(model, ["a.png", "b.png"])   # doctest: +SKIP
    >>> pred.labels                                   # doctest: +SKIP
    ['042', '917']
    """
    from keras import ops

    batch_size = int(batch_size)
    target = model_image_shape(model)
    image_size = check_image_size(image_size)
    size = image_size if image_size is not None else target[:2]
    x, paths = _read_inputs(images_or_png_paths, size)
    if prepare:
        from multidigit.handwriting.prepare import prepare_batch

        n_heads = len([n for n in model_head_names(model) if n.startswith("digit_")])
        x = prepare_batch(x, n_heads, image_size=size if -1 not in size else (84, 84))
    x = _as_image_batch(x, target if image_size is None else (*size, 1))
    if image_size is not None and tuple(x.shape[1:3]) != tuple(target[:2]) and -1 not in target:
        x = _as_image_batch(x, target, resize=True)
    names = [n for n in model_head_names(model) if n.startswith("digit_")]
    if not names:
        raise ModelError(f"model {model.name!r} has no digit_k outputs; use build_model.")
    raw = model.predict(x, batch_size=batch_size, verbose=0)
    probs = np.stack([np.asarray(ops.convert_to_numpy(raw[n])) for n in names],
                     axis=1).astype(np.float32)
    digits = probs.argmax(axis=2).astype(np.int64)
    labels = ["".join(str(d) for d in row) for row in digits]
    return Prediction(labels=labels, digits=digits, probabilities=probs, paths=paths)
