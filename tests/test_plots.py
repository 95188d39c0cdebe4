"""Each plot returns a matplotlib Figure with the expected axes (and never shows it)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from matplotlib.figure import Figure

import multidigit as md
from multidigit import plots
from multidigit.errors import ParameterError
from multidigit.evaluation.measure import EvaluationResult
from multidigit.experiments.comparison import ComparisonResult
from multidigit.training.fit import TrainingHistory


@pytest.fixture(scope="module")
def model():
    return md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                          preset="small", seed=0)


def _history(n=3, val=True):
    rng = np.random.default_rng(0)
    h = {"loss": list(rng.random(n))}
    for i in range(3):
        h[f"digit_{i}_accuracy"] = list(rng.random(n))
        if val:
            h[f"val_digit_{i}_accuracy"] = list(rng.random(n))
    if val:
        h["val_loss"] = list(rng.random(n))
    return TrainingHistory(h, n, 0, "val_loss", 1.0, 1.0, 10.0)


def test_learning_curves_one_and_many():
    fig = plots.plot_learning_curves(_history())
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 6  # train+val, 3 heads x 2
    fig = plots.plot_learning_curves([_history(), _history(4, val=False), _history().history])
    assert len(fig.axes[1].lines) == 6 + 3 + 6
    with pytest.raises(ParameterError, match="history"):
        plots.plot_learning_curves([1, 2])


def test_learning_curves_read_well():
    """Integer epoch ticks, accuracy in %, one legend line per entry (issue 27)."""
    for n in (1, 2, 30):
        ticks = plots.plot_learning_curves(_history(n)).axes[1].get_xticks()
        assert all(float(t).is_integer() for t in ticks if 0.5 <= t <= n + 0.5), (n, ticks)
    fig = plots.plot_learning_curves(_history(2))
    loss_ax, acc_ax = fig.axes
    assert list(acc_ax.get_xticks()) == [1, 2]
    assert acc_ax.get_ylabel() == "accuracy (%)"
    assert max(max(line.get_ydata()) for line in acc_ax.lines) > 1  # percentages
    labels = [t.get_text() for t in acc_ax.get_legend().get_texts()]
    assert labels == ["digit_0", "digit_1", "digit_2", "train", "validation"]
    assert all("\n" not in t for t in labels)
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train", "validation"]


def test_confusion_matrices():
    cms = np.stack([np.eye(10, dtype=int) * (i + 1) for i in range(3)])
    res = EvaluationResult([1.0] * 3, 1.0, 1.0, 0.0, 0.1, 10, [{}] * 3, cms,
                           np.zeros((10, 3), int))
    fig = plots.plot_confusion_matrices(res)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert fig.axes[1].images[0].get_array()[4, 4] == 2
    assert len(plots.plot_confusion_matrices(res, normalize=True).axes) == 3


def test_comparison_bars():
    rows = [
        {"key": f"a{i}", "activation": a, "loss": "binary_crossentropy", "metric": "m", "n": 3,
         "mean": m, "std": 0.01, "ci_low": m - 0.02, "ci_high": m + 0.02}
        for i, (a, m) in enumerate([("softmax", 0.9), ("sigmoid", 0.8)])
    ]
    res = ComparisonResult("mean_digit_accuracy", rows, {}, "verdict", None)
    fig = plots.plot_comparison(res)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx([90, 80])
    rows[0]["ci_high"] = 1.0  # a whisker up to 100 %: its cap stays inside the axes
    top = plots.plot_comparison(ComparisonResult("m", rows, {}, "v", None)).axes[0].get_ylim()[1]
    assert top > 100


def test_samples_grid(tiny_ds):
    fig = plots.plot_samples(tiny_ds.test, n=10, cols=4)
    assert isinstance(fig, Figure) and len(fig.axes) == 10
    image = fig.axes[0].images[0]  # white digits on black, as the data and the demo
    assert image.get_cmap().name == "gray" and image.get_clim() == (0, 1)
    labels = set(tiny_ds.test.label_strings.tolist())
    assert all(ax.get_title() in labels for ax in fig.axes)
    wrong = ["000"] * len(tiny_ds.test)
    fig = plots.plot_samples(tiny_ds.test, n=3, predictions=wrong, seed=None)
    assert fig.axes[0].get_title() == f"{tiny_ds.test.label_strings[0]} -> 000"
    with pytest.raises(ParameterError, match="whole split"):
        plots.plot_samples(tiny_ds.test, n=3, predictions=wrong[:2])


def test_filters_and_feature_maps(model, tiny_ds):
    fig = plots.plot_filters(model, "conv_1")
    assert isinstance(fig, Figure) and len(fig.axes) == 16  # small preset: 16 filters
    assert len(plots.plot_filters(model, "conv_2", max_filters=8).axes) == 8
    fig = plots.plot_feature_maps(model, tiny_ds.test.images[0], layer="conv_1")
    assert isinstance(fig, Figure) and len(fig.axes) == 1 + 16
    assert len(plots.plot_feature_maps(model, tiny_ds.test.images[0, ..., 0], "pool_2",
                                       max_maps=4).axes) == 5
    with pytest.raises(ParameterError, match="conv_1"):
        plots.plot_filters(model, "conv_9")
    with pytest.raises(ParameterError, match="Conv2D"):
        plots.plot_filters(model, "dense")
    with pytest.raises(ParameterError, match="input shape"):
        plots.plot_feature_maps(model, np.zeros((84, 84)), "conv_1")


def test_plot_architecture_needs_no_graphviz(model, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)  # no `dot` anywhere
    fig = plots.plot_architecture(model)
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_text()]  # not the arrows
    assert len(texts) == 7  # image, 2 conv blocks, flatten..dense_drop, 3 heads
    assert any(t.startswith("conv_1, bn_1, pool_1, drop_1") for t in texts)
    assert sum(t.startswith("digit_") for t in texts) == 3
    rows = md.layer_table(model)
    assert [r["name"] for r in rows] == [layer.name for layer in model.layers]
    assert sum(r["params"] for r in rows) == model.count_params()
    with pytest.raises(ParameterError, match="model"):
        md.layer_table("not a model")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
def test_plot_model_png(model, tmp_path):
    pytest.importorskip("pydot")
    fig = plots.plot_model(model, tmp_path / "model.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert (tmp_path / "model.png").stat().st_size > 0
    assert fig.axes[0].images[0].get_array().shape[0] > 100


def test_plot_model_without_graphviz_says_how_to_install(model, monkeypatch):
    monkeypatch.setenv("PATH", "")  # no `dot` anywhere
    with pytest.raises(md.ModelError, match="apt-get install graphviz") as info:
        plots.plot_model(model)
    assert "brew install graphviz" in str(info.value)
    assert "conda install graphviz" in str(info.value)
