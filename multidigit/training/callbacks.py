"""The Keras callbacks :func:`multidigit.train` adds: per-batch schedule, timer, progress.

The classes subclass ``keras.callbacks.Callback`` and are defined on first use by
:func:`make_callbacks`, so importing this module does not import Keras.

Examples
--------
>>> format_logs({"loss": 0.5, "digit_0_accuracy": 0.25, "digit_1_accuracy": 0.75})
'loss 0.5000  acc 50.0 %'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit._param_validation import Bool, Check, Free, fail, validate_params

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "current_lr",
    "format_logs",
    "make_callbacks",
]


def _check_compiled(model: Any) -> None:
    # duck-typed (no Keras import): what current_lr reads is the optimizer
    if getattr(model, "optimizer", None) is None:
        raise fail("model", "a compiled keras.Model (one with an optimizer)",
                   type(model).__name__)


@validate_params({"model": Check(_check_compiled, invalid="not a model")})
def current_lr(model: keras.Model) -> float:
    """The optimizer's learning rate as a Python float."""
    from keras import ops

    return float(ops.convert_to_numpy(model.optimizer.learning_rate))


@validate_params({"logs": Free("a mapping of Keras logs (missing keys are left out)"), "full": Bool()})
def format_logs(logs: Mapping[str, Any], full: bool = False) -> str:
    """``loss 0.123  acc 45.6 %`` (mean over heads), plus the ``val_`` versions."""
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


def _batch_schedule(keras: Any) -> type:
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
                logs["learning_rate"] = current_lr(self.model)

    return BatchSchedule


def _timer(keras: Any) -> type:
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

    return Timer


def _live_display_works(console: Any) -> bool:
    """rich draws live bars in a terminal, a pipe or a file; in Jupyter only with
    ipywidgets (without it, it warns and shows nothing until the end)."""
    import importlib.util

    return not console.is_jupyter or importlib.util.find_spec("ipywidgets") is not None


def _rich_progress(keras: Any) -> type:
    class RichProgress(keras.callbacks.Callback):
        """A rich display: epochs bar, batch bar, running loss / accuracy.

        rich renders live in a terminal and in Jupyter (through ipywidgets), and
        prints plain lines when output goes to a file or a pipe: nothing here
        assumes a TTY.  In a notebook without ipywidgets it prints one line per
        epoch instead.  ``console`` is a ``rich.console.Console`` (default: rich's).
        """

        def __init__(self, epochs: int, console: Any = None) -> None:
            super().__init__()
            self.epochs = epochs
            self.console = console
            self._progress: Any = None
            self._lines = False

        def on_train_begin(self, logs=None):
            from rich.console import Console
            from rich.progress import Progress, TextColumn

            from multidigit._progress import progress_columns

            self.console = self.console or Console()
            self._lines = not _live_display_works(self.console)
            if self._lines:
                return
            self._progress = Progress(
                *progress_columns("[bold]{task.description}", TextColumn("{task.fields[info]}")),
                console=self.console,
            )
            self._progress.start()
            self._epoch_task = self._progress.add_task("epochs", total=self.epochs, info="")
            self._batch_task = self._progress.add_task(
                "batches", total=(self.params or {}).get("steps"), info=""
            )

        def on_epoch_begin(self, epoch, logs=None):
            if self._progress is not None:
                self._progress.reset(self._batch_task, description=f"epoch {epoch + 1}")

        def on_train_batch_end(self, batch, logs=None):
            if self._progress is not None:
                self._progress.update(
                    self._batch_task, completed=batch + 1, info=format_logs(logs or {})
                )

        def on_epoch_end(self, epoch, logs=None):
            if self._lines:
                self.console.print(f"epoch {epoch + 1}/{self.epochs}  "
                                   f"{format_logs(logs or {}, full=True)}", highlight=False)
            else:
                self._progress.update(self._epoch_task, advance=1,
                                      info=format_logs(logs or {}))

        def on_train_end(self, logs=None):
            if self._progress is not None:
                self._progress.stop()

    return RichProgress


def _print_epochs(keras: Any) -> type:
    class PrintEpochs(keras.callbacks.Callback):
        """One plain line per epoch (``verbose=True``)."""

        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch + 1}: {format_logs(logs or {}, full=True)}", flush=True)

    return PrintEpochs


def _atomic_checkpoint(keras: Any) -> type:
    class AtomicCheckpoint(keras.callbacks.ModelCheckpoint):
        """``ModelCheckpoint`` saving through :func:`multidigit._io.atomic_path`: Keras
        writes the file in place, so a kill during a save truncated the last good one."""

        def _save_model(self, epoch, batch, logs):
            # Keras decides whether and where to save (its rules differ between
            # versions); only the write itself is routed through the atomic helper
            from multidigit._io import atomic_path

            model = self.model
            save = model.save

            def atomic_save(filepath, *args, **kwargs):
                with atomic_path(filepath, suffix=".keras") as tmp:  # Keras wants .keras
                    save(tmp, *args, **kwargs)

            object.__setattr__(model, "save", atomic_save)
            try:
                super()._save_model(epoch, batch, logs)
            finally:
                object.__delattr__(model, "save")

    return AtomicCheckpoint


def _atomic_csv(keras: Any) -> type:
    class AtomicCSVLogger(keras.callbacks.CSVLogger):
        """``CSVLogger`` that rewrites the whole (small) file atomically each epoch, so
        an old log is never truncated and a full disk is one clear error."""

        def on_train_begin(self, logs=None):
            import io

            self.csv_file = io.StringIO()

        def on_epoch_end(self, epoch, logs=None):
            from multidigit._io import atomic_write

            super().on_epoch_end(epoch, logs)
            atomic_write(self.filename, self.csv_file.getvalue())

    return AtomicCSVLogger


@validate_params({})
def make_callbacks() -> dict[str, type]:
    """The callback classes by name (defined lazily: importing Keras is slow)."""
    import keras

    return {
        "BatchSchedule": _batch_schedule(keras),
        "Timer": _timer(keras),
        "RichProgress": _rich_progress(keras),
        "PrintEpochs": _print_epochs(keras),
        "AtomicCheckpoint": _atomic_checkpoint(keras),
        "AtomicCSVLogger": _atomic_csv(keras),
    }


def __getattr__(name: str) -> object:
    # names that moved to another module keep working here for one release
    if name in {"default_augmentation"}:
        import importlib
        import warnings

        warnings.warn(f"{__name__}.{name} moved to multidigit.training.augmentation.{name}; "
                      "import it from there (the old path goes in the next release).",
                      FutureWarning, stacklevel=2)
        return getattr(importlib.import_module("multidigit.training.augmentation"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
