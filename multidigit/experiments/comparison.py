"""Compare output activations x losses fairly, with honest statistics.

:func:`compare` cross-validates every (activation, loss) pair on the *same* folds and
seeds and ranks them by accuracy.  Its intervals and its verdict use the corrected
resampled t-test of Nadeau and Bengio (2003) (:func:`corrected_ttest`): the training
sets of different folds overlap, so fold scores are correlated and a plain paired
t-test over folds underestimates the variance and is over-confident.

Examples
--------
>>> import numpy as np
>>> t, p = corrected_ttest(np.array([0.02, 0.01, 0.03]), test_train_ratio=0.5)
>>> round(t, 3), round(p, 3)
(2.191, 0.16)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise, product
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit import _defaults as D
from multidigit._inputs import training_split
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
from multidigit._progress import progress_bar
from multidigit._results import Result, figure_html, html_table, to_jsonable
from multidigit.data import MultiDigitDataset, Split
from multidigit.experiments.cross_validation import (
    CrossValidationResult,
    cross_validate,
    make_folds,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ComparisonResult", "compare", "corrected_interval", "corrected_ttest"]

_METRICS = ("mean_digit_accuracy", "whole_accuracy")


# =========================================================================== statistics
def _corrected_sd(x: np.ndarray, test_train_ratio: float) -> float:
    """Nadeau-Bengio: ``var * (1/n + n_test/n_train)`` instead of ``var / n``."""
    return math.sqrt(float(np.var(x, ddof=1)) * (1.0 / len(x) + test_train_ratio))


_RATIO = Number(min=0)  # n_test / n_train of the folds


@validate_params({"differences": Body("an array of at least 2 paired score differences"),
                  "test_train_ratio": _RATIO})
def corrected_ttest(differences: np.ndarray, test_train_ratio: float) -> tuple[float, float]:
    """Corrected resampled t-test (Nadeau and Bengio 2003) of paired score differences.

    Parameters
    ----------
    differences : array, shape (n,)
        Per run (fold x repeat), score of model A minus score of model B on the same fold.
    test_train_ratio : float
        ``n_test / n_train`` of the folds (for k-fold: about ``1 / (k - 1)``).

    Returns
    -------
    (t, p)
        The statistic ``mean / sqrt(var * (1/n + n_test/n_train))`` and its two-sided
        p-value under Student's t with ``n - 1`` degrees of freedom
        (:data:`scipy.stats.t`), as scikit-learn's example "Statistical comparison of
        models using grid search" does (one-sided there).

    Examples
    --------
    >>> t, p = corrected_ttest(np.array([0.02, 0.01, 0.03]), test_train_ratio=0.5)
    >>> round(p, 3)
    0.16
    """
    from scipy import stats

    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2:
        raise fail("differences", "at least 2 runs", len(d))
    sd = _corrected_sd(d, test_train_ratio)
    if sd == 0:
        mean = float(np.mean(d))
        return (math.copysign(math.inf, mean) if mean else 0.0), (0.0 if mean else 1.0)
    t = float(np.mean(d)) / sd
    return t, float(2 * stats.t.sf(abs(t), len(d) - 1))


@validate_params({
    "x": Free("an array of run scores; fewer than 2 give (nan, nan)"),
    "test_train_ratio": _RATIO,
    "level": Number(min=0, max=1, min_inclusive=False, max_inclusive=False),
    "scale": Choice(("linear", "logit")),
})
def corrected_interval(x: np.ndarray, test_train_ratio: float, level: float = 0.95,
                       scale: str = "linear") -> tuple[float, float]:
    """A ``level`` t interval for the mean of run scores with the corrected variance.

    Parameters
    ----------
    x : array, shape (n,)
        One score per run (fold x repeat).
    test_train_ratio : float
        ``n_test / n_train`` of the folds.
    level : float
        Coverage of the interval.
    scale : {"linear", "logit"}
        ``"linear"``: the interval of the scores themselves (any real numbers, e.g.
        differences).  ``"logit"``: for accuracies in [0, 1]: the interval is computed
        for the mean of ``log(p / (1 - p))`` and mapped back, so it always stays inside
        (0, 1) and is asymmetric near the ends, where a linear interval over a few
        runs can run past 100 % (2 folds: t = 12.7).

    Examples
    --------
    >>> lo, hi = corrected_interval(np.array([0.8, 0.82, 0.81]), test_train_ratio=0.5)
    >>> round(lo, 3), round(hi, 3)
    (0.771, 0.849)
    >>> lo, hi = corrected_interval(np.array([0.9, 0.99]), 1.0, scale="logit")
    >>> 0 < lo < hi < 1
    True
    """
    from scipy import stats
    from scipy.special import expit, logit

    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        return (float("nan"), float("nan"))
    if scale == "logit":
        # an accuracy of exactly 0 or 1 has an infinite logit: clip it just inside
        x = logit(np.clip(x, 1e-6, 1 - 1e-6))
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1)) * _corrected_sd(x, test_train_ratio)
    mean = float(np.mean(x))
    if scale == "logit":
        return (float(expit(mean - half)), float(expit(mean + half)))
    return (mean - half, mean + half)


def _test_train_ratio(results: Sequence[CrossValidationResult]) -> float:
    """Mean ``n_val / n_train`` over every fold of every repeat."""
    n_val = [f["n_val"] for r in results for f in r.folds]
    n_train = [f["n_train"] for r in results for f in r.folds]
    return float(np.mean(n_val) / np.mean(n_train))


# =========================================================================== result
@dataclass
class ComparisonResult(Result):
    """What :func:`compare` returns.

    Attributes
    ----------
    metric : str
        The accuracy the combinations are ranked by.
    rows : list of dict
        One per (activation, loss), best first: ``activation``, ``loss``, ``n``
        (runs: folds x repeats), ``mean``, ``std``, ``ci_low``, ``ci_high`` (95 %
        interval with the Nadeau-Bengio corrected variance, on the logit scale so that
        it stays inside [0, 1]), and the means of
        ``whole_accuracy``, ``mean_digit_accuracy``, ``mean_brier_score`` and
        ``mean_ece`` over the runs.
    scores : dict
        ``"activation+loss"`` -> per-run scores (fold x repeat, same order for all).
    verdict : str
        Plain-language conclusion: the best combination and whether its lead over
        the runner-up exceeds the run-to-run noise (corrected resampled t-test).
    p_value : float or None
        That test's two-sided p-value (None with fewer than 2 runs).
    cv : dict
        ``"activation+loss"`` -> list of :class:`CrossValidationResult` (one per repeat).
    """

    metric: str
    rows: list[dict[str, Any]]
    scores: dict[str, list[float]] = field(repr=False)
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
        return to_jsonable({
            "metric": self.metric, "rows": self.rows, "scores": self.scores,
            "verdict": self.verdict, "p_value": self.p_value,
            "cv": {k: [c.to_dict() for c in v] for k, v in self.cv.items()},
        })

    def __repr__(self) -> str:
        best = f"{self.best['key']}" if self.rows else "none"
        return (f"ComparisonResult(metric={self.metric!r}, combinations={len(self.rows)}, "
                f"best={best!r}, p_value={self.p_value})")

    def __str__(self) -> str:
        lines = [f"{'combination':<40} {self.metric:>22}   95% interval    Brier    ECE"]
        for r in self.rows:
            lines.append(
                f"{r['activation'] + ' + ' + r['loss']:<40} "
                f"{100 * r['mean']:>12.2f} +/- {100 * r['std']:5.2f} %   "
                f"[{100 * r['ci_low']:.2f}, {100 * r['ci_high']:.2f}]  "
                f"{r.get('mean_brier_score', float('nan')):.4f}  "
                f"{r.get('mean_ece', float('nan')):.4f}"
            )
        lines.append(self.verdict)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header = ["activation", "loss", "runs", f"{self.metric} (mean)", "std", "95 % low",
                  "95 % high", "whole-number acc.", "Brier score", "ECE"]
        rows = [[r["activation"], r["loss"], r["n"], r["mean"], r["std"], r["ci_low"],
                 r["ci_high"], r.get("whole_accuracy"), r.get("mean_brier_score"),
                 r.get("mean_ece")] for r in self.rows]
        out = html_table(rows, header, caption="Activation x loss comparison")
        out += f"<p>{_escape(self.verdict)}</p>"
        if self.rows:
            out += figure_html(self.plot())
        return out

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Each combination's mean with its 95 % interval:
        :func:`multidigit.plots.plot_comparison`.

        Examples
        --------
        >>> fig = md.compare(ds, k=3).plot()     # doctest: +SKIP
        """
        from multidigit.plots import plot_comparison

        return plot_comparison(self, ax=ax)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


# =========================================================================== verdict
def _name(row: Mapping[str, Any]) -> str:
    return f"{row['activation']} + {row['loss']}"


def _verdict(rows: list[dict[str, Any]], scores: Mapping[str, list[float]], metric: str,
             test_train_ratio: float, alpha: float = 0.05) -> tuple[str, float | None]:
    """The best combination, and whether its lead over the runner-up beats the noise."""
    best = rows[0]
    head = (f"Best by {metric}: {_name(best)} ({100 * best['mean']:.2f} % mean over "
            f"{best['n']} runs)")
    if len(rows) == 1:
        return head + ".", None
    second = rows[1]
    diff = np.asarray(scores[best["key"]], float) - np.asarray(scores[second["key"]], float)
    gap = 100 * float(np.mean(diff))
    if len(diff) < 2:
        text = (f"{head}; runner-up {_name(second)} is {gap:.2f} points behind. With one run "
                "the noise cannot be estimated: use k >= 3 folds or repeats before trusting "
                "the ranking.")
        return text, None
    _, p = corrected_ttest(diff, test_train_ratio)
    test = f"corrected resampled t-test p = {p:.3g}"
    if p < alpha:
        tail = (f"its lead of {gap:.2f} points over the runner-up {_name(second)} is larger "
                f"than the fold-to-fold noise ({test}).")
    else:
        tail = (f"its lead of {gap:.2f} points over the runner-up {_name(second)} is NOT "
                f"larger than the fold-to-fold noise ({test}); treat them as equivalent.")
    return f"{head}; {tail}", p


def _loss_gap_note(losses: list[str], scores: Mapping[str, list[float]],
                   test_train_ratio: float) -> str:
    """With two losses: the best of each, and whether their gap beats the noise."""
    best = {l: max((k for k in scores if k.endswith("+" + l)), key=lambda k: np.mean(scores[k]))
            for l in losses}
    a, b = (np.asarray(scores[best[l]]) for l in losses)
    if len(a) != len(b) or len(a) < 2 or np.std(a - b) == 0:
        return ""
    _, p = corrected_ttest(a - b, test_train_ratio)
    win = losses[0] if a.mean() > b.mean() else losses[1]
    gap = abs(a.mean() - b.mean()) * 100
    return (f" {win} leads by {gap:.2f} points (corrected resampled t-test p = {p:.3g}): "
            + ("larger than the fold-to-fold noise." if p < 0.05
               else "NOT larger than the fold-to-fold noise."))


def _activation_note(combos: Sequence[tuple[str, str]], scores: Mapping[str, list[float]],
                     test_train_ratio: float = 0.5) -> str:
    """Explain identical scores of two activations under one loss.

    That happens with Keras' logits shortcut (``model_params={"objective": "keras"}``
    on the TensorFlow backend): the cross-entropy then uses the logits that the
    softmax / sigmoid activation cached on its output, so softmax + X and sigmoid + X
    train the very same network.  multidigit's default objective (``"exact"``) trains
    the loss of the activation's outputs, so the four combinations differ.
    """
    same = []
    for loss in sorted({l for _, l in combos}):
        acts = [a for a, l in combos if l == loss]
        for a, b in pairwise(acts):
            if np.allclose(scores[f"{a}+{loss}"], scores[f"{b}+{loss}"], atol=1e-9):
                same.append(f"{a} and {b} with {loss}")
    if not same:
        return ""
    note = (
        " Note: " + "; ".join(same) + " gave identical scores on every fold. That is "
        "Keras' logits shortcut (objective='keras' on TensorFlow): the cross-entropy is "
        "computed from the logits the output activation cached, so the activation "
        "changes only the reported probabilities, not training: what differs here is "
        "the loss."
    )
    losses = sorted({l for _, l in combos})
    if len(losses) == 2:
        note += _loss_gap_note(losses, scores, test_train_ratio)
    return note


# =========================================================================== compare
_METRIC_HINT = ("compare ranks by accuracy: loss values of different losses are not "
                "comparable.")


@validate_params({
    "data": Body("a MultiDigitDataset or a Split"),
    "activations": Body("a sequence of names from multidigit.model.build.ACTIVATIONS"),
    "losses": Body("a sequence of names from multidigit.model.build.LOSSES"),
    "k": Int(min=2),
    "repeats": Int(min=1),
    "model_params": Body("a dict of build_model arguments (not activation, loss)"),
    "epochs": Int(min=1, none_ok=True),
    "batch_size": Int(min=1),
    "grouped": Bool(),
    "seed": Int(min=0),
    "metric": Choice(_METRICS, hint=_METRIC_HINT),
    "train_params": Body("a dict of train arguments (as cross_validate)"),
    "progress": Bool(),
})
def compare(
    data: MultiDigitDataset | Split,
    *,
    activations: Sequence[str] = ("softmax", "sigmoid"),
    losses: Sequence[str] = ("categorical_crossentropy", "binary_crossentropy"),
    k: int = 3,
    repeats: int = 1,
    model_params: Mapping[str, Any] | None = None,
    epochs: int | None = D.EPOCHS,
    batch_size: int = D.BATCH_SIZE,
    grouped: bool = True,
    seed: int = D.SEED,
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
        Repeat the k-fold with new folds (shuffled with ``seed + r``) and new model
        seeds (``seed + 1000 r + fold``): ``k x repeats`` runs per combination, the
        "repeated k-fold" the corrected t-test is designed for.
    model_params : dict, optional
        Other :func:`multidigit.build_model` arguments (``preset``...).
    epochs, batch_size, grouped, train_params
        As in :func:`cross_validate` (``epochs=None``: the recipe's,
        :func:`multidigit.default_epochs`; batch 64).
    seed : int
        Base seed.
    metric : {"mean_digit_accuracy", "whole_accuracy"}
        The accuracy to rank by.
    progress : bool
        A rich progress bar over the runs.

    Returns
    -------
    ComparisonResult
        ``.table()`` (mean, std, 95 % interval, Brier score and ECE per combination),
        ``.verdict``.

    Raises
    ------
    ParameterError
        An unknown activation, loss or metric, ``k < 2``, ``repeats < 1``, or
        ``model_params`` setting what compare varies.

    Notes
    -----
    The folds' training sets overlap (each image is in ``k - 1`` of them), so the
    scores of one combination over the folds are correlated.  A plain paired t-test
    treats them as independent, underestimates the variance and declares
    differences "significant" too often.  The corrected resampled t-test of Nadeau
    and Bengio (2003) inflates the variance of the mean from ``var / n`` to
    ``var * (1/n + n_test/n_train)``; both the intervals and the verdict's p-value
    use it (as scikit-learn's model-selection statistics example does).

    Examples
    --------
    >>> res = md.compare(ds, k=3, epochs=5, model_params={"preset": "small"})  # doctest: +SKIP
    >>> print(res.verdict)                                                     # doctest: +SKIP
    """
    split = training_split(data)
    combos, model_params = _check_compare_args(activations, losses, model_params)
    fold_sets = [make_folds(split, k, grouped=grouped, seed=int(seed) + r)
                 for r in range(repeats)]
    cv: dict[str, list[CrossValidationResult]] = {}
    with progress_bar(progress, "compare",
                      len(combos) * repeats) as advance:
        for act, loss in combos:
            cv[f"{act}+{loss}"] = []
            for r, folds in enumerate(fold_sets):
                res = cross_validate(
                    split, model_params={**model_params, "activation": act, "loss": loss},
                    epochs=epochs, batch_size=batch_size, seed=int(seed) + r * 1000,
                    train_params=train_params, folds=folds,
                )
                res.grouped = grouped
                cv[f"{act}+{loss}"].append(res)
                advance(1)
    scores = {key: [float(s) for res in results for s in res.scores(metric)]
              for key, results in cv.items()}
    ratio = _test_train_ratio(next(iter(cv.values())))
    rows = sorted((_row(act, loss, cv[f"{act}+{loss}"], scores, metric, ratio)
                   for act, loss in combos), key=lambda r: -r["mean"])
    verdict, p = _verdict(rows, scores, metric, ratio)
    verdict += _activation_note(combos, scores, ratio)
    return ComparisonResult(metric=metric, rows=rows, scores=scores, verdict=verdict,
                            p_value=p, cv=cv)


def _check_compare_args(activations: Sequence[str], losses: Sequence[str],
                        model_params: Mapping[str, Any] | None
                        ) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """compare()'s sequences; the (activation, loss) pairs and the model params."""
    from multidigit.model.build import ACTIVATIONS, LOSSES

    for a in activations:
        check_choice("activations", a, ACTIVATIONS)
    for l in losses:
        check_choice("losses", l, LOSSES)
    model_params = dict(model_params or {})
    for key in ("activation", "loss"):
        if key in model_params:
            raise fail(f"model_params[{key!r}]", "left out (it is what compare varies; use "
                       "activations= / losses=)", model_params[key])
    combos = list(product(activations, losses))
    if not combos:
        raise fail("activations, losses", "at least one activation and one loss",
                   (tuple(activations), tuple(losses)))
    return combos, model_params


def _row(act: str, loss: str, results: list[CrossValidationResult],
         scores: Mapping[str, list[float]], metric: str, ratio: float) -> dict[str, Any]:
    """One combination's line of the table: the metric's mean, std, interval, and means."""
    key = f"{act}+{loss}"
    x = np.asarray(scores[key])
    lo, hi = corrected_interval(x, ratio, scale="logit")

    def mean_of(m: str) -> float:
        return float(np.mean([s for r in results for s in r.scores(m)]))

    return {
        "key": key, "activation": act, "loss": loss, "metric": metric, "n": len(x),
        "mean": float(np.mean(x)), "std": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0,
        "ci_low": lo, "ci_high": hi,
        "mean_digit_accuracy": mean_of("mean_digit_accuracy"),
        "whole_accuracy": mean_of("whole_accuracy"),
        "mean_brier_score": mean_of("mean_brier_score"), "mean_ece": mean_of("mean_ece"),
    }
