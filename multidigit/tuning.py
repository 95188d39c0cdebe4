"""Hyperparameter search with keras-tuner: random, Hyperband or Bayesian.

The study tuned its CNN with ``keras_tuner.RandomSearch`` (20 trials x 20 epochs
over the filters of three conv blocks and the dense width, objective ``val_loss``;
5 h 47 on a cloud GPU; best ``conv 96/128/128, dense 256``).  :func:`tune` runs the
same kind of search with keras-tuner's own tuners, on a search space written as
plain data, and returns a :class:`TuneResult` (best hyperparameters, a trial table,
a plot, optionally the best model retrained).

What this module adds to keras-tuner, and why:

* search spaces are data (:data:`SEARCH_SPACES`), validated up front;
* ``k``-fold *grouped* cross-validation scoring of each trial (folds never share a
  label combination, like the train/val/test split of the dataset);
* a search whose every trial crashed raises :class:`~multidigit.TuningError`
  (keras-tuner records failed trials and returns normally);
* keras-tuner's printing is silenced; ``progress=True`` shows a rich live table;
* resuming (the default) continues an interrupted search and loses no finished
  trial; distributed tuning (one chief oracle, several workers) is driven by the
  ``multidigit tune --chief / --worker ID`` command line.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from .errors import DataError, TuningError

if TYPE_CHECKING:  # pragma: no cover
    import argparse

    import keras
    from matplotlib.figure import Figure

__all__ = ["SEARCH_SPACES", "TuneResult", "tune", "run_cli", "check_search_space"]

#: Search spaces, as plain data.  Keys name what is tuned; each value says how:
#:
#: ``{"type": "int", "min": a, "max": b, "step": s, "sampling": "linear"|"log"}``,
#: ``{"type": "float", "min": a, "max": b, "step": None, "sampling": "linear"|"log"}``,
#: ``{"type": "bool"}``, ``{"type": "choice", "values": [...]}`` or
#: ``{"type": "fixed", "value": v}``.
#:
#: Keys: ``conv_1 .. conv_n`` (filters of each conv block; their number is the
#: number of blocks), ``dense_units``, ``dropout``, ``dense_dropout``, ``l2``,
#: ``batch_norm``, ``learning_rate``, ``batch_size`` and ``preset`` (the
#: architecture the other keys override, default ``"tuned"``; see
#: :data:`multidigit.models.PRESETS`).
#:
#: * ``"study"``: the study's search (conv 32-128/64-256/128-512, dense 128-512);
#: * ``"wide"``: the study's plus learning rate, dropouts, L2, batch norm, batch size;
#: * ``"tiny"``: one small conv block, for tests and examples.
SEARCH_SPACES: dict[str, dict[str, dict[str, Any]]] = {
    "study": {
        "conv_1": {"type": "int", "min": 32, "max": 128, "step": 32},
        "conv_2": {"type": "int", "min": 64, "max": 256, "step": 64},
        "conv_3": {"type": "int", "min": 128, "max": 512, "step": 128},
        "dense_units": {"type": "int", "min": 128, "max": 512, "step": 128},
    },
    "wide": {
        "conv_1": {"type": "int", "min": 32, "max": 128, "step": 32},
        "conv_2": {"type": "int", "min": 64, "max": 256, "step": 64},
        "conv_3": {"type": "int", "min": 128, "max": 512, "step": 128},
        "dense_units": {"type": "int", "min": 128, "max": 512, "step": 128},
        "learning_rate": {"type": "float", "min": 1e-4, "max": 1e-2, "sampling": "log"},
        "dropout": {"type": "choice", "values": [0.0, 0.1, 0.25, 0.4]},
        "dense_dropout": {"type": "choice", "values": [0.0, 0.25, 0.5]},
        "l2": {"type": "choice", "values": [0.0, 1e-4, 1e-3]},
        "batch_norm": {"type": "bool"},
        "batch_size": {"type": "choice", "values": [32, 64, 128]},
    },
    "tiny": {
        "preset": {"type": "fixed", "value": "small"},
        "conv_1": {"type": "int", "min": 4, "max": 8, "step": 4},
        "dense_units": {"type": "choice", "values": [8, 16]},
    },
}

TUNERS = ("hyperband", "random", "bayesian")
_MODEL_KEYS = ("dense_units", "dropout", "dense_dropout", "l2", "batch_norm", "learning_rate")
_OTHER_KEYS = ("batch_size", "preset")
_FIELDS = {
    "int": ({"type", "min", "max"}, {"step", "sampling", "default"}),
    "float": ({"type", "min", "max"}, {"step", "sampling", "default"}),
    "bool": ({"type"}, {"default"}),
    "choice": ({"type", "values"}, {"default"}),
    "fixed": ({"type", "value"}, set()),
}
_SAMPLINGS = ("linear", "log", "reverse_log")
_SIDECAR = "multidigit_trial.json"  # per-trial facts keras-tuner does not keep
_CONV = re.compile(r"^conv_([1-9][0-9]*)$")


# --------------------------------------------------------------------------- spaces
def check_search_space(space: str | Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Validate a search space (a name of :data:`SEARCH_SPACES` or a dict).

    Returns a normalised copy; raises :class:`~multidigit.TuningError` naming the
    bad key and the fix.

    Examples
    --------
    >>> check_search_space({"conv_1": {"type": "int", "min": 8, "max": 32, "step": 8}})
    {'conv_1': {'type': 'int', 'min': 8, 'max': 32, 'step': 8}}
    """
    if isinstance(space, str):
        if space not in SEARCH_SPACES:
            raise TuningError(
                f"unknown search space {space!r}; choose one of "
                f"{', '.join(map(repr, SEARCH_SPACES))} or pass a dict."
            )
        space = SEARCH_SPACES[space]
    if not isinstance(space, Mapping) or not space:
        raise TuningError(
            "search_space must be a non-empty dict {name: {'type': ...}} or a name of "
            f"SEARCH_SPACES, got {space!r}."
        )
    out: dict[str, dict[str, Any]] = {}
    convs = []
    for key, spec in space.items():
        m = _CONV.match(str(key))
        if m:
            convs.append(int(m.group(1)))
        elif key not in _MODEL_KEYS + _OTHER_KEYS:
            raise TuningError(
                f"unknown hyperparameter {key!r} in the search space; use conv_1..conv_n, "
                f"{', '.join(_MODEL_KEYS + _OTHER_KEYS)}."
            )
        if not isinstance(spec, Mapping) or "type" not in spec:
            raise TuningError(
                f"search space entry {key!r} must be a dict with a 'type' "
                f"({', '.join(_FIELDS)}), got {spec!r}."
            )
        kind = spec["type"]
        if kind not in _FIELDS:
            raise TuningError(
                f"search space entry {key!r}: unknown type {kind!r}; use one of "
                f"{', '.join(map(repr, _FIELDS))}."
            )
        required, optional = _FIELDS[kind]
        missing = required - set(spec)
        extra = set(spec) - required - optional
        if missing or extra:
            raise TuningError(
                f"search space entry {key!r} of type {kind!r}: "
                + (f"missing {sorted(missing)}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"unknown field(s) {sorted(extra)}" if extra else "")
                + f"; allowed fields: {sorted(required | optional)}."
            )
        spec = dict(spec)
        if kind in ("int", "float"):
            num = int if kind == "int" else float
            try:
                lo, hi = num(spec["min"]), num(spec["max"])
            except (TypeError, ValueError):
                raise TuningError(f"search space entry {key!r}: min and max must be numbers.")
            if lo > hi:
                raise TuningError(f"search space entry {key!r}: min={lo} > max={hi}.")
            if spec.get("sampling", "linear") not in _SAMPLINGS:
                raise TuningError(
                    f"search space entry {key!r}: sampling must be one of {_SAMPLINGS}."
                )
            if spec.get("sampling") in ("log", "reverse_log") and lo <= 0:
                raise TuningError(f"search space entry {key!r}: log sampling needs min > 0.")
        if kind == "choice":
            vals = spec["values"]
            if not isinstance(vals, (list, tuple)) or not vals:
                raise TuningError(
                    f"search space entry {key!r}: 'values' must be a non-empty list."
                )
            kinds = {type(v) for v in vals}
            if len(kinds) > 1 and not kinds <= {int, float}:
                raise TuningError(
                    f"search space entry {key!r}: all 'values' must have one type, got "
                    f"{sorted(k.__name__ for k in kinds)}."
                )
            spec["values"] = list(vals)
        if m and kind in ("float", "bool"):
            raise TuningError(f"{key!r} is a number of filters: use type 'int' or 'choice'.")
        out[str(key)] = spec
    if convs and sorted(convs) != list(range(1, len(convs) + 1)):
        raise TuningError(
            f"conv blocks must be numbered conv_1..conv_n without gaps, got "
            f"{sorted(f'conv_{i}' for i in convs)}."
        )
    return out


def _declare(hp: Any, name: str, spec: Mapping[str, Any]) -> Any:
    kind = spec["type"]
    if kind == "int":
        return hp.Int(name, int(spec["min"]), int(spec["max"]), step=spec.get("step"),
                      sampling=spec.get("sampling", "linear"), default=spec.get("default"))
    if kind == "float":
        return hp.Float(name, float(spec["min"]), float(spec["max"]), step=spec.get("step"),
                        sampling=spec.get("sampling", "linear"), default=spec.get("default"))
    if kind == "bool":
        return hp.Boolean(name, default=spec.get("default", False))
    if kind == "choice":
        return hp.Choice(name, spec["values"], default=spec.get("default"))
    return hp.Fixed(name, spec["value"])


def _public_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Hyperparameter values without keras-tuner's bookkeeping (``tuner/...``)."""
    return {k: _plain(v) for k, v in values.items() if not k.startswith("tuner/")}


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def model_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Translate hyperparameter values into :func:`multidigit.build_model` arguments."""
    kw: dict[str, Any] = {}
    n_conv = sum(1 for k in values if _CONV.match(k))
    if n_conv:
        kw["filters"] = [int(values[f"conv_{i}"]) for i in range(1, n_conv + 1)]
    for key in _MODEL_KEYS:
        if key in values:
            kw[key] = values[key]
    kw["preset"] = values.get("preset", "tuned")
    return kw


# --------------------------------------------------------------------------- keras-tuner glue
def _hypermodel_class():
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
            values = {name: _declare(hp, name, spec) for name, spec in self.space.items()}
            return _build(values, self)

        def fit(self, hp, model, *args, **kwargs):
            if "batch_size" in hp.values:
                kwargs["batch_size"] = int(hp.values["batch_size"])
            return _fit(model, *args, **kwargs)

    return MultidigitHyperModel


def _build(values: Mapping[str, Any], hm: Any) -> "keras.Model":
    """Build one trial's model (module level so tests can make it fail)."""
    from .models import build_model

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
    """Shared behaviour of the three tuners (mixed in before keras-tuner's class).

    keras-tuner has no hook for cross-validation, per-trial timing or a live display,
    so ``run_trial``/``on_trial_begin``/``on_trial_end`` are extended here.
    """

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
            _write_json(Path(self.get_trial_dir(trial.trial_id)) / _SIDECAR, info)

    def _cv_trial(self, trial: Any, info: dict[str, Any], **kwargs: Any) -> dict[str, float]:
        from .training import make_folds

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
        self._md["running"][trial.trial_id] = _public_values(trial.hyperparameters.values)
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


def _tuner_class(kind: str):
    import keras_tuner as kt

    base = {"random": kt.RandomSearch, "hyperband": kt.Hyperband,
            "bayesian": kt.BayesianOptimization}[kind]
    return type(f"Multidigit{base.__name__}", (_Mixin, base), {})


def _write_json(path: Path, obj: Any) -> None:
    from ._io import atomic_write

    atomic_write(path, json.dumps(obj, default=_plain))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _is_worker() -> bool:
    tid = os.environ.get("KERASTUNER_TUNER_ID", "")
    return "KERASTUNER_ORACLE_IP" in os.environ and "chief" not in tid


def _is_chief() -> bool:
    return "KERASTUNER_ORACLE_IP" in os.environ and "chief" in os.environ.get(
        "KERASTUNER_TUNER_ID", ""
    )


def _short(message: str | None) -> str | None:
    """The last line of a traceback: ``ValueError: boom``."""
    if not message:
        return None
    lines = [l for l in str(message).strip().splitlines() if l.strip()]
    return lines[-1].strip() if lines else None


def _records(tuner: Any) -> list[dict[str, Any]]:
    """The trial table: the oracle's trials (all of them; on a worker, its own)."""
    md = tuner._md
    if _is_worker():
        trials = dict(md["mine"])
    else:
        trials = dict(tuner.oracle.trials)
    project = Path(tuner.project_dir)
    rows = []
    for tid in sorted(trials, key=lambda t: (len(t), t)):
        t = trials[tid]
        side = _read_json(project / f"trial_{tid}" / _SIDECAR)
        status = str(t.status)
        if tid in md["running"]:
            status = "RUNNING"
        score = t.score if status == "COMPLETED" else None
        rows.append({
            "trial_id": tid,
            "hyperparameters": _public_values(t.hyperparameters.values),
            "score": None if score is None or not math.isfinite(score) else float(score),
            "epochs": int(t.hyperparameters.values.get("tuner/epochs", 0)
                          - t.hyperparameters.values.get("tuner/initial_epoch", 0))
            if side.get("epochs") is None else int(side["epochs"]),
            "seconds": side.get("seconds"),
            "status": status,
            "worker": side.get("tuner_id"),
            "error": _short(t.message) or side.get("error"),
        })
        if "fold_scores" in side:
            rows[-1]["fold_scores"] = side["fold_scores"]
    return rows


# --------------------------------------------------------------------------- live table
def _rich_table(rows: list[dict[str, Any]], objective: str, title: str | None = None):
    from rich.table import Table

    names: list[str] = []
    for r in rows:
        names += [n for n in r["hyperparameters"] if n not in names]
    table = Table(title=title)
    for col in ("trial", "worker", "status", objective, "epochs", "seconds", *names):
        table.add_column(col, justify="left" if col in ("trial", "status", "worker") else "right")
    scores = [r["score"] for r in rows if r["score"] is not None]
    style = {"COMPLETED": "green", "RUNNING": "yellow", "FAILED": "red", "INVALID": "red"}
    for r in rows:
        s = r["score"]
        best = s is not None and s == _best_score(scores, objective)
        table.add_row(
            r["trial_id"],
            r["worker"] or "",
            f"[{style.get(r['status'], '')}]{r['status']}[/]",
            "" if s is None else f"{s:.4g}",
            str(r["epochs"] or ""),
            "" if r["seconds"] is None else f"{r['seconds']:.1f}",
            *(_fmt(r["hyperparameters"].get(n)) for n in names),
            style="bold" if best else None,
        )
    return table


def _best_score(scores: list[float], objective: str) -> float:
    return max(scores) if _direction(objective) == "max" else min(scores)


def _direction(objective: str) -> str:
    """``"max"`` for accuracy-like metrics, ``"min"`` for losses and the rest."""
    return "max" if any(s in objective for s in ("acc", "auc", "precision", "recall")) else "min"


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


# --------------------------------------------------------------------------- result
@dataclass
class TuneResult:
    """What :func:`tune` found.

    Attributes
    ----------
    best_hyperparameters : dict
        Values of the best trial (keys of the search space).
    best_score : float or None
        Its objective value (mean over folds with ``k``).
    best_model : keras.Model or None
        With ``retrain=True``: a fresh model built from the best hyperparameters
        (same ``seed``) and trained on the **train split only** (validation and test
        stay held out) for the best trial's number of epochs.  With
        ``retrain=False``: the best trial's checkpoint restored from the tuner
        (``None`` with ``k`` folds or on a distributed worker, where there is none).
    best_model_source : {"retrained", "restored", None}
    trials : list of dict
        One row per trial: ``trial_id``, ``hyperparameters``, ``score``, ``epochs``
        (run in that trial), ``seconds``, ``status`` (COMPLETED, FAILED, RUNNING),
        ``worker`` (keras-tuner's tuner id) and ``error`` (last line, if it failed).
    objective, direction, tuner, k, search_space, directory, project_name
        How the search ran.
    """

    best_hyperparameters: dict[str, Any]
    best_score: float | None
    trials: list[dict[str, Any]]
    objective: str
    direction: str
    tuner: str
    search_space: dict[str, dict[str, Any]]
    k: int | None = None
    directory: str = ""
    project_name: str = ""
    best_model: Any = field(default=None, repr=False)
    best_model_source: str | None = None
    seconds: float = 0.0

    def __repr__(self) -> str:
        done = sum(r["status"] == "COMPLETED" for r in self.trials)
        return (
            f"TuneResult(tuner={self.tuner!r}, trials={done}/{len(self.trials)} completed, "
            f"{self.objective}={self.best_score!r}, best={self.best_hyperparameters!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (no model)."""
        return {
            "best_hyperparameters": dict(self.best_hyperparameters),
            "best_score": self.best_score,
            "objective": self.objective,
            "direction": self.direction,
            "tuner": self.tuner,
            "k": self.k,
            "search_space": self.search_space,
            "directory": self.directory,
            "project_name": self.project_name,
            "best_model_source": self.best_model_source,
            "seconds": self.seconds,
            "trials": [dict(r) for r in self.trials],
        }

    def table(self, title: str | None = None):
        """The trials as a :class:`rich.table.Table` (print it with ``rich.print``)."""
        return _rich_table(self.trials, self.objective, title)

    def plot(self) -> "Figure":
        """Score of each completed trial against each tuned hyperparameter.

        One panel per tuned (not fixed) hyperparameter; the best trial is drawn in
        red.  Returns a :class:`matplotlib.figure.Figure`.

        Examples
        --------
        >>> fig = result.plot()            # doctest: +SKIP
        >>> fig.savefig("tuning.png")      # doctest: +SKIP
        """
        from matplotlib.figure import Figure

        done = [r for r in self.trials if r["score"] is not None]
        names = [n for n, spec in self.search_space.items() if spec["type"] != "fixed"]
        n = max(len(names), 1)
        cols = min(n, 4)
        rows = math.ceil(n / cols)
        fig = Figure(figsize=(3.2 * cols, 2.8 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        best = self.best_hyperparameters
        for ax, name in zip(axes, names):
            spec = self.search_space[name]
            xs = [r["hyperparameters"].get(name) for r in done]
            ys = [r["score"] for r in done]
            numeric = spec["type"] in ("int", "float") or (
                spec["type"] == "choice"
                and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                        for v in spec["values"])
            )
            if numeric:
                pos = [float(x) for x in xs]
                if spec.get("sampling") == "log":
                    ax.set_xscale("log")
            else:
                cats = [str(v) for v in (spec.get("values") or [False, True])]
                pos = [cats.index(str(x)) if str(x) in cats else len(cats) for x in xs]
                ax.set_xticks(range(len(cats)), cats)
            colors = ["tab:red" if r["hyperparameters"] == best else "tab:blue" for r in done]
            ax.scatter(pos, ys, c=colors, s=28, alpha=0.8)
            ax.set_xlabel(name)
            ax.set_ylabel(self.objective)
        for ax in axes[len(names):]:
            if not names:
                ax.plot([r["trial_id"] for r in done], [r["score"] for r in done], "o")
                ax.set_xlabel("trial")
                ax.set_ylabel(self.objective)
            else:
                ax.set_visible(False)
        fig.suptitle(f"{self.tuner} search: {self.objective} per hyperparameter "
                     f"({len(done)} trials, best in red)")
        return fig


# --------------------------------------------------------------------------- tune
def _check_args(tuner: str, max_trials: int, epochs: int, k: int | None,
                batch_size: int, objective: str) -> None:
    if tuner not in TUNERS:
        raise TuningError(f"unknown tuner {tuner!r}; choose one of {', '.join(map(repr, TUNERS))}.")
    for name, v, lo in (("max_trials", max_trials, 1), ("epochs", epochs, 1),
                        ("batch_size", batch_size, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise TuningError(f"{name} must be an int >= {lo}, got {v!r}.")
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2):
        raise TuningError(f"k must be None (hold-out validation) or an int >= 2, got {k!r}.")
    if not isinstance(objective, str) or not objective:
        raise TuningError(f"objective must be a metric name such as 'val_loss', got {objective!r}.")


def _check_tensorboard() -> None:
    import keras

    if keras.config.backend() != "tensorflow":
        return  # keras-tuner imports tensorboard only with the TensorFlow backend
    try:  # keras-tuner imports it inside every trial; without it every trial fails.
        import tensorboard.plugins.hparams.api  # noqa: F401
    except ImportError as exc:
        raise TuningError(
            f"keras-tuner needs tensorboard in every trial, and it cannot be imported "
            f"({exc}); install it: pip install tensorboard."
        ) from exc


def tune(
    data: Any,
    *,
    search_space: str | Mapping[str, Any] = "study",
    tuner: str = "hyperband",
    max_trials: int = 10,
    epochs: int = 5,
    objective: str = "val_loss",
    k: int | None = None,
    directory: str | os.PathLike[str] = "multidigit-tuning",
    project_name: str = "search",
    resume: bool = True,
    seed: int = 0,
    batch_size: int = 64,
    retrain: bool = True,
    progress: bool = False,
    activation: str = "softmax",
    loss: str = "categorical_crossentropy",
) -> TuneResult:
    """Search hyperparameters of the digit CNN with keras-tuner.

    Parameters
    ----------
    data : MultiDigitDataset
        Trials train on ``data.train`` and are scored on ``data.val`` (or by grouped
        ``k``-fold cross-validation of ``data.train``).  ``data.test`` is never used.
    search_space : str or dict
        A name of :data:`SEARCH_SPACES` (``"study"``, ``"wide"``, ``"tiny"``) or a
        dict in the same format (see :func:`check_search_space`).
    tuner : {"hyperband", "random", "bayesian"}
        ``keras_tuner.Hyperband`` (``max_epochs=epochs``, factor 3),
        ``RandomSearch`` (the study's) or ``BayesianOptimization``.
    max_trials : int
        Most trials in the project (also for Hyperband), counting resumed ones.
    epochs : int
        Epochs per trial (Hyperband: the most a trial gets).
    objective : str
        Metric to optimise; ``"val_loss"`` (the study's, minimised) or e.g.
        ``"val_digit_0_accuracy"`` (maximised: names with ``acc``, ``auc``,
        ``precision`` or ``recall`` are maximised, others minimised).  A trial's
        score is its best epoch.
    k : int, optional
        Score each trial by the mean over ``k`` grouped folds of the train split
        (:func:`multidigit.training.make_folds`); costs ``k`` trainings a trial.
    directory, project_name : str
        Where keras-tuner keeps its project (``directory/project_name``).
    resume : bool
        Continue the project found there (finished trials are kept, an interrupted
        one is rerun); ``False`` starts afresh, deleting it.
    seed : int
        Seeds the tuner's sampling, the weights and the data order of every trial.
    batch_size : int
        Batch size (unless the space tunes ``batch_size``).
    retrain : bool
        Retrain the best configuration on the train split (see
        :attr:`TuneResult.best_model`); otherwise restore the best trial's weights.
    progress : bool
        Show a live table of the trials (rich).  keras-tuner's own printing is
        always silenced.
    activation, loss : str
        Output activation and loss (see :func:`multidigit.build_model`).

    Returns
    -------
    TuneResult

    Raises
    ------
    TuningError
        Bad arguments or search space, or every trial failed (with the error).

    Notes
    -----
    Distributed search: set ``KERASTUNER_TUNER_ID`` (``"chief"`` / ``"tuner0"``...),
    ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` (or use
    ``multidigit tune --chief`` / ``--worker ID``).  The chief serves the oracle and
    returns the whole table when all trials are done; a worker's result only lists
    the trials it ran.

    Examples
    --------
    >>> import multidigit as md
    >>> ds = md.load_dataset("mini", images_per_class=1, image_size=(28, 28))
    >>> result = md.tune(ds, search_space="tiny", tuner="random", max_trials=2,
    ...                  epochs=1, directory="/tmp/md-tune")          # doctest: +SKIP
    >>> result.best_hyperparameters                                    # doctest: +SKIP
    {'preset': 'small', 'conv_1': 8, 'dense_units': 16}
    """
    _check_args(tuner, max_trials, epochs, k, batch_size, objective)
    space = check_search_space(search_space)
    train = getattr(data, "train", None)
    val = getattr(data, "val", None)
    if train is None or not hasattr(train, "one_hot"):
        raise DataError(
            f"tune() needs a dataset with .train and .val splits (multidigit.load_dataset), "
            f"got {type(data).__name__}."
        )
    if k is None and (val is None or len(val) == 0):
        raise DataError("the dataset has no validation images; pass k=... to cross-validate.")
    if k is not None and len(np.unique(train.label_ids)) < k:
        raise TuningError(
            f"k={k} grouped folds need at least {k} label combinations in the train split, "
            f"it has {len(np.unique(train.label_ids))}."
        )
    _check_tensorboard()

    import keras_tuner as kt

    hm = _hypermodel_class()(
        space, input_shape=train.image_shape, n_digits=train.n_digits,
        activation=activation, loss=loss, seed=seed,
    )
    worker = _is_worker()
    real_stdout = sys.stdout
    live = None
    started = time.perf_counter()
    sink = io.StringIO()
    cls = _tuner_class(tuner)
    common = dict(
        objective=kt.Objective(objective, _direction(objective)),
        # keras-tuner's Oracle does ``self.seed = seed or random.randint(1, 10000)``:
        # seed 0 (our default) would mean "unseeded". Shift it so every seed is honoured.
        seed=int(seed) + 1,
        directory=str(directory),
        project_name=project_name,
        # workers share the chief's folder: never let them delete it
        overwrite=(not resume) and not worker,
    )
    try:
        with contextlib.redirect_stdout(sink):
            if tuner == "hyperband":
                t = cls(hm, max_epochs=epochs, factor=3, hyperband_iterations=None, **common)
                if not worker:
                    t.oracle.max_trials = max_trials  # Hyperband has no cap of its own
            else:
                t = cls(hm, max_trials=max_trials, **common)
                if not worker:  # on resume the saved oracle may have another cap
                    t.oracle.max_trials = max_trials
    except TuningError:
        raise
    except Exception as exc:
        raise TuningError(
            f"could not create the {tuner} tuner in {directory}/{project_name}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    t._md = {
        "train": train, "k": k, "seed": seed, "epochs": epochs, "batch_size": batch_size,
        "running": {}, "mine": {}, "callback": None,
    }
    if progress:
        from rich.console import Console
        from rich.live import Live

        live = Live(console=Console(file=real_stdout), refresh_per_second=2,
                    redirect_stdout=False, redirect_stderr=False)

        def refresh(tu: Any) -> None:
            rows = _records(tu)
            done = sum(r["status"] == "COMPLETED" for r in rows)
            live.update(_rich_table(
                rows, objective,
                title=f"{tuner} search ({done}/{max_trials} trials done)",
            ), refresh=True)

        t._md["callback"] = refresh
    fit_kwargs: dict[str, Any] = dict(epochs=epochs, batch_size=batch_size, verbose=0)
    if k is None:
        fit_kwargs["validation_data"] = (val.images, val.one_hot())
    try:
        with contextlib.ExitStack() as stack:
            if live is not None:
                stack.enter_context(live)
            stack.enter_context(contextlib.redirect_stdout(sink))
            if k is None:
                t.search(train.images, train.one_hot(), **fit_kwargs)
            else:
                t.search(**fit_kwargs)
        if live is not None:
            live.console.line()
    except RuntimeError as exc:
        if "consecutive failures" in str(exc):
            raise TuningError(
                f"the search stopped: {_short(str(exc).splitlines()[0])}; the last trial "
                f"failed with: {_short(str(exc))}"
            ) from exc
        raise

    rows = _records(t)
    done_rows = [r for r in rows if r["status"] == "COMPLETED"]
    if not done_rows:
        errors_ = [r["error"] for r in rows if r["error"]]
        raise TuningError(
            f"all {len(rows)} trials of the {tuner} search failed; first error: "
            f"{errors_[0] if errors_ else 'unknown'}. Details in "
            f"{Path(directory) / project_name}/trial_*/trial.json."
        )
    direction = t.oracle.objective.direction
    best_row = (min if direction == "min" else max)(done_rows, key=lambda r: r["score"])
    best_values = dict(best_row["hyperparameters"])

    best_model, source = None, None
    if retrain and not _is_chief():
        best_trial_values = (
            t.oracle.trials[best_row["trial_id"]].hyperparameters.values
            if not worker else t._md["mine"][best_row["trial_id"]].hyperparameters.values
        )
        n_epochs = int(best_trial_values.get("tuner/epochs", epochs))
        import keras

        keras.backend.clear_session()
        best_model = _build(best_values, hm)
        _fit(best_model, train.images, train.one_hot(), epochs=n_epochs,
             batch_size=int(best_values.get("batch_size", batch_size)))
        source = "retrained"
    elif not retrain and k is None and not worker and not _is_chief():
        with contextlib.redirect_stdout(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            best_model = t.load_model(t.oracle.trials[best_row["trial_id"]])
        source = "restored"
    return TuneResult(
        best_hyperparameters=best_values,
        best_score=best_row["score"],
        trials=rows,
        objective=objective,
        direction=direction,
        tuner=tuner,
        search_space=space,
        k=k,
        directory=str(directory),
        project_name=project_name,
        best_model=best_model,
        best_model_source=source,
        seconds=round(time.perf_counter() - started, 3),
    )


# --------------------------------------------------------------------------- CLI
def run_cli(args: "argparse.Namespace") -> int:
    """``multidigit tune``: run a search, show the live trial table and the best."""
    from rich.console import Console

    from .data import load_dataset

    console = Console()
    space: Any = args.search_space
    if space not in SEARCH_SPACES:
        p = Path(space)
        if p.suffix == ".json" and p.exists():
            space = json.loads(p.read_text())
        else:
            raise TuningError(
                f"unknown search space {space!r}; use one of {', '.join(SEARCH_SPACES)} "
                "or a path to a .json file in the same format."
            )
    if args.chief or args.worker is not None:
        os.environ["KERASTUNER_TUNER_ID"] = "chief" if args.chief else f"tuner{args.worker}"
        os.environ["KERASTUNER_ORACLE_IP"] = str(args.chief_ip)
        os.environ["KERASTUNER_ORACLE_PORT"] = str(args.chief_port)
    size = (args.image_size, args.image_size) if args.image_size else None
    ds = load_dataset(args.data, image_size=size, seed=args.seed,
                      images_per_class=args.images_per_class)
    result = tune(
        ds,
        search_space=space,
        tuner=args.tuner,
        max_trials=args.max_trials,
        epochs=args.epochs,
        k=args.k,
        directory=args.directory,
        project_name=args.project_name,
        resume=not args.no_resume,
        seed=args.seed,
        retrain=False,
        progress=not args.chief,
    )
    if args.chief:  # workers and local searches showed the live table already
        console.print(result.table(title=f"{args.tuner} search (chief): all trials"))
    console.print(
        f"[bold]best {result.objective}[/bold] = {result.best_score:.4g} with "
        + ", ".join(f"{k}={_fmt(v)}" for k, v in result.best_hyperparameters.items())
    )
    return 0
