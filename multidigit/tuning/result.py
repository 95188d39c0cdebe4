"""What :func:`multidigit.tune` returns: :class:`TuneResult`, with its table and plot."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multidigit._figures import AX
from multidigit._param_validation import validate_params
from multidigit._results import Result, html_table, to_jsonable
from multidigit.tuning.table import TrialTable, fmt

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["TuneResult"]


@dataclass(repr=False)
class TuneResult(Result):
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
        ``worker`` (keras-tuner's tuner id), ``error`` (last line, if it failed) and
        ``val_accuracy`` (mean validation accuracy of the heads at the epoch of lowest
        validation loss; None with ``k`` folds).
    objective, direction, tuner, k, search_space, directory, project_name
        How the search ran.

    Examples
    --------
    >>> result = md.tune(ds, search_space="tiny", max_trials=2)   # doctest: +SKIP
    >>> result                                                   # doctest: +SKIP
    TuneResult(tuner='hyperband', trials=2/2 completed, val_loss=1.9, best={...})
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

    @property
    def n_completed(self) -> int:
        """How many trials completed."""
        return sum(r["status"] == "COMPLETED" for r in self.trials)

    def __repr__(self) -> str:
        score = "None" if self.best_score is None else f"{self.best_score:.4g}"
        return (
            f"TuneResult(tuner={self.tuner!r}, trials={self.n_completed}/{len(self.trials)} "
            f"completed, {self.objective}={score}, best={self.best_hyperparameters!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (no model)."""
        # Not the Result default: best_model is a Keras model, not data.
        return to_jsonable({
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
        })

    def _html_rows(self) -> list[list[Any]]:
        best = ", ".join(f"{k}={fmt(v)}" for k, v in self.best_hyperparameters.items())
        return [
            ["tuner", self.tuner],
            ["trials completed", f"{self.n_completed} of {len(self.trials)}"],
            [f"best {self.objective}",
             "" if self.best_score is None else f"{self.best_score:.4g}"],
            ["best hyperparameters", best],
            ["validation", f"{self.k}-fold grouped CV" if self.k else "validation split"],
            ["best model", self.best_model_source or "none"],
            ["seconds", f"{self.seconds:.1f}"],
        ]

    def _repr_html_(self) -> str:
        """Jupyter: a summary table and the trial table (best trial in bold)."""
        names = [n for n in self.search_space]
        rows = []
        for r in self.trials:
            s = "" if r["score"] is None else f"{r['score']:.4g}"
            if r["score"] is not None and r["hyperparameters"] == self.best_hyperparameters:
                s = f"{s} (best)"
            rows.append([r["trial_id"], r["status"].lower(), s, r["epochs"],
                         *(fmt(r["hyperparameters"].get(n)) for n in names)])
        return (html_table(self._html_rows(), ["", ""], caption="TuneResult")
                + html_table(rows, ["trial", "status", self.objective, "epochs", *names],
                             caption="trials"))

    def table(self, title: str | None = None) -> TrialTable:
        """The trials as a rich renderable that fits the console (``rich.print`` it)."""
        return TrialTable(self.trials, self.objective, title)

    @validate_params({"ax": AX})
    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Score of each completed trial against each tuned hyperparameter.

        One panel per tuned (not fixed) hyperparameter; the best trial is drawn in
        red.  Returns a :class:`matplotlib.figure.Figure`: a new one, or with ``ax``
        the figure of that Axes, whose area the panels split.

        Examples
        --------
        >>> fig = result.plot()            # doctest: +SKIP
        >>> fig.savefig("tuning.png")      # doctest: +SKIP
        """
        from multidigit._figures import canvas, set_title

        done = [r for r in self.trials if r["score"] is not None]
        names = [n for n, spec in self.search_space.items() if spec["type"] != "fixed"]
        n = max(len(names), 1)
        cols = min(n, 4)
        rows = math.ceil(n / cols)
        c = canvas(ax, rows, cols, size=(3.2 * cols, 2.8 * rows))
        axes = c.axes.ravel()
        for panel, name in zip(axes, names):
            self._panel(panel, name, done)
        for panel in axes[len(names):]:
            if not names:
                panel.plot([r["trial_id"] for r in done], [r["score"] for r in done], "o")
                panel.set_xlabel("trial")
                panel.set_ylabel(self._score_label())
            else:
                panel.set_visible(False)
        set_title(c, f"{self.tuner} search: {self.objective} per hyperparameter "
                     f"({len(done)} trials, best in red)")
        return c.figure

    def _score_label(self) -> str:
        """The objective in words with its direction: ``validation loss (lower is better)``."""
        words = self.objective.replace("val_", "validation ").replace("_", " ")
        return f"{words} ({'lower' if self.direction == 'min' else 'higher'} is better)"

    def _panel(self, ax: Any, name: str, done: list[dict[str, Any]]) -> None:
        """One panel: the score against hyperparameter ``name``."""
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
            if spec["type"] == "choice":  # ticks at the choices only: no crowded labels
                from matplotlib.ticker import NullLocator

                values = sorted(float(v) for v in spec["values"])
                ax.set_xticks(values, [f"{v:g}" for v in values])
                ax.xaxis.set_minor_locator(NullLocator())
                if len(values) > 1 and spec.get("sampling") == "log":
                    ax.set_xlim(values[0] / 1.3, values[-1] * 1.3)
                elif len(values) > 1:
                    pad = 0.15 * (values[-1] - values[0])
                    ax.set_xlim(values[0] - pad, values[-1] + pad)
            else:
                ax.tick_params(axis="x", labelrotation=30)
        else:
            cats = [str(v) for v in (spec.get("values") or [False, True])]
            pos = [cats.index(str(x)) if str(x) in cats else len(cats) for x in xs]
            ax.set_xticks(range(len(cats)), cats)
        best = self.best_hyperparameters
        colors = ["tab:red" if r["hyperparameters"] == best else "tab:blue" for r in done]
        ax.scatter(pos, ys, c=colors, s=28, alpha=0.8)
        ax.set_xlabel(name)
        ax.set_ylabel(self._score_label())
