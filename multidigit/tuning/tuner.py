"""The keras-tuner glue: the hypermodel, the three tuner classes and the trial records.

keras-tuner has no hook for cross-validation, per-trial timing or a live display, so
:class:`_Mixin` extends ``run_trial`` / ``on_trial_begin`` / ``on_trial_end`` of its
tuners; each trial's extra facts go to a sidecar file next to keras-tuner's own
``trial.json``.  ``_build`` and ``_fit`` are module-level so tests can make a trial
fail or interrupt it (patch ``multidigit.tuning.tuner._fit``).
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit.errors import TuningError
from multidigit.tuning.spaces import declare, model_kwargs, public_values

if TYPE_CHECKING:  # pragma: no cover
    import keras

TUNERS = ("hyperband", "random", "bayesian")
SIDECAR = "multidigit_trial.json"  # per-trial facts keras-tuner does not keep


def hypermodel_class():
    """The ``keras_tuner.HyperModel`` subclass (made lazily: keras-tuner is heavy)."""
    import keras_tuner as kt

    class MultidigitHyperModel(kt.HyperModel):
        """Builds :func:`multidigit.build_model` from the sampled hyperparameters."""

        def __init__(self, space, *, input_shape, n_digits, activation, loss, seed):
            super().__init__(name="multidigit")
            self.space = space
            self.input_shape = tuple(input_shape)
            self.n_digits = n_digits
            self.activation = activation
            self.loss = loss
            self.seed = seed

        def build(self, hp):
            values = {name: declare(hp, name, spec) for name, spec in self.space.items()}
            return _build(values, self)

        def fit(self, hp, model, *args, **kwargs):
            if "batch_size" in hp.values:
                kwargs["batch_size"] = int(hp.values["batch_size"])
            return _fit(model, *args, **kwargs)

    return MultidigitHyperModel


def _build(values: Mapping[str, Any], hm: Any) -> "keras.Model":
    """Build one trial's model (module level so tests can make it fail)."""
    from multidigit.model.build import build_model

    return build_model(
        hm.activation,
        hm.loss,
        input_shape=hm.input_shape,
        n_digits=hm.n_digits,
        seed=hm.seed,
        **model_kwargs(values),
    )


def _fit(model: "keras.Model", *args: Any, **kwargs: Any) -> Any:
    """``model.fit`` of one trial (module level so tests can interrupt it)."""
    kwargs["verbose"] = 0
    return model.fit(*args, **kwargs)


def _best_of(history: Any, name: str, direction: str) -> float:
    values = history.history.get(name)
    if not values:
        raise TuningError(
            f"objective {name!r} is not a metric of the model; available: "
            f"{sorted(history.history)}. Use e.g. 'val_loss' or 'val_digit_0_accuracy'."
        )
    return float(np.min(values) if direction == "min" else np.max(values))


class _Mixin:
    """Shared behaviour of the three tuners (mixed in before keras-tuner's class)."""

    _md: dict[str, Any]

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        info: dict[str, Any] = {"tuner_id": self.tuner_id, "epochs": 0}
        try:
            if self._md["k"]:
                return self._cv_trial(trial, info, **kwargs)
            with warnings.catch_warnings():
                # Hyperband reloads a checkpoint without its optimizer state: harmless.
                warnings.filterwarnings("ignore", message=".*Skipping variable loading.*")
                results = super().run_trial(trial, *args, **kwargs)  # type: ignore[misc]
            info["epochs"] = int(sum(len(getattr(h, "epoch", [])) for h in results))
            return results
        except BaseException as exc:
            info["error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            info["seconds"] = round(time.perf_counter() - start, 3)
            write_json(Path(self.get_trial_dir(trial.trial_id)) / SIDECAR, info)

    def _cv_trial(self, trial: Any, info: dict[str, Any], **kwargs: Any) -> dict[str, float]:
        from multidigit.experiments.cross_validation import make_folds

        md = self._md
        hp = trial.hyperparameters
        split = md["train"]
        epochs = int(hp.values.get("tuner/epochs", kwargs.get("epochs", md["epochs"])))
        batch = int(hp.values.get("batch_size", md["batch_size"]))
        name = self.oracle.objective.name
        direction = self.oracle.objective.direction
        scores = []
        for tr, va in make_folds(split, md["k"], grouped=True, seed=md["seed"]):
            model = self._try_build(hp)
            a, b = split.subset(tr), split.subset(va)
            history = _fit(
                model, a.images, a.one_hot(), validation_data=(b.images, b.one_hot()),
                epochs=epochs, batch_size=batch,
            )
            info["epochs"] += len(history.epoch)
            scores.append(_best_of(history, name, direction))
        info["fold_scores"] = scores
        return {name: float(np.mean(scores))}

    def on_trial_begin(self, trial: Any) -> None:
        super().on_trial_begin(trial)  # type: ignore[misc]
        self._md["running"][trial.trial_id] = public_values(trial.hyperparameters.values)
        if self._md["callback"]:
            self._md["callback"](self)

    def on_trial_end(self, trial: Any) -> None:
        try:
            super().on_trial_end(trial)  # type: ignore[misc]
        finally:
            self._md["running"].pop(trial.trial_id, None)
            try:  # the oracle's view (score, final status); via gRPC on a worker
                self._md["mine"][trial.trial_id] = self.oracle.get_trial(trial.trial_id)
            except Exception:  # pragma: no cover - chief gone
                self._md["mine"][trial.trial_id] = trial
            if self._md["callback"]:
                self._md["callback"](self)


def tuner_class(kind: str):
    """keras-tuner's tuner ``kind`` with :class:`_Mixin` in front."""
    import keras_tuner as kt

    base = {"random": kt.RandomSearch, "hyperband": kt.Hyperband,
            "bayesian": kt.BayesianOptimization}[kind]
    return type(f"Multidigit{base.__name__}", (_Mixin, base), {})


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON, atomically (an interrupted trial leaves no half file)."""
    from multidigit._io import atomic_write
    from multidigit._results import to_jsonable

    atomic_write(path, json.dumps(to_jsonable(obj)))


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def is_worker() -> bool:
    """A distributed worker (it has an oracle address and is not the chief)."""
    tid = os.environ.get("KERASTUNER_TUNER_ID", "")
    return "KERASTUNER_ORACLE_IP" in os.environ and "chief" not in tid


def is_chief() -> bool:
    """The distributed chief, which serves the oracle and runs no trial."""
    return "KERASTUNER_ORACLE_IP" in os.environ and "chief" in os.environ.get(
        "KERASTUNER_TUNER_ID", ""
    )


def short(message: str | None) -> str | None:
    """The last line of a traceback: ``ValueError: boom``."""
    if not message:
        return None
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def direction_of(objective: str) -> str:
    """``"max"`` for accuracy-like metrics, ``"min"`` for losses and the rest."""
    return "max" if any(s in objective for s in ("acc", "auc", "precision", "recall")) else "min"


def records(tuner: Any) -> list[dict[str, Any]]:
    """The trial table: the oracle's trials (all of them; on a worker, its own)."""
    md = tuner._md
    trials = dict(md["mine"]) if is_worker() else dict(tuner.oracle.trials)
    project = Path(tuner.project_dir)
    return [_record(tid, trials[tid], project, md["running"])
            for tid in sorted(trials, key=lambda t: (len(t), t))]


def _record(tid: str, t: Any, project: Path, running: Mapping[str, Any]) -> dict[str, Any]:
    side = read_json(project / f"trial_{tid}" / SIDECAR)
    status = "RUNNING" if tid in running else str(t.status)
    score = t.score if status == "COMPLETED" else None
    values = t.hyperparameters.values
    row = {
        "trial_id": tid,
        "hyperparameters": public_values(values),
        "score": None if score is None or not math.isfinite(score) else float(score),
        "epochs": int(values.get("tuner/epochs", 0) - values.get("tuner/initial_epoch", 0))
        if side.get("epochs") is None else int(side["epochs"]),
        "seconds": side.get("seconds"),
        "status": status,
        "worker": side.get("tuner_id"),
        "error": short(t.message) or side.get("error"),
    }
    if "fold_scores" in side:
        row["fold_scores"] = side["fold_scores"]
    row["val_accuracy"] = _val_accuracy(t) if score is not None else None
    return row


def _val_accuracy(t: Any) -> float | None:
    """Mean validation accuracy of the heads at the epoch of lowest ``val_loss`` (the
    last epoch without one), or None (k-fold trials record no per-head accuracies)."""
    try:
        history = {n: {o.step: o.value[0] for o in t.metrics.get_history(n)}
                   for n in t.metrics.metrics}
        heads = [n for n in history if n.startswith("val_digit_") and n.endswith("_accuracy")]
        if not heads:
            return None
        loss = history.get("val_loss") or {}
        step = min(loss, key=loss.get) if loss else max(history[heads[0]])
        return float(np.mean([history[n][step] for n in heads]))
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
