"""Bad-argument cases of the explain area (explain, registry, metrics, plots).

Not collected by pytest (no ``test_`` prefix): ``tests/test_param_validation.py`` runs
them, and the integrator merges them into the package-wide table.  Each case:
``pytest.param(callable, args, kwargs, parameter name, fragment of the allowed values)``.
Functions that need a model get a tiny one through ``_on_model``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multidigit as md
from multidigit import plots
from multidigit.explanation.api import as_image_batch, resolve_targets
from multidigit.model.heads import resolve_heads


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    return md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                          preset="small", filters=(4, 8), dense_units=16, seed=0,
                          compile=False)


def _on_model(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func(model, *args, **kwargs)`` with the shared tiny model."""

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        return func(_model(), *args, **kwargs)

    return call


def _metric(name: str) -> Callable[..., Any]:
    """``multidigit.explanation.methods.<name>(model, *args, **kwargs)`` with the tiny model,
    imported on call; named ``name`` (the rows are matched to declarations by name)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        from multidigit.explanation import methods as explainers

        return getattr(explainers, name)(_model(), *args, **kwargs)

    call.__name__ = name
    return call


def _localisation_metric(name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        from multidigit.explanation import methods as explainers

        return getattr(explainers, name)(*args, **kwargs)

    call.__name__ = name
    return call


_sanity_check = _metric("sanity_check")
_faithfulness = _metric("faithfulness")
_faithfulness_table = _metric("faithfulness_table")


def _explanation_plot(**kwargs: Any) -> Any:
    ex = md.explain(_model(), X, "gradcam", head=0)
    return ex.plot(**kwargs)


X = np.zeros((2, 28, 28, 1), np.float32)
explain = _on_model(md.explain)

CASES = [
    pytest.param(explain, (X, "grad-cam"), {}, "method", "'gradcam'", id="explain-method"),
    pytest.param(explain, (X,), {"head": 7}, "head", "'all', an index", id="explain-head"),
    pytest.param(explain, (X,), {"target": 12}, "target", "0..9", id="explain-target"),
    pytest.param(explain, (X,), {"target": np.zeros(3)}, "target", "an array (N,)",
                 id="explain-target-shape"),
    pytest.param(explain, (X,), {"batch_size": 0}, "batch_size", "integer >= 1",
                 id="explain-batch_size"),
    pytest.param(explain, (np.zeros((2, 30, 30, 1)),), {}, "images", "(N, 28, 28, 1)",
                 id="explain-images-shape"),
    pytest.param(explain, (X, "saliency"), {"smoth": 3}, "smoth", "smooth",
                 id="explain-unknown-option"),
    pytest.param(explain, (X, "saliency"), {"score": "prob"}, "score", "'logit'",
                 id="explain-score"),
    pytest.param(explain, (X, "saliency"), {"absolute": "yes"}, "absolute", "True or False",
                 id="explain-absolute"),
    pytest.param(explain, (X, "gradcam"), {"normalize": 1}, "normalize", "True or False",
                 id="explain-normalize"),
    pytest.param(explain, (X, "gradcam"), {"layer": "nope"}, "layer", "conv_1",
                 id="explain-layer"),
    pytest.param(explain, (X, "filters"), {"layer": "dense"}, "layer", "Conv2D",
                 id="explain-filters-layer"),
    pytest.param(explain, (X, "feature_maps"), {"channels": [99]}, "channels", "-4..3",
                 id="explain-channels"),
    pytest.param(explain, (X, "deepdream"), {"octaves": 0}, "octaves", "integer >= 1",
                 id="explain-octaves"),
    pytest.param(explain, (X, "scorecam"), {"max_n": 0}, "max_n", "integer >= 1",
                 id="explain-max_n"),
    pytest.param(explain, (X, "activation_maximization"), {"steps": 0}, "steps",
                 "integer >= 1", id="explain-am-steps"),
    pytest.param(md.get_explainer, ("grad-cam",), {}, "name", "'saliency'",
                 id="get_explainer-name"),
    pytest.param(md.register_explainer, ("",), {}, "name", "non-empty string",
                 id="register_explainer-name"),
    pytest.param(_sanity_check, (X, "gradcam"), {"mode": "bottom"}, "mode", "'cascading'",
                 id="sanity_check-mode"),
    pytest.param(_sanity_check, (X, "feature_maps"), {}, "method", "attribution",
                 id="sanity_check-method"),
    pytest.param(_sanity_check, (X, "gradcam"), {"head": "all"}, "head", "one head",
                 id="sanity_check-head"),
    pytest.param(_faithfulness, (X, "gradcam"), {"steps": 0}, "steps", "integer >= 1",
                 id="faithfulness-steps"),
    pytest.param(_sanity_check, (np.zeros((2, 30, 30, 1)), "gradcam"), {}, "images",
                 "(N, 28, 28, 1)", id="sanity_check-images"),
    pytest.param(_sanity_check, (X, "gradcam"), {"target": 12}, "target", "0..9",
                 id="sanity_check-target"),
    pytest.param(_sanity_check, (X, "saliency"), {"smoth": 3}, "smoth", "smooth",
                 id="sanity_check-options"),
    pytest.param(_faithfulness, (np.zeros((2, 30, 30, 1)), "gradcam"), {}, "images",
                 "(N, 28, 28, 1)", id="faithfulness-images"),
    pytest.param(_faithfulness, (X, "feature_maps"), {}, "method", "attribution",
                 id="faithfulness-method"),
    pytest.param(_faithfulness, (X, "gradcam"), {"head": "all"}, "head", "one head",
                 id="faithfulness-head"),
    pytest.param(_faithfulness, (X, "gradcam"), {"target": 12}, "target", "0..9",
                 id="faithfulness-target"),
    pytest.param(_faithfulness, (X, "gradcam"), {"maps": np.zeros((1, 28, 28))}, "maps",
                 "an array (N, H, W)", id="faithfulness-maps"),
    pytest.param(_faithfulness, (X, "saliency"), {"smoth": 3}, "smoth", "smooth",
                 id="faithfulness-options"),
    pytest.param(_faithfulness, (X, "gradcam"), {"max_fraction": 0}, "max_fraction",
                 "number in (0", id="faithfulness-max_fraction"),
    pytest.param(_faithfulness_table, (np.zeros((2, 30, 30, 1)),), {}, "images",
                 "(N, 28, 28, 1)", id="faithfulness_table-images"),
    pytest.param(_faithfulness_table, (X, ["gradcam"]), {"steps": 0}, "steps",
                 "integer >= 1", id="faithfulness_table-kwargs"),
    pytest.param(_localisation_metric("pointing_game"), (np.zeros((2, 4, 4)), np.zeros((3, 4))),
                 {}, "boxes", "(N, 4)", id="pointing_game-boxes"),
    pytest.param(_localisation_metric("pointing_game"), (np.zeros((4, 4)), np.zeros((1, 4))),
                 {}, "maps", "(N, H, W)", id="pointing_game-maps"),
    pytest.param(_localisation_metric("relevance_mass"), (np.zeros((2, 4, 4)), np.zeros(4)),
                 {}, "boxes", "(N, 4)", id="relevance_mass-boxes"),
    pytest.param(_localisation_metric("relevance_mass"), (np.zeros(4), np.zeros((1, 4))),
                 {}, "maps", "(N, H, W)", id="relevance_mass-maps"),
    pytest.param(_localisation_metric("relevance_rank_accuracy"),
                 (np.zeros((2, 4, 4)), [[0, 0]]), {}, "boxes", "(N, 4)",
                 id="relevance_rank_accuracy-boxes"),
    pytest.param(_localisation_metric("relevance_rank_accuracy"),
                 (np.zeros((2, 4)), np.zeros((2, 4))), {}, "maps", "(N, H, W)",
                 id="relevance_rank_accuracy-maps"),
    pytest.param(_on_model(resolve_heads), (7,), {}, "head", "'all', an index",
                 id="resolve_heads-head"),
    pytest.param(_on_model(as_image_batch), (np.zeros((2, 30, 30, 1)),), {}, "images",
                 "(N, 28, 28, 1)", id="as_image_batch-images"),
    pytest.param(_on_model(resolve_targets), (X, [0], 12), {}, "target", "0..9",
                 id="resolve_targets-target"),
    pytest.param(plots.plot_comparison, ([],), {"ax": "left"}, "ax", "matplotlib Axes",
                 id="plot_comparison-ax"),
    pytest.param(_explanation_plot, (), {"max_images": 0}, "max_images", "integer >= 1",
                 id="Explanation.plot-max_images"),
    pytest.param(plots.plot_learning_curves, ([1],), {}, "history", "TrainingHistory",
                 id="plot_learning_curves-history"),
    pytest.param(plots.plot_confusion_matrices, (None,), {}, "result", "EvaluationResult",
                 id="plot_confusion_matrices-result"),
    pytest.param(plots.plot_comparison, ([],), {}, "result", "ComparisonResult",
                 id="plot_comparison-result"),
    pytest.param(_on_model(plots.plot_model), ("model.svg",), {}, "path", "'.png'",
                 id="plot_model-path"),
    pytest.param(plots.plot_samples, (None,), {}, "split", "Split", id="plot_samples-split"),
    pytest.param(_on_model(plots.plot_filters), ("conv_1",), {"max_filters": 0},
                 "max_filters", "integer >= 1", id="plot_filters-max_filters"),
    pytest.param(_on_model(plots.plot_filters), ("conv_9",), {}, "layer", "conv_1",
                 id="plot_filters-layer"),
    pytest.param(_on_model(plots.plot_feature_maps), (np.zeros((84, 84)),), {}, "image",
                 "(28, 28, 1)", id="plot_feature_maps-image"),
    pytest.param(_on_model(plots.plot_feature_maps), (X[0], "dense"), {}, "layer",
                 "(H, W, channels)", id="plot_feature_maps-layer"),
]
