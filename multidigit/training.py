"""Train, evaluate, predict, cross-validate and compare multi-head digit CNNs.

Everything here is backend-agnostic Keras 3 (``keras.ops``, ``keras.callbacks``);
models come from :func:`multidigit.build_model` (dict outputs ``digit_0 ..``).

* :func:`train` - ``model.fit`` with the study's learning-rate schedule, early stopping,
  checkpointing, CSV / TensorBoard logs and an optional rich progress display.
* :func:`evaluate` - per-digit and whole-number accuracy, Hamming loss, loss,
  classification reports and confusion matrices.
* :func:`predict` - labels (``"042"``) and probabilities for arrays or PNG files.
* :func:`make_folds` / :func:`cross_validate` - k-fold cross-validation, grouped by
  label combination so a validation fold never holds a combination seen in training.
* :func:`compare` - output activation x loss on the *same* folds and seeds, ranked by
  accuracy with 95 % intervals and a paired test.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, Union

import numpy as np

from .data import MultiDigitDataset, Split, head_names
from .errors import DataError, ModelError

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "SCHEDULES",
    "TrainingHistory",
    "EvaluationResult",
    "Prediction",
    "CrossValidationResult",
    "ComparisonResult",
    "train",
    "evaluate",
    "predict",
    "make_folds",
    "cross_validate",
    "compare",
    "schedule_function",
]

#: Named learning-rate schedules accepted by :func:`train`.
SCHEDULES = ("step", "cosine", "onecycle", "constant")
#: The study's step schedule: the base rate for epochs 0-9, then x0.1.
STEP_EPOCH = 10
STEP_FACTOR = 0.1
#: One-cycle: peak = ONECYCLE_PEAK x base rate, reached after ONECYCLE_WARMUP of the run.
ONECYCLE_PEAK = 3.0
ONECYCLE_WARMUP = 0.25
_PIPELINES = ("auto", "arrays", "tf.data")

ScheduleLike = Union[str, Callable[[int, float], float]]


# =========================================================================== helpers
def _to_jsonable(obj: Any) -> Any:
    """Recursively turn numpy scalars / arrays into plain Python for ``json.dumps``."""
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _resolve_data(
    data: MultiDigitDataset | Split, validation: str | Split | None
) -> tuple[Split, Split | None]:
    if isinstance(data, MultiDigitDataset):
        train_split = data.train
        if isinstance(validation, str):
            if validation != "val":
                raise DataError(
                    f"validation={validation!r}: pass 'val' (the dataset's validation "
                    "split), a Split, or None. Never validate on the test split."
                )
            val_split: Split | None = data.val
        else:
            val_split = validation
    elif isinstance(data, Split):
        train_split = data
        if isinstance(validation, str):
            if validation != "val":
                raise DataError(
                    f"validation={validation!r}: pass 'val', a Split, or None."
                )
            val_split = None  # a bare Split has no validation split
        else:
            val_split = validation
    else:
        raise DataError(
            f"data must be a MultiDigitDataset (from load_dataset) or a Split, got "
            f"{type(data).__name__}; wrap arrays with multidigit.Split(images, labels)."
        )
    if val_split is not None and not isinstance(val_split, Split):
        raise DataError(
            f"validation must be 'val', a Split or None, got {type(val_split).__name__}."
        )
    if len(train_split) == 0:
        raise DataError("the training split is empty.")
    if val_split is not None and len(val_split) == 0:
        val_split = None
    return train_split, val_split


def _model_image_shape(model: "keras.Model") -> tuple[int, int, int]:
    shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if shape is None or len(shape) != 3:
        raise ModelError(
            f"model {getattr(model, 'name', model)!r} must take one (H, W, 1) image "
            "input; build it with multidigit.build_model."
        )
    return tuple(int(d) if d is not None else -1 for d in shape)  # type: ignore[return-value]


def _output_names(model: "keras.Model") -> list[str]:
    names = list(getattr(model, "output_names", None) or [])
    if not names:
        outputs = model.outputs
        names = [t.name.split("/")[0] for t in outputs]
    return names


def _check_model(model: "keras.Model", split: Split, *, need_compiled: bool) -> list[str]:
    import keras

    if not isinstance(model, keras.Model):
        raise ModelError(
            f"expected a keras.Model (from multidigit.build_model), got {type(model).__name__}."
        )
    if need_compiled and getattr(model, "optimizer", None) is None:
        raise ModelError(
            f"model {model.name!r} is not compiled; build it with "
            "multidigit.build_model(..., compile=True) or call model.compile(...)."
        )
    expected = head_names(split.n_digits)
    names = _output_names(model)
    if sorted(names) != sorted(expected):
        raise ModelError(
            f"model {model.name!r} has outputs {names}, but the data has "
            f"{split.n_digits} digits (expected outputs {expected}); build the model "
            f"with n_digits={split.n_digits}."
        )
    shape = _model_image_shape(model)
    if any(a != -1 and a != b for a, b in zip(shape, split.image_shape)):
        raise ModelError(
            f"model {model.name!r} expects images of shape {shape}, the data holds "
            f"{split.image_shape}; build the model with input_shape={split.image_shape} "
            "or load the dataset with image_size=(H, W)."
        )
    return expected


def _current_lr(model: "keras.Model") -> float:
    from keras import ops

    return float(ops.convert_to_numpy(model.optimizer.learning_rate))


def schedule_function(
    schedule: ScheduleLike, *, epochs: int, learning_rate: float
) -> Callable[[float], float]:
    """The learning rate as a function of the (fractional) epoch ``t`` in ``[0, epochs)``.

    Parameters
    ----------
    schedule : {"step", "cosine", "onecycle", "constant"} or callable
        ``"step"``: the study's recipe, ``learning_rate`` for epochs 0-9 then x0.1.
        ``"cosine"``: cosine decay from ``learning_rate`` to 0 over the run.
        ``"onecycle"``: linear warm-up from ``learning_rate / 10`` to
        ``3 x learning_rate`` over the first 25 % of the run, then cosine decay to
        ``learning_rate / 1000``.  ``"constant"``: ``learning_rate`` throughout.
        A callable is Keras' ``LearningRateScheduler`` signature ``f(epoch, lr)``.
    epochs : int
        Length of the run (cosine and one-cycle stretch over it).
    learning_rate : float
        The base rate (the optimizer's rate at the start of :func:`train`).

    Examples
    --------
    >>> f = schedule_function("step", epochs=20, learning_rate=1e-3)
    >>> f(9), round(f(10), 6)
    (0.001, 0.0001)
    """
    base = float(learning_rate)
    if callable(schedule):
        return lambda t: float(schedule(int(t), base))
    if schedule == "constant":
        return lambda t: base
    if schedule == "step":
        return lambda t: base if int(t) < STEP_EPOCH else base * STEP_FACTOR
    if schedule == "cosine":
        return lambda t: base * 0.5 * (1.0 + math.cos(math.pi * min(t / epochs, 1.0)))
    if schedule == "onecycle":
        peak, start, end = ONECYCLE_PEAK * base, base / 10.0, base / 1000.0
        warm = ONECYCLE_WARMUP * epochs

        def onecycle(t: float) -> float:
            if t < warm:
                return start + (peak - start) * t / warm
            frac = min((t - warm) / max(epochs - warm, 1e-9), 1.0)
            return end + (peak - end) * 0.5 * (1.0 + math.cos(math.pi * frac))

        return onecycle
    raise ModelError(
        f"unknown schedule={schedule!r}; choose one of "
        f"{', '.join(map(repr, SCHEDULES))} or pass a callable f(epoch, lr) -> lr."
    )


def _make_callbacks() -> dict[str, type]:
    """Callback classes, defined lazily so that importing this module stays cheap."""
    import keras

    class BatchSchedule(keras.callbacks.Callback):
        """Set the learning rate before every batch (smooth cosine / one-cycle).

        Keras' LearningRateScheduler only acts per epoch; a per-batch update is what
        makes warm-up and cosine decay smooth on short runs.
        """

        def __init__(self, fn: Callable[[float], float]) -> None:
            super().__init__()
            self.fn = fn
            self._epoch = 0
            self._steps = 1

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch
            self._steps = max(int((self.params or {}).get("steps") or 1), 1)

        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate = self.fn(self._epoch + batch / self._steps)

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["learning_rate"] = _current_lr(self.model)

    class Timer(keras.callbacks.Callback):
        """Time spent in training batches only (for images / second)."""

        def __init__(self) -> None:
            super().__init__()
            self.train_seconds = 0.0
            self._t0: float | None = None

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def _stop(self) -> None:
            if self._t0 is not None:
                self.train_seconds += time.perf_counter() - self._t0
                self._t0 = None

        def on_test_begin(self, logs=None):
            self._stop()

        def on_epoch_end(self, epoch, logs=None):
            self._stop()

    class RichProgress(keras.callbacks.Callback):
        """A rich display: epochs bar, batch bar, running loss / accuracy."""

        def __init__(self, epochs: int) -> None:
            super().__init__()
            self.epochs = epochs
            self._progress: Any = None

        def on_train_begin(self, logs=None):
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
            )
            self._progress.start()
            self._epoch_task = self._progress.add_task("epochs", total=self.epochs, info="")
            self._batch_task = self._progress.add_task(
                "batches", total=(self.params or {}).get("steps"), info=""
            )

        def on_epoch_begin(self, epoch, logs=None):
            self._progress.reset(self._batch_task, description=f"epoch {epoch + 1}")

        def on_train_batch_end(self, batch, logs=None):
            self._progress.update(
                self._batch_task, completed=batch + 1, info=_format_logs(logs or {})
            )

        def on_epoch_end(self, epoch, logs=None):
            self._progress.update(self._epoch_task, advance=1, info=_format_logs(logs or {}))

        def on_train_end(self, logs=None):
            if self._progress is not None:
                self._progress.stop()

    class PrintEpochs(keras.callbacks.Callback):
        """One plain line per epoch (``verbose=True``)."""

        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch + 1}: {_format_logs(logs or {}, full=True)}", flush=True)

    return {
        "BatchSchedule": BatchSchedule,
        "Timer": Timer,
        "RichProgress": RichProgress,
        "PrintEpochs": PrintEpochs,
    }


def _format_logs(logs: Mapping[str, Any], full: bool = False) -> str:
    """``loss 0.123 acc 45.6 %`` (mean over heads), plus the val_ versions."""
    parts = []
    for prefix in ("", "val_"):
        if f"{prefix}loss" not in logs:
            continue
        accs = [
            float(v)
            for k, v in logs.items()
            if k.startswith(prefix + "digit_") and k.endswith("_accuracy")
        ]
        parts.append(f"{prefix}loss {float(logs[prefix + 'loss']):.4f}")
        if accs:
            parts.append(f"{prefix}acc {100 * np.mean(accs):.1f} %")
    if full and "learning_rate" in logs:
        parts.append(f"lr {float(logs['learning_rate']):.2e}")
    return "  ".join(parts)


def _default_augmentation(seed: int) -> Any:
    """Small shifts and zooms: digits are upright, so no flips or large rotations."""
    import keras

    return keras.Sequential(
        [
            keras.layers.RandomTranslation(0.08, 0.04, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom(0.08, fill_mode="constant", seed=seed + 1),
        ],
        name="augmentation",
    )


# =========================================================================== train
@dataclass
class TrainingHistory:
    """What :func:`train` returns.

    Attributes
    ----------
    history : dict of str -> list of float
        Keras' per-epoch logs: ``loss``, ``digit_0_accuracy`` ..., their ``val_``
        versions and ``learning_rate``.
    epochs : int
        Epochs actually run (fewer than asked when early stopping fired).
    best_epoch : int or None
        0-based epoch with the lowest monitored loss (the weights kept when
        ``early_stopping`` restores them).
    monitor : str or None
        ``"val_loss"`` with validation data, else ``"loss"``.
    wall_time : float
        Seconds for the whole call.
    train_time : float
        Seconds spent in training batches (validation excluded).
    images_per_second : float
        Training throughput: images seen / ``train_time``.
    stopped_early : bool
        Whether early stopping ended the run.
    checkpoint : str or None
        Path of the best model saved, if ``checkpoint`` was given.
    params : dict
        The arguments of the call (epochs, batch size, schedule...).
    """

    history: dict[str, list[float]]
    epochs: int
    best_epoch: int | None
    monitor: str | None
    wall_time: float
    train_time: float
    images_per_second: float
    stopped_early: bool = False
    checkpoint: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    @property
    def best(self) -> dict[str, float]:
        """The logs of :attr:`best_epoch` (empty if no epoch ran)."""
        if self.best_epoch is None:
            return {}
        return {k: v[self.best_epoch] for k, v in self.history.items() if len(v) > self.best_epoch}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return _to_jsonable(
            {
                "history": self.history,
                "epochs": self.epochs,
                "best_epoch": self.best_epoch,
                "monitor": self.monitor,
                "wall_time": self.wall_time,
                "train_time": self.train_time,
                "images_per_second": self.images_per_second,
                "stopped_early": self.stopped_early,
                "checkpoint": self.checkpoint,
                "params": {k: (v if not callable(v) else repr(v)) for k, v in self.params.items()},
            }
        )

    def __str__(self) -> str:
        best = self.best
        line = (
            f"TrainingHistory: {self.epochs} epochs in {self.wall_time:.1f} s "
            f"({self.images_per_second:.0f} images/s)"
        )
        if best:
            line += f"; best epoch {self.best_epoch} ({_format_logs(best)})"
        return line


def train(
    model: "keras.Model",
    data: MultiDigitDataset | Split,
    *,
    epochs: int = 20,
    batch_size: int = 64,
    validation: str | Split | None = "val",
    schedule: ScheduleLike = "step",
    learning_rate: float | None = None,
    early_stopping: bool = True,
    patience: int = 5,
    checkpoint: str | os.PathLike[str] | None = None,
    log_csv: str | os.PathLike[str] | None = None,
    tensorboard: str | os.PathLike[str] | None = None,
    callbacks: Sequence[Any] = (),
    seed: int = 0,
    augment: bool | Any = False,
    pipeline: str = "auto",
    progress: bool = False,
    verbose: bool = False,
) -> TrainingHistory:
    """Train a multi-head model (``model.fit`` with the study's recipe and good defaults).

    Parameters
    ----------
    model : keras.Model
        A compiled model from :func:`multidigit.build_model` (trained in place).
    data : MultiDigitDataset or Split
        A dataset (trains on ``.train``, validates on ``.val``) or one split.
    epochs : int
        Maximum number of epochs.
    batch_size : int
        Images per gradient step.
    validation : "val", Split or None
        ``"val"``: the dataset's validation split (none for a bare Split); a Split;
        or None for no validation.
    schedule : {"step", "cosine", "onecycle", "constant"} or callable
        Learning-rate schedule, see :func:`schedule_function`.  ``"step"`` is the
        study's recipe (base rate for epochs 0-9, then x0.1) via
        ``keras.callbacks.LearningRateScheduler``; cosine and one-cycle are updated
        every batch.  A callable ``f(epoch, lr) -> lr`` is used per epoch.
    learning_rate : float, optional
        Base rate of the schedule; default: the optimizer's rate at the start of
        the call.  The optimizer's rate is restored afterwards, so calling
        ``train`` twice runs the same schedule twice.
    early_stopping : bool
        Stop when the validation loss has not improved for ``patience`` epochs and
        restore the best weights (``keras.callbacks.EarlyStopping``).  Ignored
        without validation data.
    patience : int
        Epochs without improvement before stopping.
    checkpoint : path, optional
        ``.keras`` file; the best model (lowest validation loss, or training loss
        without validation) is saved there.
    log_csv : path, optional
        Write the per-epoch logs as CSV (``keras.callbacks.CSVLogger``).
    tensorboard : path, optional
        TensorBoard log folder (``keras.callbacks.TensorBoard``).
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks, run after the built-in ones.
    seed : int
        Seeds Python, NumPy and the backend (``keras.utils.set_random_seed``):
        same model seed, same data and same ``seed`` give the same weights on CPU.
    augment : bool or keras layer
        ``True``: small random shifts and zooms (no flips, digits are upright); or
        your own Keras preprocessing layer.  Needs TensorFlow (runs in tf.data).
    pipeline : {"auto", "arrays", "tf.data"}
        How batches are fed: in-memory NumPy arrays (``"auto"`` without
        augmentation; backend-agnostic and the fastest on CPU in
        ``benchmarks/bench_training.py``) or :meth:`Split.to_tf_dataset`.
    progress : bool
        Show a rich progress display (epochs, batches, running loss / accuracy).
    verbose : bool
        Print one line per epoch.  Keras' own progress bar is always off.

    Returns
    -------
    TrainingHistory

    Raises
    ------
    ModelError
        Uncompiled model, input shape or number of heads not matching the data,
        unknown schedule, checkpoint not ending in ``.keras``.
    DataError
        ``data`` or ``validation`` of the wrong type.

    Examples
    --------
    >>> import multidigit as md
    >>> ds = md.load_dataset(images_per_class=3, image_size=(28, 28))   # doctest: +SKIP
    >>> model = md.build_model(input_shape=(28, 28, 1), preset="small")  # doctest: +SKIP
    >>> hist = md.train(model, ds, epochs=5, progress=True)            # doctest: +SKIP
    >>> hist.best["val_loss"], hist.images_per_second                  # doctest: +SKIP
    """
    import keras

    train_split, val_split = _resolve_data(data, validation)
    _check_model(model, train_split, need_compiled=True)
    if val_split is not None:
        _check_model(model, val_split, need_compiled=True)
    epochs, batch_size, patience = int(epochs), int(batch_size), int(patience)
    if epochs < 1 or batch_size < 1 or patience < 0:
        raise ModelError(
            f"epochs and batch_size must be >= 1 and patience >= 0, got epochs={epochs}, "
            f"batch_size={batch_size}, patience={patience}."
        )
    if pipeline not in _PIPELINES:
        raise ModelError(f"unknown pipeline={pipeline!r}; choose one of {_PIPELINES}.")
    if checkpoint is not None and Path(checkpoint).suffix != ".keras":
        raise ModelError(
            f"checkpoint must be a '.keras' file (native Keras format), got {str(checkpoint)!r}."
        )
    base_lr = float(learning_rate) if learning_rate is not None else _current_lr(model)
    lr_fn = schedule_function(schedule, epochs=epochs, learning_rate=base_lr)
    cb = _make_callbacks()

    keras.utils.set_random_seed(int(seed))
    monitor = "val_loss" if val_split is not None else "loss"
    timer = cb["Timer"]()
    cbs: list[Any] = []
    if schedule in ("cosine", "onecycle"):
        cbs.append(cb["BatchSchedule"](lr_fn))
    else:
        cbs.append(keras.callbacks.LearningRateScheduler(lambda e, lr: lr_fn(e)))
    cbs.append(timer)
    es = None
    if early_stopping and val_split is not None:
        es = keras.callbacks.EarlyStopping(
            monitor=monitor, patience=patience, restore_best_weights=True
        )
        cbs.append(es)
    if checkpoint is not None:
        Path(checkpoint).expanduser().parent.mkdir(parents=True, exist_ok=True)
        cbs.append(
            keras.callbacks.ModelCheckpoint(
                str(Path(checkpoint).expanduser()), monitor=monitor, save_best_only=True
            )
        )
    if log_csv is not None:
        Path(log_csv).expanduser().parent.mkdir(parents=True, exist_ok=True)
        cbs.append(keras.callbacks.CSVLogger(str(Path(log_csv).expanduser())))
    if tensorboard is not None:
        cbs.append(keras.callbacks.TensorBoard(log_dir=str(Path(tensorboard).expanduser())))
    if progress:
        cbs.append(cb["RichProgress"](epochs))
    if verbose:
        cbs.append(cb["PrintEpochs"]())
    cbs.extend(callbacks)

    use_tfdata = pipeline == "tf.data" or (pipeline == "auto" and augment is not False)
    if augment is not False and not use_tfdata:
        raise ModelError("augment needs pipeline='tf.data' (or 'auto').")
    val_data = None
    if val_split is not None:
        val_data = (val_split.images, val_split.one_hot())
    if use_tfdata:
        x: Any = train_split.to_tf_dataset(batch_size, shuffle=True, seed=int(seed))
        if augment is not False:
            import tensorflow as tf

            aug = _default_augmentation(int(seed)) if augment is True else augment
            x = x.map(lambda a, b: (aug(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
        fit_kwargs: dict[str, Any] = {"x": x, "shuffle": False}  # tf.data shuffles itself
    else:
        fit_kwargs = {
            "x": train_split.images,
            "y": train_split.one_hot(),
            "batch_size": batch_size,
            "shuffle": True,
        }

    t0 = time.perf_counter()
    try:
        hist = model.fit(
            **fit_kwargs,
            epochs=epochs,
            validation_data=val_data,
            validation_batch_size=max(batch_size, 256),
            callbacks=cbs,
            verbose=0,
        )
    finally:
        model.optimizer.learning_rate = base_lr
    wall = time.perf_counter() - t0

    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    n_epochs = len(history.get("loss", []))
    best_epoch = None
    if history.get(monitor):
        best_epoch = int(np.nanargmin(history[monitor]))
    return TrainingHistory(
        history=history,
        epochs=n_epochs,
        best_epoch=best_epoch,
        monitor=monitor,
        wall_time=wall,
        train_time=timer.train_seconds,
        images_per_second=(len(train_split) * n_epochs / timer.train_seconds)
        if timer.train_seconds > 0
        else float("nan"),
        stopped_early=bool(es is not None and es.stopped_epoch > 0),
        checkpoint=str(checkpoint) if checkpoint is not None else None,
        params={
            "epochs": epochs,
            "batch_size": batch_size,
            "schedule": schedule if isinstance(schedule, str) else repr(schedule),
            "learning_rate": base_lr,
            "early_stopping": early_stopping,
            "patience": patience,
            "seed": seed,
            "augment": augment if isinstance(augment, bool) else repr(augment),
            "pipeline": "tf.data" if use_tfdata else "arrays",
            "n_train": len(train_split),
            "n_val": len(val_split) if val_split is not None else 0,
        },
    )


# =========================================================================== evaluate
@dataclass
class EvaluationResult:
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
    """

    digit_accuracy: list[float]
    mean_digit_accuracy: float
    whole_accuracy: float
    hamming_loss: float
    loss: float | None
    n_images: int
    reports: list[dict[str, Any]]
    confusion_matrices: np.ndarray
    predicted: np.ndarray = field(repr=False)
    split_name: str = "split"

    @property
    def n_digits(self) -> int:
        return len(self.digit_accuracy)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (without the per-image predictions)."""
        return _to_jsonable(
            {
                "split": self.split_name,
                "n_images": self.n_images,
                "loss": self.loss,
                "digit_accuracy": self.digit_accuracy,
                "mean_digit_accuracy": self.mean_digit_accuracy,
                "whole_accuracy": self.whole_accuracy,
                "hamming_loss": self.hamming_loss,
                "reports": self.reports,
                "confusion_matrices": self.confusion_matrices,
            }
        )

    def summary(self) -> str:
        """A few readable lines."""
        per = ", ".join(f"digit_{i} {100 * a:.1f} %" for i, a in enumerate(self.digit_accuracy))
        loss = "n/a" if self.loss is None else f"{self.loss:.4f}"
        return "\n".join(
            [
                f"Evaluation on {self.split_name!r} ({self.n_images} images)",
                f"  whole-number accuracy  {100 * self.whole_accuracy:6.2f} %",
                f"  mean digit accuracy    {100 * self.mean_digit_accuracy:6.2f} %  ({per})",
                f"  Hamming loss           {self.hamming_loss:.4f}",
                f"  loss                   {loss}",
            ]
        )

    __str__ = summary


def evaluate(model: "keras.Model", split: Split, *, batch_size: int = 256) -> EvaluationResult:
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

    Examples
    --------
    >>> res = md.evaluate(model, ds.test)     # doctest: +SKIP
    >>> print(res)                            # doctest: +SKIP
    >>> res.whole_accuracy, res.digit_accuracy  # doctest: +SKIP
    """
    from keras import ops
    from sklearn.metrics import classification_report, confusion_matrix, hamming_loss

    if isinstance(split, MultiDigitDataset):
        raise DataError("evaluate takes one split, e.g. ds.test or ds.val, not the dataset.")
    if not isinstance(split, Split):
        raise DataError(f"split must be a multidigit Split, got {type(split).__name__}.")
    if len(split) == 0:
        raise DataError(f"split {split.name!r} is empty.")
    names = _check_model(model, split, need_compiled=False)
    raw = model.predict(split.images, batch_size=int(batch_size), verbose=0)
    probs = {n: np.asarray(ops.convert_to_numpy(raw[n])) for n in names}
    predicted = np.stack([probs[n].argmax(axis=1) for n in names], axis=1).astype(np.int64)
    correct = predicted == split.labels
    digit_acc = [float(v) for v in correct.mean(axis=0)]

    loss = None
    if getattr(model, "optimizer", None) is not None and getattr(model, "loss", None) is not None:
        # One pass: the compiled loss (plus regularisation) on the predictions above,
        # the same number model.evaluate reports, without running the model twice.
        y_true = split.one_hot()
        value = model.compute_loss(
            x=split.images[:0],
            y={n: ops.convert_to_tensor(y_true[n]) for n in names},
            y_pred={n: ops.convert_to_tensor(probs[n]) for n in names},
            training=False,
        )
        loss = float(ops.convert_to_numpy(value))

    eye = np.eye(10, dtype=np.int64)
    pred_hot = np.concatenate([eye[predicted[:, i]] for i in range(split.n_digits)], axis=1)
    true_hot = split.multi_hot().astype(np.int64)
    labels10 = list(range(10))
    reports = [
        classification_report(
            split.labels[:, i],
            predicted[:, i],
            labels=labels10,
            target_names=[str(d) for d in labels10],
            output_dict=True,
            zero_division=0,
        )
        for i in range(split.n_digits)
    ]
    cms = np.stack(
        [confusion_matrix(split.labels[:, i], predicted[:, i], labels=labels10)
         for i in range(split.n_digits)]
    )
    return EvaluationResult(
        digit_accuracy=digit_acc,
        mean_digit_accuracy=float(np.mean(digit_acc)),
        whole_accuracy=float(correct.all(axis=1).mean()),
        hamming_loss=float(hamming_loss(true_hot, pred_hot)),
        loss=loss,
        n_images=len(split),
        reports=_to_jsonable(reports),
        confusion_matrices=cms,
        predicted=predicted,
        split_name=split.name,
    )


# =========================================================================== predict
@dataclass
class Prediction:
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

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def confidence(self) -> np.ndarray:
        """Per image, the product of each head's top score, shape (N,)."""
        return self.probabilities.max(axis=2).prod(axis=1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return _to_jsonable(
            {
                "labels": self.labels,
                "digits": self.digits,
                "probabilities": self.probabilities,
                "paths": self.paths,
            }
        )


def _as_image_batch(images: np.ndarray, target: tuple[int, int, int]) -> np.ndarray:
    x = np.asarray(images)
    if x.dtype.kind not in "biuf":
        raise DataError(f"images must be numeric, got dtype {x.dtype}.")
    if x.dtype.kind in "biu":
        x = x.astype(np.float32) / 255.0  # 8-bit pixels -> [0, 1] like the datasets
    x = x.astype(np.float32, copy=False)
    if x.ndim == 2:  # one (H, W) image
        x = x[None, ..., None]
    elif x.ndim == 3:
        # (H, W, 1) is one image; anything else is a batch (N, H, W)
        x = x[None] if x.shape[-1] == 1 and x.shape[:2] == target[:2] else x[..., None]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise DataError(
            f"images must be (N, H, W, 1), (N, H, W) or one (H, W) image, got {np.shape(images)}."
        )
    if x.shape[1:3] != tuple(target[:2]) and -1 not in target[:2]:
        from keras import ops

        # resize to the model's input (bicubic, like load_dataset), keep [0, 1]
        x = np.clip(
            ops.convert_to_numpy(
                ops.image.resize(x, target[:2], interpolation="bicubic", antialias=True)
            ),
            0.0,
            1.0,
        ).astype(np.float32)
    return x


def predict(
    model: "keras.Model",
    images_or_png_paths: Any,
    *,
    image_size: tuple[int, int] | None = None,
    batch_size: int = 256,
) -> Prediction:
    """Read the digits in images.

    Parameters
    ----------
    model : keras.Model
        A trained model from :func:`multidigit.build_model`.
    images_or_png_paths : array, path, folder or list of paths
        An array ``(N, H, W, 1)``, ``(N, H, W)`` or one ``(H, W)`` image (floats in
        [0, 1], or 8-bit integers which are divided by 255); a Split; or image
        files: one path, a list of paths, or a folder (searched recursively).
        Images of another size are resized to the model's input.
    image_size : (H, W), optional
        Size to resize files to; default: the model's input size.
    batch_size : int
        Inference batch size.

    Returns
    -------
    Prediction

    Examples
    --------
    >>> pred = md.predict(model, ["a.png", "b.png"])   # doctest: +SKIP
    >>> pred.labels                                   # doctest: +SKIP
    ['042', '917']
    """
    from keras import ops

    from .data import iter_image_paths, read_images

    target = _model_image_shape(model)
    size = tuple(image_size) if image_size is not None else target[:2]
    paths: list[str] | None = None
    if isinstance(images_or_png_paths, Split):
        x = images_or_png_paths.images
    elif isinstance(images_or_png_paths, (str, os.PathLike)) or (
        isinstance(images_or_png_paths, (list, tuple))
        and images_or_png_paths
        and all(isinstance(p, (str, os.PathLike)) for p in images_or_png_paths)
    ):
        items = (
            [images_or_png_paths]
            if isinstance(images_or_png_paths, (str, os.PathLike))
            else list(images_or_png_paths)
        )
        files = iter_image_paths(items)
        if not files:
            raise DataError(f"no image files found in {[str(p) for p in items]}.")
        paths = [str(p) for p in files]
        x = read_images(files, None if -1 in size else size)
    else:
        x = images_or_png_paths
    x = _as_image_batch(x, target if image_size is None else (*size, 1))
    if image_size is not None and tuple(x.shape[1:3]) != tuple(target[:2]) and -1 not in target:
        x = _as_image_batch(x, target)
    names = _output_names(model)
    n_digits = len([n for n in names if n.startswith("digit_")])
    if n_digits == 0:
        raise ModelError(f"model {model.name!r} has no digit_k outputs; use build_model.")
    raw = model.predict(x, batch_size=int(batch_size), verbose=0)
    probs = np.stack(
        [np.asarray(ops.convert_to_numpy(raw[n])) for n in head_names(n_digits)], axis=1
    ).astype(np.float32)
    digits = probs.argmax(axis=2).astype(np.int64)
    labels = ["".join(str(d) for d in row) for row in digits]
    return Prediction(labels=labels, digits=digits, probabilities=probs, paths=paths)


# =========================================================================== folds
def _groups_of(split_or_labels: Any) -> np.ndarray:
    if isinstance(split_or_labels, MultiDigitDataset):
        split_or_labels = split_or_labels.train
    if isinstance(split_or_labels, Split):
        return split_or_labels.label_ids
    arr = np.asarray(split_or_labels)
    if arr.ndim == 2 and arr.dtype.kind in "iu":
        return arr @ (10 ** np.arange(arr.shape[1] - 1, -1, -1))
    if arr.ndim == 1:
        return arr
    raise DataError(
        "make_folds takes a Split, a (N, n_digits) integer label array or a (N,) "
        f"array of label ids / strings, got shape {arr.shape}."
    )


def make_folds(
    split_or_labels: Any, k: int = 5, *, grouped: bool = True, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold train / validation indices, grouped by label combination.

    Parameters
    ----------
    split_or_labels : Split, MultiDigitDataset, or array
        A split (its :attr:`Split.label_ids` are the groups), a dataset (its
        training split), a ``(N, n_digits)`` label array, or ``(N,)`` group ids /
        label strings.
    k : int
        Number of folds (2 or more, at most the number of label combinations).
    grouped : bool
        True (default): :class:`sklearn.model_selection.GroupKFold` with shuffling -
        every image of a label combination lands in the same fold, so each
        validation fold holds only combinations *unseen* in its training folds, as
        the real val / test splits do.  False: the study's plain shuffled
        :class:`~sklearn.model_selection.KFold`, which **leaks**: the same
        combinations (e.g. ``"042"``) appear in training and validation folds, so
        its scores are optimistic for unseen numbers.
    seed : int
        Shuffling seed (same seed, same folds).

    Returns
    -------
    list of (train_idx, val_idx)
        ``k`` pairs of sorted int arrays that partition ``range(N)``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[0, 4, 2]] * 3 + [[1, 1, 1]] * 3 + [[9, 0, 9]] * 2)
    >>> folds = make_folds(labels, k=2)
    >>> [len(v) for _, v in folds]  # doctest: +SKIP
    [3, 5]
    """
    from sklearn.model_selection import GroupKFold, KFold

    groups = _groups_of(split_or_labels)
    n = len(groups)
    k = int(k)
    if k < 2:
        raise DataError(f"k must be >= 2 folds, got {k}.")
    if grouped:
        n_groups = len(np.unique(groups))
        if k > n_groups:
            raise DataError(
                f"k={k} folds but only {n_groups} label combinations; use k <= {n_groups} "
                "or grouped=False."
            )
        splitter: Any = GroupKFold(n_splits=k, shuffle=True, random_state=int(seed))
        it = splitter.split(np.zeros(n), groups=groups)
    else:
        if k > n:
            raise DataError(f"k={k} folds but only {n} images; use k <= {n}.")
        it = KFold(n_splits=k, shuffle=True, random_state=int(seed)).split(np.zeros(n))
    return [(np.sort(tr).astype(np.int64), np.sort(va).astype(np.int64)) for tr, va in it]


# =========================================================================== cross-validate
_FOLD_METRICS = ("mean_digit_accuracy", "whole_accuracy", "loss", "hamming_loss")


@dataclass
class CrossValidationResult:
    """What :func:`cross_validate` returns.

    Attributes
    ----------
    folds : list of dict
        Per fold: ``fold``, ``n_train``, ``n_val``, ``loss``, ``digit_accuracy``
        (list), ``mean_digit_accuracy``, ``whole_accuracy``, ``hamming_loss``,
        ``seed``.
    histories : list of TrainingHistory
        One per fold, for learning curves (:func:`multidigit.plots.plot_learning_curves`).
    k, grouped, seed : int, bool, int
        The fold set-up.
    model_params, train_params : dict
        What each fold's model was built and trained with.
    """

    folds: list[dict[str, Any]]
    histories: list[TrainingHistory]
    k: int
    grouped: bool
    seed: int
    model_params: dict[str, Any] = field(default_factory=dict)
    train_params: dict[str, Any] = field(default_factory=dict)

    def scores(self, metric: str = "mean_digit_accuracy") -> np.ndarray:
        """One metric over the folds, shape (n_folds,)."""
        if metric not in _FOLD_METRICS:
            raise ModelError(f"unknown metric={metric!r}; choose one of {_FOLD_METRICS}.")
        return np.array([np.nan if f[metric] is None else f[metric] for f in self.folds], float)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{metric: {"mean": ..., "std": ...}}`` over the folds (std with ddof=1)."""
        out = {}
        for m in _FOLD_METRICS:
            s = self.scores(m)
            out[m] = {
                "mean": float(np.mean(s)),
                "std": float(np.std(s, ddof=1)) if len(s) > 1 else 0.0,
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (histories included)."""
        return _to_jsonable(
            {
                "k": self.k,
                "grouped": self.grouped,
                "seed": self.seed,
                "model_params": self.model_params,
                "train_params": {
                    k: (v if not callable(v) else repr(v)) for k, v in self.train_params.items()
                },
                "folds": self.folds,
                "summary": self.summary(),
                "histories": [h.to_dict() for h in self.histories],
            }
        )

    def __str__(self) -> str:
        s = self.summary()
        kind = "grouped" if self.grouped else "plain (leaky)"
        return (
            f"{len(self.folds)}-fold {kind} cross-validation: mean digit accuracy "
            f"{100 * s['mean_digit_accuracy']['mean']:.2f} +/- "
            f"{100 * s['mean_digit_accuracy']['std']:.2f} %, whole-number accuracy "
            f"{100 * s['whole_accuracy']['mean']:.2f} +/- {100 * s['whole_accuracy']['std']:.2f} %"
        )


def _training_split(data: MultiDigitDataset | Split) -> Split:
    if isinstance(data, MultiDigitDataset):
        return data.train
    if isinstance(data, Split):
        return data
    raise DataError(
        f"data must be a MultiDigitDataset or a Split, got {type(data).__name__}."
    )


def cross_validate(
    data: MultiDigitDataset | Split,
    *,
    k: int = 5,
    model_params: Mapping[str, Any] | None = None,
    epochs: int = 10,
    batch_size: int = 64,
    grouped: bool = True,
    seed: int = 0,
    train_params: Mapping[str, Any] | None = None,
    folds: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    progress: bool = False,
) -> CrossValidationResult:
    """K-fold cross-validation of a freshly built model per fold.

    Parameters
    ----------
    data : MultiDigitDataset or Split
        A dataset (its *training* split is folded; val and test stay untouched) or
        one split.
    k : int
        Number of folds.
    model_params : dict, optional
        Arguments of :func:`multidigit.build_model` (``activation``, ``loss``,
        ``preset``...); ``input_shape`` and ``n_digits`` come from the data.
    epochs, batch_size : int
        Training length and batch size of every fold.
    grouped : bool
        Group folds by label combination (see :func:`make_folds`; False reproduces
        the study's leaky plain KFold).
    seed : int
        Seed of the folds; fold ``i`` builds and trains with ``seed + i``.
    train_params : dict, optional
        More :func:`train` arguments (``schedule``...).  Early stopping is off by
        default here: picking the epoch on the fold that is then scored would
        make the estimate optimistic.
    folds : list of (train_idx, val_idx), optional
        Precomputed folds (overrides ``k``, ``grouped``).
    progress : bool
        Show a rich progress bar over the folds.

    Returns
    -------
    CrossValidationResult

    Examples
    --------
    >>> cv = md.cross_validate(ds, k=3, epochs=5,
    ...                        model_params={"preset": "small"})   # doctest: +SKIP
    >>> print(cv)                                                # doctest: +SKIP
    """
    from .models import build_model

    split = _training_split(data)
    model_params = dict(model_params or {})
    for key in ("input_shape", "n_digits"):
        if key in model_params:
            raise ModelError(
                f"model_params[{key!r}] is set from the data; remove it from model_params."
            )
    tparams = {"early_stopping": False, "schedule": "step"}
    tparams.update(dict(train_params or {}))
    for key in ("epochs", "batch_size", "seed", "validation", "progress"):
        if key in tparams:
            raise ModelError(
                f"train_params[{key!r}] is set by cross_validate; pass it as its own argument."
            )
    fold_list = list(folds) if folds is not None else make_folds(split, k, grouped=grouped, seed=seed)
    results: list[dict[str, Any]] = []
    histories: list[TrainingHistory] = []
    bar = _FoldBar(progress, f"{len(fold_list)}-fold CV", len(fold_list))
    with bar:
        for i, (tr, va) in enumerate(fold_list):
            fold_seed = int(seed) + i
            tr_split, va_split = split.subset(tr, "train"), split.subset(va, "val")
            model = build_model(
                **model_params,
                input_shape=split.image_shape,
                n_digits=split.n_digits,
                seed=fold_seed,
            )
            hist = train(
                model,
                tr_split,
                validation=va_split,
                epochs=epochs,
                batch_size=batch_size,
                seed=fold_seed,
                **tparams,
            )
            res = evaluate(model, va_split)
            results.append(
                {
                    "fold": i,
                    "seed": fold_seed,
                    "n_train": len(tr),
                    "n_val": len(va),
                    "loss": res.loss,
                    "digit_accuracy": res.digit_accuracy,
                    "mean_digit_accuracy": res.mean_digit_accuracy,
                    "whole_accuracy": res.whole_accuracy,
                    "hamming_loss": res.hamming_loss,
                }
            )
            histories.append(hist)
            bar.advance()
            del model
    return CrossValidationResult(
        folds=results,
        histories=histories,
        k=len(fold_list),
        grouped=grouped,
        seed=int(seed),
        model_params=model_params,
        train_params={"epochs": epochs, "batch_size": batch_size, **tparams},
    )


class _FoldBar:
    """A rich progress bar over folds / runs, or nothing."""

    def __init__(self, enabled: bool, description: str, total: int) -> None:
        self.enabled, self.description, self.total = enabled, description, total
        self._p: Any = None

    def __enter__(self) -> "_FoldBar":
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
            from rich.progress import TimeElapsedColumn

            self._p = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            self._p.start()
            self._task = self._p.add_task(self.description, total=self.total)
        return self

    def advance(self, n: int = 1) -> None:
        if self._p is not None:
            self._p.advance(self._task, n)

    def __exit__(self, *exc: Any) -> None:
        if self._p is not None:
            self._p.stop()


# =========================================================================== compare
@dataclass
class ComparisonResult:
    """What :func:`compare` returns.

    Attributes
    ----------
    metric : str
        The accuracy the combinations are ranked by.
    rows : list of dict
        One per (activation, loss), best first: ``activation``, ``loss``, ``n``
        (scores), ``mean``, ``std``, ``ci_low``, ``ci_high`` (95 % t interval),
        ``whole_accuracy`` and ``mean_digit_accuracy`` means.
    scores : dict
        ``"activation+loss"`` -> per-run scores (fold x repeat, same order for all).
    verdict : str
        Plain-language conclusion: the best combination and whether its lead over
        the runner-up exceeds the run-to-run noise (paired t-test over runs).
    p_value : float or None
        That test's two-sided p-value (None with fewer than 2 runs).
    cv : dict
        ``"activation+loss"`` -> list of :class:`CrossValidationResult` (one per repeat).
    """

    metric: str
    rows: list[dict[str, Any]]
    scores: dict[str, list[float]]
    verdict: str
    p_value: float | None
    cv: dict[str, list[CrossValidationResult]] = field(repr=False, default_factory=dict)

    @property
    def best(self) -> dict[str, Any]:
        """The best row."""
        return self.rows[0]

    def table(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (e.g. for ``pandas.DataFrame``)."""
        return [dict(r) for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (per-fold details included)."""
        return _to_jsonable(
            {
                "metric": self.metric,
                "rows": self.rows,
                "scores": self.scores,
                "verdict": self.verdict,
                "p_value": self.p_value,
                "cv": {k: [c.to_dict() for c in v] for k, v in self.cv.items()},
            }
        )

    def __str__(self) -> str:
        lines = [f"{'combination':<40} {self.metric:>22}   95% interval"]
        for r in self.rows:
            lines.append(
                f"{r['activation'] + ' + ' + r['loss']:<40} "
                f"{100 * r['mean']:>12.2f} +/- {100 * r['std']:5.2f} %   "
                f"[{100 * r['ci_low']:.2f}, {100 * r['ci_high']:.2f}]"
            )
        lines.append(self.verdict)
        return "\n".join(lines)


def _t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    from scipy import stats

    n = len(x)
    mean = float(np.mean(x))
    if n < 2:
        return (float("nan"), float("nan"))
    sem = float(np.std(x, ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sem
    return (mean - half, mean + half)


def _verdict(rows: list[dict[str, Any]], scores: dict[str, list[float]], metric: str,
             alpha: float = 0.05) -> tuple[str, float | None]:
    from scipy import stats

    best = rows[0]
    name = f"{best['activation']} + {best['loss']}"
    head = f"Best by {metric}: {name} ({100 * best['mean']:.2f} % mean over {best['n']} runs)"
    if len(rows) == 1:
        return head + ".", None
    second = rows[1]
    name2 = f"{second['activation']} + {second['loss']}"
    a = np.asarray(scores[best["key"]], float)
    b = np.asarray(scores[second["key"]], float)
    diff = a - b
    gap = 100 * float(np.mean(diff))
    if len(diff) < 2:
        return (
            f"{head}; runner-up {name2} is {gap:.2f} points behind. With one run the noise "
            "cannot be estimated: use k >= 3 folds or repeats before trusting the ranking.",
            None,
        )
    if np.allclose(diff, diff[0]):
        p = 0.0 if abs(diff[0]) > 0 else 1.0
    else:
        p = float(stats.ttest_rel(a, b).pvalue)
    if p < alpha:
        tail = (
            f"its lead of {gap:.2f} points over the runner-up {name2} is larger than the "
            f"fold-to-fold noise (paired t-test p = {p:.3g})."
        )
    else:
        tail = (
            f"its lead of {gap:.2f} points over the runner-up {name2} is NOT larger than "
            f"the fold-to-fold noise (paired t-test p = {p:.3g}); treat them as equivalent."
        )
    return f"{head}; {tail}", p


def _activation_note(combos: Sequence[tuple[str, str]], scores: Mapping[str, list[float]]) -> str:
    """Explain identical scores of two activations under one loss.

    Keras' cross-entropy losses look for the logits that the softmax / sigmoid
    activation cached on its output (``_keras_logits``) and compute the loss from
    them, so with the TensorFlow backend softmax + X and sigmoid + X train the very
    same network: the activation changes only the reported probabilities, never the
    argmax.  The comparison then really is categorical vs binary cross-entropy.
    """
    same = []
    for loss in sorted({l for _, l in combos}):
        acts = [a for a, l in combos if l == loss]
        for a, b in zip(acts, acts[1:]):
            if np.allclose(scores[f"{a}+{loss}"], scores[f"{b}+{loss}"], atol=1e-9):
                same.append(f"{a} and {b} with {loss}")
    if not same:
        return ""
    note = (
        " Note: " + "; ".join(same) + " gave identical scores on every fold. Keras "
        "computes the cross-entropy from the logits the output activation cached, so "
        "the activation changes only the reported probabilities, not training: what "
        "differs here is the loss."
    )
    losses = sorted({l for _, l in combos})
    if len(losses) == 2:
        from scipy import stats

        best = {
            l: max((k for k in scores if k.endswith("+" + l)), key=lambda k: np.mean(scores[k]))
            for l in losses
        }
        a, b = (np.asarray(scores[best[l]]) for l in losses)
        if len(a) == len(b) and len(a) > 1 and np.std(a - b) > 0:
            p = float(stats.ttest_rel(a, b).pvalue)
            win = losses[0] if a.mean() > b.mean() else losses[1]
            gap = abs(a.mean() - b.mean()) * 100
            note += (
                f" {win} leads by {gap:.2f} points (paired t-test p = {p:.3g}): "
                + ("larger than the fold-to-fold noise." if p < 0.05
                   else "NOT larger than the fold-to-fold noise.")
            )
    return note


def compare(
    data: MultiDigitDataset | Split,
    *,
    activations: Sequence[str] = ("softmax", "sigmoid"),
    losses: Sequence[str] = ("categorical_crossentropy", "binary_crossentropy"),
    k: int = 3,
    repeats: int = 1,
    model_params: Mapping[str, Any] | None = None,
    epochs: int = 10,
    batch_size: int = 64,
    grouped: bool = True,
    seed: int = 0,
    metric: str = "mean_digit_accuracy",
    train_params: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> ComparisonResult:
    """Compare output activations x losses fairly: same folds, same seeds, by accuracy.

    Every combination is cross-validated on the *same* folds with the *same* seeds
    (initial weights and data order), and ranked by accuracy - never by loss values,
    which are on different scales for different losses (the study compared them
    and so could not tell which model was better).

    Parameters
    ----------
    data : MultiDigitDataset or Split
        A dataset (its training split is folded) or one split.
    activations, losses : sequences of str
        The combinations to compare (all pairs).
    k : int
        Folds per repeat.
    repeats : int
        Repeat the k-fold with new folds and seeds (``seed + r``) for more runs.
    model_params : dict, optional
        Other :func:`multidigit.build_model` arguments (``preset``...).
    epochs, batch_size, grouped, train_params
        As in :func:`cross_validate`.
    seed : int
        Base seed.
    metric : {"mean_digit_accuracy", "whole_accuracy"}
        The accuracy to rank by.
    progress : bool
        A rich progress bar over the runs.

    Returns
    -------
    ComparisonResult
        ``.table()`` (mean, std, 95 % t interval per combination), ``.verdict``.

    Examples
    --------
    >>> res = md.compare(ds, k=3, epochs=5, model_params={"preset": "small"})  # doctest: +SKIP
    >>> print(res.verdict)                                                     # doctest: +SKIP
    """
    from .models import ACTIVATIONS, LOSSES

    if metric not in ("mean_digit_accuracy", "whole_accuracy"):
        raise ModelError(
            f"metric={metric!r}: compare ranks by accuracy; choose 'mean_digit_accuracy' "
            "or 'whole_accuracy' (loss values of different losses are not comparable)."
        )
    for a in activations:
        if a not in ACTIVATIONS:
            raise ModelError(f"unknown activation {a!r}; choose from {ACTIVATIONS}.")
    for l in losses:
        if l not in LOSSES:
            raise ModelError(f"unknown loss {l!r}; choose from {LOSSES}.")
    model_params = dict(model_params or {})
    for key in ("activation", "loss"):
        if key in model_params:
            raise ModelError(
                f"model_params[{key!r}] is what compare varies; use activations= / losses=."
            )
    if int(repeats) < 1:
        raise ModelError(f"repeats must be >= 1, got {repeats}.")
    split = _training_split(data)
    combos = list(product(activations, losses))
    if not combos:
        raise ModelError("give at least one activation and one loss.")
    fold_sets = [make_folds(split, k, grouped=grouped, seed=int(seed) + r) for r in range(repeats)]
    cv: dict[str, list[CrossValidationResult]] = {}
    with _FoldBar(progress, "compare", len(combos) * repeats) as bar:
        for act, loss in combos:
            key = f"{act}+{loss}"
            cv[key] = []
            for r, folds in enumerate(fold_sets):
                res = cross_validate(
                    split,
                    model_params={**model_params, "activation": act, "loss": loss},
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=int(seed) + r * 1000,
                    train_params=train_params,
                    folds=folds,
                )
                res.grouped = grouped
                cv[key].append(res)
                bar.advance()
    scores = {
        key: [float(s) for res in results for s in res.scores(metric)]
        for key, results in cv.items()
    }
    rows = []
    for (act, loss) in combos:
        key = f"{act}+{loss}"
        x = np.asarray(scores[key])
        lo, hi = _t_interval(x)
        rows.append(
            {
                "key": key,
                "activation": act,
                "loss": loss,
                "metric": metric,
                "n": int(len(x)),
                "mean": float(np.mean(x)),
                "std": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0,
                "ci_low": lo,
                "ci_high": hi,
                "mean_digit_accuracy": float(
                    np.mean([s for r in cv[key] for s in r.scores("mean_digit_accuracy")])
                ),
                "whole_accuracy": float(
                    np.mean([s for r in cv[key] for s in r.scores("whole_accuracy")])
                ),
            }
        )
    rows.sort(key=lambda r: -r["mean"])
    verdict, p = _verdict(rows, scores, metric)
    verdict += _activation_note(combos, scores)
    return ComparisonResult(
        metric=metric, rows=rows, scores=scores, verdict=verdict, p_value=p, cv=cv
    )
