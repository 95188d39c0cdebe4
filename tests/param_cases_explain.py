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


def _sanity_check(*args: Any, **kwargs: Any) -> Any:
    from multidigit.explainers import sanity_check

    return sanity_check(_model(), *args, **kwargs)


def _faithfulness(*args: Any, **kwargs: Any) -> Any:
    from multidigit.explainers import faithfulness

    return faithfulness(_model(), *args, **kwargs)


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
