"""Every plot takes ``ax=``, draws into that Axes and returns its figure (issue 25).

The cases are one table, :data:`CASES`; a test checks that it lists every public
function of :mod:`multidigit.plots` and the ``plot`` method of every public result, so
a new plot cannot go untested.
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

import multidigit as md
from multidigit import plots
from multidigit._figures import canvas
from multidigit.demo import explain as demo_explain
from multidigit.demo.explain import explanation_figure
from multidigit.errors import ParameterError


@pytest.fixture(scope="module")
def model():
    return md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                          preset="small", seed=0)


def _history(n: int = 3) -> md.TrainingHistory:
    rng = np.random.default_rng(0)
    h = {"loss": list(rng.random(n)), "val_loss": list(rng.random(n))}
    for i in range(3):
        h[f"digit_{i}_accuracy"] = list(rng.random(n))
    return md.TrainingHistory(h, n, 0, "val_loss", 1.0, 1.0, 10.0)


def _evaluation() -> md.EvaluationResult:
    cms = np.stack([np.eye(10, dtype=int) * (i + 1) for i in range(3)])
    return md.EvaluationResult([1.0] * 3, 1.0, 1.0, 0.0, 0.1, 10, [{}] * 3, cms,
                               np.zeros((10, 3), int))


def _comparison() -> md.ComparisonResult:
    rows = [{"key": f"a{i}", "activation": a, "loss": "binary_crossentropy", "metric": "m",
             "n": 3, "mean": m, "std": 0.01, "ci_low": m - 0.02, "ci_high": m + 0.02}
            for i, (a, m) in enumerate([("softmax", 0.9), ("sigmoid", 0.8)])]
    return md.ComparisonResult("mean_digit_accuracy", rows, {}, "verdict", None)


def _tuning() -> md.TuneResult:
    space = {"learning_rate": {"type": "choice", "values": [1e-3, 2e-3]},
             "conv_1": {"type": "choice", "values": [24, 32]}}
    trials = [{"trial_id": str(i), "status": "COMPLETED", "score": 0.5 + i / 10, "epochs": 2,
               "hyperparameters": {"learning_rate": lr, "conv_1": c}}
              for i, (lr, c) in enumerate([(1e-3, 24), (2e-3, 32), (2e-3, 24)])]
    return md.TuneResult(trials[0]["hyperparameters"], 0.5, trials, "val_loss", "min",
                         "random", space)


def _explanation(kind: str) -> md.Explanation:
    rng = np.random.default_rng(0)
    images = rng.random((2, 28, 28, 1)).astype(np.float32)
    if kind == "per_head":
        return md.Explanation(rng.random((2, 3, 28, 28)), "saliency",
                              ["digit_0", "digit_1", "digit_2"], np.zeros((2, 3), int), images)
    if kind == "per_image":
        return md.Explanation(rng.random((2, 4, 14, 14)), "feature_maps", [], None, images,
                              per_head=False)
    return md.Explanation(rng.random((5, 3, 3)), "filters", [], None, images, per_head=False,
                          model_level=True)


def _prepared() -> md.PreparedInput:
    page = np.zeros((40, 120), np.float32)
    for k in range(3):  # three blobs of ink, one per digit
        page[10:30, 10 + 40 * k: 25 + 40 * k] = 1.0
    return md.prepare_handwriting(page, 3, image_size=(28, 84))


def _robustness() -> md.RobustnessResult:
    return md.RobustnessResult(["clean", "blur"], [0.9, 0.7], [0.8, 0.5], [0.6, 0.7],
                               [0.1, 0.2], [0.0, 0.0], 10, False, 0)


def _plot_model(ctx: dict[str, Any], ax: Any) -> Figure:
    if shutil.which("dot") is None:
        pytest.skip("graphviz `dot` is not installed")
    pytest.importorskip("pydot")
    return plots.plot_model(ctx["model"], ax=ax)


#: name -> draw(ctx, ax): every plotting function and method, called with ``ax``
CASES: dict[str, Callable[[dict[str, Any], Any], Figure]] = {
    "plots.plot_learning_curves": lambda c, ax: plots.plot_learning_curves(_history(), ax=ax),
    "plots.plot_confusion_matrices": lambda c, ax: plots.plot_confusion_matrices(
        _evaluation(), ax=ax),
    "plots.plot_comparison": lambda c, ax: plots.plot_comparison(_comparison(), ax=ax),
    "plots.plot_model": _plot_model,
    "plots.plot_architecture": lambda c, ax: plots.plot_architecture(c["model"], ax=ax),
    "plots.plot_samples": lambda c, ax: plots.plot_samples(c["ds"].test, n=5, ax=ax),
    "plots.plot_filters": lambda c, ax: plots.plot_filters(c["model"], max_filters=6, ax=ax),
    "plots.plot_feature_maps": lambda c, ax: plots.plot_feature_maps(
        c["model"], c["ds"].test.images[0], max_maps=3, ax=ax),
    "TrainingHistory.plot": lambda c, ax: _history().plot(ax=ax),
    "EvaluationResult.plot": lambda c, ax: _evaluation().plot(ax=ax),
    "CrossValidationResult.plot": lambda c, ax: md.CrossValidationResult(
        [], [_history(), _history(4)], 2, True, 0).plot(ax=ax),
    "ComparisonResult.plot": lambda c, ax: _comparison().plot(ax=ax),
    "TuneResult.plot": lambda c, ax: _tuning().plot(ax=ax),
    "Explanation.plot": lambda c, ax: _explanation("per_head").plot(ax=ax),
    "Explanation.plot[per_image]": lambda c, ax: _explanation("per_image").plot(ax=ax),
    "Explanation.plot[model_level]": lambda c, ax: _explanation("model_level").plot(ax=ax),
    "PreparedInput.plot": lambda c, ax: _prepared().plot(ax=ax),
    "DigitCountError.plot": lambda c, ax: md.DigitCountError(
        "two digits", 2, 3, [(1, 1, 4, 4), (5, 1, 8, 4)], np.zeros((10, 10))).plot(ax=ax),
    "RobustnessResult.plot": lambda c, ax: _robustness().plot(ax=ax),
    "demo_explain.explanation_figure": lambda c, ax: explanation_figure(
        c["model"], c["ds"].test.images[0, ..., 0], "saliency", ax=ax),
    "demo_explain.explanation_figure[feature_maps]": lambda c, ax: explanation_figure(
        c["model"], c["ds"].test.images[0, ..., 0], "feature_maps", ax=ax),
}

#: plotting functions outside multidigit.plots and the public results
OTHER_PLOTS = {"demo_explain.explanation_figure"}


def _plotting_names() -> set[str]:
    """Every public plotting function and public result (or error) with ``plot``."""
    names = {f"plots.{name}" for name in plots.__all__} | OTHER_PLOTS
    for name in md.__all__:
        obj = getattr(md, name)
        if inspect.isclass(obj) and callable(getattr(obj, "plot", None)):
            names.add(f"{name}.plot")
    return names


def test_cases_cover_every_plot():
    covered = {name.split("[")[0] for name in CASES}
    assert _plotting_names() - covered == set(), "add the new plot to CASES"
    assert covered - _plotting_names() == set(), "CASES lists a plot that is gone"


@pytest.mark.parametrize("name", sorted(_plotting_names()))
def test_every_plot_takes_ax_and_returns_a_figure(name):
    owner, attr = name.split(".")
    holder = {"plots": plots, "demo_explain": demo_explain}.get(owner) or getattr(md, owner)
    func = getattr(holder, attr)
    params = inspect.signature(func).parameters
    assert "ax" in params and params["ax"].default is None, f"{name} needs ax=None"
    assert "Figure" in str(inspect.signature(func).return_annotation), name


def _artists(ax: Any) -> int:
    return sum(len(group) for group in (ax.lines, ax.patches, ax.images, ax.texts,
                                        ax.collections, ax.child_axes))


def _all_axes(fig: Any) -> list[Any]:
    """The Axes of a figure and of its sub-figures."""
    return list(fig.axes) + [a for sub in fig.subfigs for a in _all_axes(sub)]


def _inside(panel: Any, ax: Any) -> bool:
    """``panel`` is in a sub-figure that takes ``ax``'s place (matplotlib keeps a
    sub-figure's place in ``_subplotspec``; there is no public getter)."""
    return panel.figure is not ax.figure and panel.figure._subplotspec == ax.get_subplotspec()


@pytest.mark.parametrize("name", sorted(CASES))
def test_plot_draws_into_the_given_ax(name, model, tiny_ds):
    fig = Figure()
    other, ax = fig.subplots(1, 2)
    before = list(fig.axes)
    out = CASES[name]({"model": model, "ds": tiny_ds}, ax)
    assert out is ax.figure
    new = [a for a in _all_axes(fig) if a not in before]
    assert _artists(ax) > 0 or any(_artists(a) for a in new), f"{name} drew nothing in ax"
    assert all(_inside(a, ax) for a in new), f"{name} drew outside the given ax"
    assert _artists(other) == 0 and other.get_title() == "", f"{name} drew in another Axes"


@pytest.mark.parametrize("name", ["plots.plot_learning_curves", "TuneResult.plot",
                                  "Explanation.plot"])
def test_without_ax_a_new_figure(name, model, tiny_ds):
    fig = CASES[name]({"model": model, "ds": tiny_ds}, None)
    assert isinstance(fig, Figure) and len(fig.axes) >= 2


def test_an_axes_placed_by_hand_gets_inset_panels():
    fig = Figure()
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))  # no subplot spec to split
    out = plots.plot_learning_curves(_history(), ax=ax, title="curves")
    assert out is fig and len(ax.child_axes) == 2 and ax.get_title() == "curves"
    assert len(ax.child_axes[0].lines) == 2  # loss: train and validation


def test_ax_must_be_an_axes():
    with pytest.raises(ParameterError, match="ax"):
        plots.plot_comparison(_comparison(), ax="left")
    with pytest.raises(ParameterError, match="ax"):
        canvas(object(), 1, 2, size=(4, 2))
