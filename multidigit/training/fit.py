"""Train a multi-head digit CNN: ``model.fit`` with the study's recipe and good defaults.

:func:`train` adds the learning-rate schedule (:mod:`multidigit.training.schedules`), early
stopping, checkpointing, CSV / TensorBoard logs and an optional progress display
(:mod:`multidigit.training.callbacks`) and returns a :class:`TrainingHistory`.  Measuring a
model is in :mod:`multidigit.evaluation.measure`, cross-validation in
:mod:`multidigit.experiments.cross_validation`, the activation x loss comparison in
:mod:`multidigit.experiments.comparison`.

Examples
--------
>>> import multidigit as md
>>> ds = md.load_dataset(images_per_class=1, image_size=(28, 28))     # doctest: +SKIP
>>> hist = md.train(md.build_model(input_shape=(28, 28, 1)), ds, epochs=2)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit import _defaults as D
from multidigit._inputs import check_model, resolve_data
from multidigit._param_validation import (
    Body,
    Bool,
    Choice,
    Free,
    Int,
    Number,
    check_choice,
    fail,
    validate_params,
)
from multidigit._results import Result, to_jsonable
from multidigit.data import MultiDigitDataset, Split
from multidigit.training.augmentation import default_augmentation
from multidigit.training.callbacks import current_lr, format_logs, make_callbacks
from multidigit.training.schedules import PER_BATCH, SCHEDULES, ScheduleLike, schedule_function

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["SCHEDULES", "TrainingHistory", "default_epochs", "schedule_function", "train"]

_PIPELINES = ("auto", "arrays", "tf.data")
#: multidigit's batch size (:data:`multidigit._defaults.BATCH_SIZE`), shared by every
#: training entry point and :func:`default_epochs` (the epochs are counted in its steps)
DEFAULT_BATCH_SIZE = D.BATCH_SIZE


# =========================================================================== history
@dataclass
class TrainingHistory(Result):
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
        return to_jsonable(
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
            line += f"; best epoch {self.best_epoch} ({format_logs(best)})"
        return line

    def plot(self, ax: Axes | None = None, *, title: str | None = None) -> Figure:
        """The learning curves: :func:`multidigit.plots.plot_learning_curves`.

        Examples
        --------
        >>> fig = md.train(model, ds, epochs=2).plot()     # doctest: +SKIP
        """
        from multidigit.plots import plot_learning_curves

        return plot_learning_curves(self, title=title, ax=ax)


_PATH = Free("a file path; the file system checks it")


@validate_params({
    "model": Body("a compiled keras.Model whose heads and input fit the data"),
    "data": Body("a MultiDigitDataset or a Split"),
    "epochs": Int(min=1, none_ok=True),
    "batch_size": Int(min=1),
    "validation": Body("'val', a Split or None"),
    "schedule": Body("one of SCHEDULES or a callable f(epoch, lr) -> lr"),
    "learning_rate": Number(min=0, min_inclusive=False, none_ok=True),
    "early_stopping": Bool(),
    "patience": Int(min=0),
    "checkpoint": Body("None or a path ending in '.keras'"),
    "log_csv": _PATH,
    "tensorboard": _PATH,
    "callbacks": Body("a list of keras.callbacks.Callback"),
    "seed": Int(min=0, max=2**32 - 1),
    "augment": Body("True, False or a Keras preprocessing layer"),
    "pipeline": Choice(_PIPELINES),
    "progress": Bool(),
    "verbose": Bool(),
})
def train(
    model: keras.Model,
    data: MultiDigitDataset | Split,
    *,
    epochs: int | None = D.EPOCHS,
    batch_size: int = D.BATCH_SIZE,
    validation: str | Split | None = "val",
    schedule: ScheduleLike = D.SCHEDULE,
    learning_rate: float | None = None,
    early_stopping: bool = True,
    patience: int = 5,
    checkpoint: str | os.PathLike[str] | None = None,
    log_csv: str | os.PathLike[str] | None = None,
    tensorboard: str | os.PathLike[str] | None = None,
    callbacks: Sequence[Any] = (),
    seed: int = D.SEED,
    augment: bool | Any = False,
    pipeline: str = "auto",
    progress: bool = False,
    verbose: bool = False,
) -> TrainingHistory:
    """Train a multi-head model (``model.fit`` with multidigit's recipe by default).

    The defaults are multidigit's recipe (:mod:`multidigit._defaults`, shared with
    :func:`cross_validate`, :func:`compare` and :func:`tune`): batch 64, a one-cycle
    learning rate (warm-up, then cosine decay), :func:`default_epochs` epochs; what it
    reaches with :func:`build_model`'s default model, and how fast, is measured in
    ``benchmarks/README.md``.
    The study's recipe is
    ``batch_size=32, schedule="step", epochs=20`` with ``preset="tuned"``.

    Parameters
    ----------
    model : keras.Model
        A compiled model from :func:`multidigit.build_model` (trained in place).
    data : MultiDigitDataset or Split
        A dataset (trains on ``.train``, validates on ``.val``) or one split.
    epochs : int, optional
        Maximum number of epochs; default :func:`default_epochs` of the training
        split's size and ``batch_size`` (more epochs for small sets).
    batch_size : int
        Images per gradient step.  64 (default): on a CPU an image costs no more
        than at 128, and the short schedule gets twice the steps (measured in
        ``benchmarks/README.md``).
    validation : "val", Split or None
        ``"val"``: the dataset's validation split (none for a bare Split); a Split;
        or None for no validation.
    schedule : {"step", "cosine", "onecycle", "constant"} or callable
        Learning-rate schedule, see :func:`schedule_function`.  ``"onecycle"``
        (default): warm-up to 3x the base rate over the first quarter, then cosine
        decay.  ``"step"`` is the study's recipe (base rate for epochs 0-9, then x0.1) via
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
        Show a rich progress display (epochs, batches, running loss / accuracy):
        live bars in a terminal and in Jupyter (with ipywidgets; without it, one
        line per epoch), plain lines when the output goes to a file or a pipe.
    verbose : bool
        Print one line per epoch.  Keras' own progress bar is always off.

    Returns
    -------
    TrainingHistory

    Raises
    ------
    ParameterError
        A bad argument: ``data`` or ``validation`` of the wrong type, an unknown
        schedule or pipeline, ``epochs < 1``, a checkpoint not ending in ``.keras``.
    ModelError
        Uncompiled model, input shape or number of heads not matching the data.
    DataError
        An empty training split; NaN, infinite or out-of-range pixels.

    Examples
    --------
    >>> import multidigit as md
    >>> ds = md.load_dataset(images_per_class=3, image_size=(28, 28))   # doctest: +SKIP
    >>> model = md.build_model(input_shape=(28, 28, 1), preset="small")  # doctest: +SKIP
    >>> hist = md.train(model, ds, epochs=5, progress=True)            # doctest: +SKIP
    >>> hist.best["val_loss"], hist.images_per_second                  # doctest: +SKIP
    """
    import keras

    _check_train_args(checkpoint, schedule, augment)
    callbacks = _check_callbacks(callbacks)
    train_split, val_split = resolve_data(data, validation)
    check_model(model, train_split, need_compiled=True)
    if val_split is not None:
        check_model(model, val_split, need_compiled=True)
    epochs = None if epochs is None else int(epochs)
    batch_size, patience, seed = int(batch_size), int(patience), int(seed)
    if epochs is None:
        epochs = default_epochs(len(train_split), batch_size)
    base_lr = float(learning_rate) if learning_rate is not None else current_lr(model)
    if not (math.isfinite(base_lr) and base_lr > 0):
        raise fail("learning_rate", "a finite number > 0 (the optimizer's rate is "
                   f"{base_lr})", learning_rate)
    lr_fn = schedule_function(schedule, epochs=epochs, learning_rate=base_lr)
    lr_fn(0)  # a bad callable schedule fails now, not inside model.fit
    keras.utils.set_random_seed(int(seed))
    monitor = "val_loss" if val_split is not None else "loss"
    cbs, timer, es = _callbacks(
        schedule, lr_fn, monitor, early_stopping=early_stopping and val_split is not None,
        patience=patience, checkpoint=checkpoint, log_csv=log_csv,
        tensorboard=tensorboard, progress=progress, verbose=verbose, epochs=epochs)
    cbs.extend(callbacks)
    fit_kwargs, use_tfdata = _fit_inputs(train_split, batch_size, int(seed), augment, pipeline)
    val_data = None if val_split is None else (val_split.images, val_split.one_hot())

    t0 = time.perf_counter()
    try:
        hist = model.fit(**fit_kwargs, epochs=epochs, validation_data=val_data,
                         validation_batch_size=max(batch_size, 256), callbacks=cbs, verbose=0)
    finally:
        model.optimizer.learning_rate = base_lr
    wall = time.perf_counter() - t0
    params = {
        "epochs": epochs, "batch_size": batch_size,
        "schedule": schedule if isinstance(schedule, str) else repr(schedule),
        "learning_rate": base_lr, "early_stopping": early_stopping, "patience": patience,
        "seed": seed, "augment": augment if isinstance(augment, bool) else repr(augment),
        "pipeline": "tf.data" if use_tfdata else "arrays", "n_train": len(train_split),
        "n_val": len(val_split) if val_split is not None else 0,
    }
    return _history_of(hist.history, monitor, wall, timer.train_seconds,
                       stopped_early=bool(es is not None and es.stopped_epoch > 0),
                       checkpoint=checkpoint, params=params)


#: :func:`default_epochs`: about this many gradient steps, within these epoch bounds
#: (:data:`multidigit._defaults.STEPS`, :data:`multidigit._defaults.EPOCH_BOUNDS`).
DEFAULT_STEPS = D.STEPS
DEFAULT_EPOCHS = D.EPOCH_BOUNDS


@validate_params({"n_images": Int(min=1), "batch_size": Int(min=1)})
def default_epochs(n_images: int, batch_size: int = D.BATCH_SIZE) -> int:
    """The number of epochs :func:`train` (and every entry point given ``epochs=None``)
    runs when not told: about :data:`DEFAULT_STEPS` gradient steps, at least 6 and at
    most 20 epochs.

    The one-cycle schedule needs enough steps to warm up and anneal; a large set gets
    them in few epochs (real-scale Triple MNIST, 64,000 images: 7 epochs), a small one
    needs more passes (``mini``'s 6,400: 20).

    Examples
    --------
    >>> default_epochs(64_000), default_epochs(6_400), default_epochs(30_000)
    (7, 20, 15)
    """
    steps = -(-int(n_images) // int(batch_size))
    lo, hi = DEFAULT_EPOCHS
    return int(min(hi, max(lo, -(-DEFAULT_STEPS // steps))))


def _check_train_args(checkpoint: Any, schedule: Any, augment: Any) -> None:
    """train()'s arguments that a declared rule cannot say alone."""
    if not callable(schedule):
        check_choice("schedule", schedule, SCHEDULES,
                     hint="Or pass a callable f(epoch, lr) -> lr.")
    if checkpoint is not None and Path(checkpoint).suffix != ".keras":
        raise fail("checkpoint", "a path ending in '.keras' (native Keras format)",
                   str(checkpoint))
    if not isinstance(augment, bool) and not callable(augment):
        raise fail("augment", "True, False or a Keras preprocessing layer", augment)


def _check_callbacks(callbacks: Any) -> list[Any]:
    """``callbacks`` as a list of Keras callbacks, or one clear error."""
    import keras

    ok = isinstance(callbacks, (list, tuple))
    if ok:
        bad = [c for c in callbacks if not isinstance(c, keras.callbacks.Callback)]
        ok = not bad
    if not ok:
        shown = callbacks if not isinstance(callbacks, (list, tuple)) else bad[0]
        raise fail("callbacks", "a list of keras.callbacks.Callback objects", repr(shown),
                   hint="Early stopping is built in: early_stopping=True.")
    return list(callbacks)


def _writable(path: Any) -> Path:
    """``path`` with its folder made; a read-only or full disk is one clear error now,
    not after the first epoch."""
    from multidigit._io import storage_error

    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, path) from None
    return path


def _callbacks(schedule: ScheduleLike, lr_fn: Any, monitor: str, *, early_stopping: bool,
               patience: int, checkpoint: Any, log_csv: Any, tensorboard: Any,
               progress: bool, verbose: bool, epochs: int) -> tuple[list[Any], Any, Any]:
    """The built-in callbacks, in order; also the timer and the early stopper."""
    import keras

    cb = make_callbacks()
    timer = cb["Timer"]()
    if isinstance(schedule, str) and schedule in PER_BATCH:
        cbs: list[Any] = [cb["BatchSchedule"](lr_fn)]
    else:
        cbs = [keras.callbacks.LearningRateScheduler(lambda e, lr: lr_fn(e))]
    cbs.append(timer)
    es = None
    if early_stopping:
        es = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                           restore_best_weights=True)
        cbs.append(es)
    if checkpoint is not None:
        path = _writable(checkpoint)
        cbs.append(cb["AtomicCheckpoint"](str(path), monitor=monitor, save_best_only=True))
    if log_csv is not None:
        cbs.append(cb["AtomicCSVLogger"](str(_writable(log_csv))))
    if tensorboard is not None:
        cbs.append(keras.callbacks.TensorBoard(log_dir=str(Path(tensorboard).expanduser())))
    if progress:
        cbs.append(cb["RichProgress"](epochs))
    if verbose:
        cbs.append(cb["PrintEpochs"]())
    return cbs, timer, es


def _fit_inputs(train_split: Split, batch_size: int, seed: int, augment: Any,
                pipeline: str) -> tuple[dict[str, Any], bool]:
    """``model.fit``'s data arguments: NumPy arrays, or tf.data with augmentation."""
    use_tfdata = pipeline == "tf.data" or (pipeline == "auto" and augment is not False)
    if augment is not False and not use_tfdata:
        raise fail("pipeline", "'tf.data' or 'auto' when augment is set", pipeline)
    if not use_tfdata:
        return {"x": train_split.images, "y": train_split.one_hot(),
                "batch_size": batch_size, "shuffle": True}, False
    x: Any = train_split.to_tf_dataset(batch_size, shuffle=True, seed=seed)
    if augment is not False:

        aug = default_augmentation(seed) if augment is True else augment
        # Sequential on purpose: parallel calls draw from the random layers in a varying
        # order, so the same seed gave different weights (measured); one batch at a time
        # is cheap next to the training step.
        x = x.map(lambda a, b: (aug(a, training=True), b))
    return {"x": x, "shuffle": False}, True  # tf.data shuffles itself


def _history_of(raw: dict[str, Any], monitor: str, wall: float, train_seconds: float, *,
                stopped_early: bool, checkpoint: Any, params: dict[str, Any]) -> TrainingHistory:
    history = {k: [float(v) for v in vals] for k, vals in raw.items()}
    n_epochs = len(history.get("loss", []))
    best_epoch = int(np.nanargmin(history[monitor])) if history.get(monitor) else None
    ips = params["n_train"] * n_epochs / train_seconds if train_seconds > 0 else float("nan")
    return TrainingHistory(
        history=history, epochs=n_epochs, best_epoch=best_epoch, monitor=monitor,
        wall_time=wall, train_time=train_seconds, images_per_second=ips,
        stopped_early=stopped_early,
        checkpoint=str(checkpoint) if checkpoint is not None else None, params=params,
    )
