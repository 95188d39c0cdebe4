"""K-fold cross-validation: folds grouped by label combination, one fresh model per fold.

:func:`make_folds` splits a training split so that a validation fold holds only label
combinations unseen in its training folds (as the real val / test splits do);
:func:`cross_validate` builds, trains and evaluates a model per fold and returns a
:class:`CrossValidationResult`.

Examples
--------
>>> import numpy as np
>>> labels = np.array([[0, 4, 2]] * 3 + [[1, 1, 1]] * 3 + [[9, 0, 9]] * 2)
>>> len(make_folds(labels, k=2))
2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit import _defaults as D
from multidigit._inputs import training_split
from multidigit._param_validation import Body, Bool, Int, fail, validate_params
from multidigit._progress import progress_bar
from multidigit._results import Result, html_table, to_jsonable
from multidigit.data import MultiDigitDataset, Split
from multidigit.evaluation.measure import evaluate
from multidigit.training.fit import TrainingHistory, default_epochs, train

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FOLD_METRICS", "CrossValidationResult", "cross_validate", "make_folds"]


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
    raise fail("split_or_labels", "a Split, a (N, n_digits) integer label array or a (N,) "
               "array of label ids / strings", f"shape {arr.shape}")


@validate_params({
    "split_or_labels": Body("a Split, a dataset, (N, n_digits) labels or (N,) group ids"),
    "k": Int(min=2),
    "grouped": Bool(),
    "seed": Int(min=0),
})
def make_folds(
    split_or_labels: Any, k: int = D.K, *, grouped: bool = True, seed: int = D.SEED,
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

    Raises
    ------
    ParameterError
        ``k < 2``, or more folds than label combinations (images if not grouped).

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

    k = int(k)
    groups = _groups_of(split_or_labels)
    n = len(groups)
    if grouped:
        n_groups = len(np.unique(groups))
        if k > n_groups:
            raise fail("k", f"an integer in [2, {n_groups}] (the number of label "
                       "combinations; grouped folds keep each combination in one fold)", k,
                       hint="Use fewer folds or grouped=False.")
        splitter: Any = GroupKFold(n_splits=k, shuffle=True, random_state=int(seed))
        it = splitter.split(np.zeros(n), groups=groups)
    else:
        if k > n:
            raise fail("k", f"an integer in [2, {n}] (the number of images)", k)
        it = KFold(n_splits=k, shuffle=True, random_state=int(seed)).split(np.zeros(n))
    return [(np.sort(tr).astype(np.int64), np.sort(va).astype(np.int64)) for tr, va in it]


# =========================================================================== result
#: The per-fold numbers :meth:`CrossValidationResult.scores` and ``summary`` cover.
FOLD_METRICS = ("mean_digit_accuracy", "whole_accuracy", "loss", "hamming_loss",
                "mean_brier_score", "mean_ece")
_FOLD_METRICS = FOLD_METRICS


@dataclass
class CrossValidationResult(Result):
    """What :func:`cross_validate` returns.

    Attributes
    ----------
    folds : list of dict
        Per fold: ``fold``, ``n_train``, ``n_val``, ``loss``, ``digit_accuracy``
        (list), ``mean_digit_accuracy``, ``whole_accuracy``, ``hamming_loss``,
        ``brier_score`` / ``ece`` (lists, per head), ``mean_brier_score``,
        ``mean_ece`` and ``seed``.
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
            raise fail("metric", "one of " + ", ".join(map(repr, _FOLD_METRICS)), metric,
                       "CrossValidationResult.scores")
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
        return to_jsonable(
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

    def _repr_html_(self) -> str:
        s = self.summary()
        rows = [[m, s[m]["mean"], s[m]["std"], *self.scores(m)] for m in _FOLD_METRICS]
        kind = "grouped" if self.grouped else "plain (leaky)"
        header = ["metric", "mean", "std", *(f"fold {f['fold']}" for f in self.folds)]
        return html_table(rows, header,
                          caption=f"{len(self.folds)}-fold {kind} cross-validation")

    def plot(self, ax: "Axes | None" = None, *, title: str | None = None) -> "Figure":
        """Every fold's learning curves on top of each other
        (:func:`multidigit.plots.plot_learning_curves` of :attr:`histories`).

        Examples
        --------
        >>> fig = md.cross_validate(ds, k=3).plot()     # doctest: +SKIP
        """
        from multidigit.plots import plot_learning_curves

        return plot_learning_curves(self.histories, title=title, ax=ax)

    def __repr__(self) -> str:
        return f"CrossValidationResult({self})"

    def __str__(self) -> str:
        s = self.summary()
        kind = "grouped" if self.grouped else "plain (leaky)"
        return (
            f"{len(self.folds)}-fold {kind} cross-validation: mean digit accuracy "
            f"{100 * s['mean_digit_accuracy']['mean']:.2f} +/- "
            f"{100 * s['mean_digit_accuracy']['std']:.2f} %, whole-number accuracy "
            f"{100 * s['whole_accuracy']['mean']:.2f} +/- {100 * s['whole_accuracy']['std']:.2f} %"
        )


# =========================================================================== cross-validate
@validate_params({
    "data": Body("a MultiDigitDataset or a Split"),
    "k": Int(min=2),
    "model_params": Body("a dict of build_model arguments (not input_shape, n_digits)"),
    "epochs": Int(min=1, none_ok=True),
    "batch_size": Int(min=1),
    "grouped": Bool(),
    "seed": Int(min=0),
    "train_params": Body("a dict of train arguments (not those cross_validate sets)"),
    "folds": Body("None or a list of disjoint (train_idx, val_idx) pairs"),
    "progress": Bool(),
})
def cross_validate(
    data: MultiDigitDataset | Split,
    *,
    k: int = D.K,
    model_params: Mapping[str, Any] | None = None,
    epochs: int | None = D.EPOCHS,
    batch_size: int = D.BATCH_SIZE,
    grouped: bool = True,
    seed: int = D.SEED,
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
    epochs : int, optional
        Epochs of every fold; ``None`` (default): the recipe's,
        :func:`multidigit.default_epochs` of the folds' mean training size.
    batch_size : int
        Batch size of every fold (default: :func:`train`'s, 64).
    grouped : bool
        Group folds by label combination (see :func:`make_folds`; False reproduces
        the study's leaky plain KFold).
    seed : int
        Seed of the folds; fold ``i`` builds and trains with ``seed + i``.
    train_params : dict, optional
        More :func:`train` arguments (``schedule``...; default :func:`train`'s:
        one-cycle; ``{"schedule": "step"}`` is the study's).  Early stopping is off by
        default here: picking the epoch on the fold that is then scored would
        make the estimate optimistic.
    folds : list of (train_idx, val_idx), optional
        Precomputed folds (overrides ``k``, ``grouped``).
    progress : bool
        Show a rich progress bar over the folds.

    Returns
    -------
    CrossValidationResult

    Raises
    ------
    ParameterError
        A bad ``k`` (< 2, or more folds than label combinations), ``data`` that is
        not a dataset or a Split, ``model_params`` / ``train_params`` setting what
        the data or cross-validation sets.

    Examples
    --------
    >>> cv = md.cross_validate(ds, k=3, epochs=5,
    ...                        model_params={"preset": "small"})   # doctest: +SKIP
    >>> print(cv)                                                # doctest: +SKIP
    """
    split = training_split(data)
    model_params, tparams = _cv_params(model_params, train_params)
    if folds is None:
        fold_list = make_folds(split, k, grouped=grouped, seed=seed)
    else:
        fold_list = _check_folds(folds, len(split))
    if epochs is None:  # the recipe's: one number for every fold
        epochs = default_epochs(round(np.mean([len(tr) for tr, _ in fold_list])), batch_size)
    results: list[dict[str, Any]] = []
    histories: list[TrainingHistory] = []
    traced: list[Any] = []  # the model whose train / test steps Keras has traced
    with progress_bar(progress,
                      f"{len(fold_list)}-fold CV", len(fold_list)) as advance:
        for i, (tr, va) in enumerate(fold_list):
            metrics, hist = _run_fold(split, tr, va, int(seed) + i, model_params, tparams,
                                      epochs=epochs, batch_size=batch_size, traced=traced)
            results.append({"fold": i, **metrics})
            histories.append(hist)
            advance(1)
    return CrossValidationResult(
        folds=results, histories=histories, k=len(fold_list), grouped=grouped,
        seed=int(seed), model_params=model_params,
        train_params={"epochs": epochs, "batch_size": batch_size, **tparams},
    )


def _check_folds(folds: Any, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Precomputed folds: at least one; integer rows in range; no row in both parts."""
    try:
        pairs = [(np.asarray(tr), np.asarray(va)) for tr, va in folds]
    except (TypeError, ValueError):
        raise fail("folds", "a list of (train_idx, val_idx) pairs",
                   repr(folds)[:80]) from None
    if not pairs:
        raise fail("folds", "a non-empty list of (train_idx, val_idx) pairs", "[]")
    for i, (tr, va) in enumerate(pairs):
        for part, idx in (("train", tr), ("val", va)):
            if idx.size == 0 or idx.ndim != 1 or idx.dtype.kind not in "iu":
                raise fail(f"folds[{i}] {part} rows", "a non-empty 1-D array of integer "
                           "row indices", f"{idx.dtype} array of shape {idx.shape}")
            if idx.min() < -n or idx.max() >= n:
                raise fail(f"folds[{i}] {part} rows", f"indices in [0, {n}) (the split "
                           f"has {n} rows)", f"{int(idx.min())}..{int(idx.max())}")
        shared = np.intersect1d(tr % n, va % n)
        if shared.size:
            raise fail(f"folds[{i}]", "validation rows that are not training rows",
                       f"{shared.size} shared rows (first: {int(shared[0])})",
                       hint="A row scored on must not be trained on.")
    return pairs


def _cv_params(model_params: Mapping[str, Any] | None,
               train_params: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The build / train arguments of every fold; reject those the data or CV sets."""
    model_params = dict(model_params or {})
    for key in ("input_shape", "n_digits"):
        if key in model_params:
            raise fail(f"model_params[{key!r}]", "left out (it is set from the data)",
                       model_params[key])
    tparams: dict[str, Any] = {"early_stopping": False}
    tparams.update(dict(train_params or {}))
    for key in ("epochs", "batch_size", "seed", "validation", "progress"):
        if key in tparams:
            raise fail(f"train_params[{key!r}]", "left out (cross_validate sets it; pass "
                       "it as its own argument)", tparams[key])
    return model_params, tparams


def _into_traced(traced: list[Any], fresh: Any) -> Any:
    """The model a fold trains: ``fresh`` itself, or the model an earlier fold of this
    call trained, holding ``fresh``'s state (weights, random-layer seeds, a new optimiser).

    Why: Keras traces a model's train and test steps on first use, about 4 s of
    one core a model on a 2-core CPU (``benchmarks/profile_overhead.py``: a quarter of
    a 2-epoch fold of the study); the folds of one call build the same network, so
    they share one trace.  The fold trains exactly as a fresh model would (same
    variables, same compiled step: ``tests/experiments/test_cross_validation.py``).
    """
    if not traced:
        traced.append(fresh)
        return fresh
    model = traced[0]
    mine, theirs = model.variables, fresh.variables

    def settings(optimizer: Any) -> dict[str, Any]:
        return {k: v for k, v in optimizer.get_config().items() if k != "name"}

    same = (len(mine) == len(theirs)
            and all(a.shape == b.shape and a.dtype == b.dtype for a, b in zip(mine, theirs))
            and type(model.optimizer) is type(fresh.optimizer)
            and settings(model.optimizer) == settings(fresh.optimizer))
    if not same:  # a different network (never within one call): trace it anew
        traced[0] = fresh
        return fresh
    for a, b in zip(mine, theirs):
        a.assign(b)
    learning_rate = float(np.asarray(fresh.optimizer.learning_rate))
    for v in model.optimizer.variables:  # Adam's moments and step count start at 0
        v.assign(np.zeros(v.shape, v.dtype))
    model.optimizer.learning_rate = learning_rate
    return model


def _run_fold(split: Split, tr: np.ndarray, va: np.ndarray, fold_seed: int,
              model_params: dict[str, Any], tparams: dict[str, Any], *, epochs: int,
              batch_size: int, traced: list[Any] | None = None,
              ) -> tuple[dict[str, Any], TrainingHistory]:
    """Build, train and evaluate one fold's model; its metrics and history."""
    from multidigit.model.build import build_model

    tr_split, va_split = split.subset(tr, "train"), split.subset(va, "val")
    model = build_model(**model_params, input_shape=split.image_shape,
                        n_digits=split.n_digits, seed=fold_seed)
    if traced is not None:
        model = _into_traced(traced, model)
    hist = train(model, tr_split, validation=va_split, epochs=epochs, batch_size=batch_size,
                 seed=fold_seed, **tparams)
    res = evaluate(model, va_split)
    metrics = {
        "seed": fold_seed, "n_train": len(tr), "n_val": len(va), "loss": res.loss,
        "digit_accuracy": res.digit_accuracy,
        "mean_digit_accuracy": res.mean_digit_accuracy,
        "whole_accuracy": res.whole_accuracy, "hamming_loss": res.hamming_loss,
        "brier_score": res.brier_score, "mean_brier_score": res.mean_brier_score,
        "ece": res.ece, "mean_ece": res.mean_ece,
    }
    return metrics, hist
