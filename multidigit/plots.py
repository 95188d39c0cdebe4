"""Matplotlib figures for training, evaluation and model inspection.

Every function takes ``ax=None`` and returns a :class:`matplotlib.figure.Figure`: a
new figure, or with ``ax=`` the figure of that Axes, drawn into it (a plot of several
panels fills the Axes' place with a sub-figure).  None calls ``plt.show()``: display the figure in a
notebook, or ``fig.savefig("out.png")``.  The results that draw call these functions
from their ``.plot()`` (e.g. ``md.evaluate(...).plot()`` is
:func:`plot_confusion_matrices`); this module imports none of them.

Examples
--------
>>> from multidigit import plots
>>> fig = plots.plot_learning_curves(history)       # doctest: +SKIP
>>> fig.savefig("curves.png")                       # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit._figures import AX, canvas, set_title
from multidigit._param_validation import Body, Bool, Check, Free, Int, fail, validate_params
from multidigit.errors import DataError, ModelError
from multidigit.model.architecture import (
    _check_model,
    plot_architecture,  # the diagram that needs no Graphviz
)

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from multidigit.data import Split

__all__ = [
    "plot_learning_curves",
    "plot_confusion_matrices",
    "plot_comparison",
    "plot_model",
    "plot_architecture",
    "plot_samples",
    "plot_filters",
    "plot_feature_maps",
]


#: the ``model`` rule of the plots that read a model's layers
MODEL = Check(_check_model, invalid="not a model")


def _figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] | None = None,
            ax: "Axes | None" = None) -> tuple["Figure", np.ndarray]:
    # Figure() directly (not pyplot): no global state, no GUI backend, nothing to close.
    c = canvas(ax, nrows, ncols, size=size or (4.0 * ncols, 3.2 * nrows))
    return c.figure, c.axes


def _grid(n: int, max_cols: int = 8) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def _history_dict(h: Any) -> dict[str, list[float]]:
    if isinstance(h, Mapping):
        return {k: list(v) for k, v in h.items()}
    hist = getattr(h, "history", None)  # TrainingHistory or keras History
    if isinstance(hist, Mapping):
        return {k: list(v) for k, v in hist.items()}
    raise fail("history", "a TrainingHistory, a keras History or a dict of lists (or a "
               "list of them)", type(h).__name__, "plot_learning_curves")


# ------------------------------------------------------------------ learning curves
@validate_params({
    "history": Body("a TrainingHistory, a keras History, a dict of lists or a list of them"),
    "title": Free("a title, any text"),
    "ax": AX,
})
def plot_learning_curves(history: Any, *, title: str | None = None,
                         ax: "Axes | None" = None) -> "Figure":
    """Loss and per-head accuracy (%) per epoch, training (solid) vs validation (dashed).

    The epoch axis has integer ticks; the legend has one line per entry: a colour per
    digit position and a line style for training / validation.

    Parameters
    ----------
    history : TrainingHistory, keras History, dict, or a list of them
        One run, or several (e.g. ``cv.histories`` of the folds), drawn on top of
        each other.
    title : str, optional
        Figure title.
    ax : matplotlib Axes, optional
        Draw into it (its area is split in two panels); by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: loss, and accuracy of each head.

    Examples
    --------
    >>> fig = plot_learning_curves(md.train(model, ds, epochs=5))   # doctest: +SKIP
    """
    runs = list(history) if isinstance(history, (list, tuple)) else [history]
    if not runs:
        raise fail("history", "at least one history", history)
    dicts = [_history_dict(h) for h in runs]
    frame = canvas(ax, 1, 2, size=(10, 3.6))
    fig, axes = frame.figure, frame.axes
    ax_loss, ax_acc = axes[0]
    alpha = 1.0 if len(dicts) == 1 else max(0.35, 1.0 / len(dicts) ** 0.5)
    import matplotlib as mpl
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    colors = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    n_epochs = max((len(v) for d in dicts for v in d.values()), default=1)
    marker = "o" if n_epochs <= 12 else None  # a 1- or 2-epoch run is still visible
    heads: list[str] = []
    has_val = False
    for d in dicts:
        if "loss" in d:
            x = np.arange(1, len(d["loss"]) + 1)
            ax_loss.plot(x, d["loss"], color=colors[0], alpha=alpha, marker=marker)
            if "val_loss" in d:
                ax_loss.plot(x, d["val_loss"], "--", color=colors[0], alpha=alpha,
                             marker=marker, mfc="white")
        for key in sorted(k for k in d if k.startswith("digit_") and k.endswith("_accuracy")):
            if key not in heads:
                heads.append(key)
            c = colors[heads.index(key) % len(colors)]
            x = np.arange(1, len(d[key]) + 1)
            ax_acc.plot(x, 100 * np.asarray(d[key]), color=c, alpha=alpha, marker=marker)
            if f"val_{key}" in d:
                has_val = True
                ax_acc.plot(x, 100 * np.asarray(d[f"val_{key}"]), "--", color=c, alpha=alpha,
                            marker=marker, mfc="white")
    # one legend line per entry: colour = digit position, line style = train / validation
    styles = [Line2D([], [], color="0.3", label="train")]
    if has_val or any("val_loss" in d for d in dicts):
        styles.append(Line2D([], [], color="0.3", ls="--", label="validation"))
    ax_loss.set(title="loss", xlabel="epoch", ylabel="loss")
    ax_acc.set(title="accuracy per digit position", xlabel="epoch", ylabel="accuracy (%)")
    for panel in (ax_loss, ax_acc):
        if n_epochs <= 12:  # one tick per epoch (MaxNLocator falls back to 0.5 steps)
            panel.set_xticks(range(1, n_epochs + 1))
        else:
            panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.set_xlim(0.5, n_epochs + 0.5)
        panel.grid(alpha=0.3)
    if any("loss" in d for d in dicts):
        ax_loss.legend(handles=styles, fontsize="small")
    if heads:
        ax_acc.legend(handles=[Line2D([], [], color=colors[j % len(colors)],
                                      label=k[: -len("_accuracy")])
                               for j, k in enumerate(heads)] + styles, fontsize="small")
    if title:
        set_title(frame, title)
    return fig


# ------------------------------------------------------------------ confusion matrices
@validate_params({
    "result": Body("an EvaluationResult (from multidigit.evaluate)"),
    "normalize": Bool(),
    "ax": AX,
})
def plot_confusion_matrices(result: Any, *, normalize: bool = False,
                            ax: "Axes | None" = None) -> "Figure":
    """One confusion-matrix heatmap per digit position.

    Parameters
    ----------
    result : EvaluationResult
        From :func:`multidigit.evaluate`.
    normalize : bool
        Show row fractions (recall per true digit) instead of counts.
    ax : matplotlib Axes, optional
        Draw into it (its area is split, one panel per digit position); by default a
        new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per digit position.

    Examples
    --------
    >>> fig = plot_confusion_matrices(md.evaluate(model, ds.test))   # doctest: +SKIP
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    cms = np.asarray(getattr(result, "confusion_matrices", None))
    if cms.ndim != 3:
        raise fail("result", "an EvaluationResult (from multidigit.evaluate)",
                   type(result).__name__)
    n = cms.shape[0]
    fig, axes = _figure(1, n, size=(4.2 * n, 4.0), ax=ax)
    for i in range(n):
        cm = cms[i].astype(float)
        if normalize:
            cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        disp = ConfusionMatrixDisplay(cm, display_labels=list(range(10)))
        disp.plot(ax=axes[0, i], colorbar=False, cmap="Blues",
                  values_format=".2f" if normalize else ".0f")
        acc = getattr(result, "digit_accuracy", [None] * n)[i]
        axes[0, i].set_title(f"digit_{i}" + (f"  (acc {100 * acc:.1f} %)" if acc is not None else ""))
    return fig


# ------------------------------------------------------------------ comparison
@validate_params({"result": Body("a ComparisonResult with at least one row"), "ax": AX})
def plot_comparison(result: Any, *, ax: "Axes | None" = None) -> "Figure":
    """Bar chart of each combination's mean accuracy with its 95 % interval.

    Parameters
    ----------
    result : ComparisonResult
        From :func:`multidigit.compare` (or its ``table()`` rows).
    ax : matplotlib Axes, optional
        Draw into it; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: a bar per combination, the reference first.

    Examples
    --------
    >>> fig = plot_comparison(md.compare(ds, k=3))   # doctest: +SKIP
    """
    rows = result.table() if hasattr(result, "table") else list(result)
    if not rows:
        raise fail("result", "a ComparisonResult with at least one row", "no rows")
    fig, axes = _figure(1, 1, size=(max(5.0, 1.6 * len(rows)), 4.0), ax=ax)
    ax = axes[0, 0]
    means = np.array([r["mean"] for r in rows]) * 100
    lo = np.array([r["ci_low"] for r in rows]) * 100
    hi = np.array([r["ci_high"] for r in rows]) * 100
    err = np.vstack([np.nan_to_num(means - lo), np.nan_to_num(hi - means)])
    labels = [f"{r['activation']}\n{r['loss'].replace('_crossentropy', ' CE')}" for r in rows]
    x = np.arange(len(rows))
    ax.bar(x, means, yerr=err, capsize=6, color=["C0"] + ["C7"] * (len(rows) - 1))
    ax.set_xticks(x, labels, fontsize="small")
    metric = rows[0].get("metric", getattr(result, "metric", "accuracy"))
    words = {"mean_digit_accuracy": "per-digit accuracy",
             "whole_accuracy": "whole-number accuracy"}
    ax.set_ylabel(f"{words.get(metric, metric)} (%)")
    ax.set_title("activation x loss, mean with 95 % interval")
    bottom = float(np.nanmin(np.where(np.isnan(lo), means, lo)))
    top = float(np.nanmax(np.where(np.isnan(hi), means, hi)))
    # room above the highest whisker's cap (intervals end at 100 % at most)
    ax.set_ylim(max(0.0, bottom - 5), min(top, 100.0) + 4)
    ax.grid(axis="y", alpha=0.3)
    return fig


# ------------------------------------------------------------------ model graph
_GRAPHVIZ_HELP = (
    "plot_model needs Graphviz's dot program on PATH: install graphviz "
    "(apt-get install graphviz / brew install graphviz / conda install graphviz) "
    "and pydot (pip install pydot)."
)


@validate_params({
    "model": MODEL,
    "path": Body("None or a '.png' path"),
    "dpi": Int(min=1),
    "ax": AX,
})
def plot_model(
    model: "keras.Model", path: str | os.PathLike[str] | None = None, *, dpi: int = 96,
    ax: "Axes | None" = None,
) -> "Figure":
    """The model's layer graph (``keras.utils.plot_model``) as a figure.

    Parameters
    ----------
    model : keras.Model
        Any built Keras model.
    path : path, optional
        Also keep the PNG there.
    dpi : int
        Resolution of the rendered graph.
    ax : matplotlib Axes, optional
        Draw into it; by default a new figure sized to the graph.

    Raises
    ------
    ModelError
        When Graphviz (``dot``) or pydot is missing, with the install commands
        (:func:`plot_architecture` draws the model without them).

    Examples
    --------
    >>> fig = plot_model(model, "model.png")   # doctest: +SKIP
    """
    import keras
    from matplotlib.image import imread

    if path is not None and Path(path).suffix.lower() != ".png":
        raise fail("path", "a '.png' path (plot_model writes a PNG)", str(path))
    if shutil.which("dot") is None:
        raise ModelError(_GRAPHVIZ_HELP)
    try:
        import pydot  # noqa: F401
    except ImportError as exc:
        raise ModelError(_GRAPHVIZ_HELP) from exc
    tmpdir = None
    if path is None:
        tmpdir = tempfile.mkdtemp(prefix="multidigit-plot-")
        out = Path(tmpdir) / "model.png"
    else:
        out = Path(path).expanduser()
        out.parent.mkdir(parents=True, exist_ok=True)
    try:
        try:
            keras.utils.plot_model(
                model, to_file=str(out), show_shapes=True, show_layer_names=True, dpi=dpi
            )
        except (ImportError, OSError) as exc:
            raise ModelError(f"{_GRAPHVIZ_HELP} ({exc})") from exc
        if not out.exists():
            raise ModelError(_GRAPHVIZ_HELP)
        img = imread(str(out))
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    h, w = img.shape[:2]
    fig, axes = _figure(1, 1, size=(max(3.0, w / dpi), max(3.0, h / dpi)), ax=ax)
    axes[0, 0].imshow(img)
    axes[0, 0].set_axis_off()
    return fig


# ------------------------------------------------------------------ samples
@validate_params({
    "split": Body("a dataset Split"),
    "n": Int(min=1),
    "predictions": Body("None or labels for the whole split"),
    "seed": Int(none_ok=True),
    "cols": Int(min=1),
    "ax": AX,
})
def plot_samples(
    split: "Split",
    n: int = 16,
    *,
    predictions: Any = None,
    seed: int | None = 0,
    cols: int = 8,
    ax: "Axes | None" = None,
) -> "Figure":
    """A grid of images with their labels (and predictions, if given).

    Parameters
    ----------
    split : Split
        The images to show.
    n : int
        How many (at most ``len(split)``).
    predictions : Prediction or sequence of str, optional
        Predicted labels for the *whole* split (e.g. ``md.predict(model, split)``);
        shown as ``true -> predicted``, red when wrong.
    seed : int or None
        Random sample with this seed; None takes the first ``n`` images.
    cols : int
        Images per row.
    ax : matplotlib Axes, optional
        Draw into it (its area is split, one panel per image); by default a new
        figure.

    Returns
    -------
    matplotlib.figure.Figure
        ``n`` axes.

    Examples
    --------
    >>> fig = plot_samples(ds.train, n=8)   # doctest: +SKIP
    """
    images = getattr(split, "images", None)
    if images is None:
        raise fail("split", "a dataset Split", type(split).__name__)
    n = int(min(n, len(split)))
    if n < 1:
        raise DataError("nothing to plot: the split is empty.")
    idx = (
        np.arange(n)
        if seed is None
        else np.sort(np.random.default_rng(seed).choice(len(split), n, replace=False))
    )
    pred = None
    if predictions is not None:
        pred = list(getattr(predictions, "labels", predictions))
        if len(pred) != len(split):
            raise fail("predictions", f"labels for the whole split ({len(split)} images)",
                       f"{len(pred)} labels", "plot_samples",
                       "Predict the whole split: md.predict(model, split).")
    rows, c = _grid(n, cols)
    fig, axes = _figure(rows, c, size=(1.5 * c, 1.7 * rows), ax=ax)
    truth = split.label_strings
    for panel, i in zip(axes.flat, idx):
        panel.imshow(images[i, ..., 0], cmap="gray", vmin=0, vmax=1)  # white on black
        panel.set_axis_off()
        title, color = str(truth[i]), "black"
        if pred is not None:
            title = f"{truth[i]} -> {pred[i]}"
            color = "black" if pred[i] == truth[i] else "red"
        panel.set_title(title, fontsize="small", color=color)
    for panel in list(axes.flat)[n:]:
        panel.remove()
    return fig


# ------------------------------------------------------------------ filters / maps
@validate_params({
    "model": MODEL,
    "layer": Body("the name or index of a convolution layer of the model"),
    "max_filters": Int(min=1),
    "ax": AX,
})
def plot_filters(model: "keras.Model", layer: str = "conv_1", *, max_filters: int = 64,
                 ax: "Axes | None" = None) -> "Figure":
    """The kernels of one convolution layer (for later layers, averaged over inputs).

    The kernels come from the ``filters`` explainer
    (:class:`~multidigit.explanation.methods.FiltersExplainer`).

    Parameters
    ----------
    model : keras.Model
        A model from :func:`multidigit.build_model`.
    layer : str
        Conv layer name (``conv_1`` looks directly at the pixels).
    max_filters : int
        Show at most this many filters.
    ax : matplotlib Axes, optional
        Draw into it (its area is split, one panel per filter); by default a new
        figure.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per filter shown.

    Examples
    --------
    >>> fig = plot_filters(model, "conv_1")   # doctest: +SKIP
    """
    from multidigit.explanation.methods.features import FiltersExplainer

    k = FiltersExplainer().explain(model, None, None, None, layer=layer)  # (F, kh, kw)
    n = min(len(k), max_filters)
    rows, cols = _grid(n, 8)
    c = canvas(ax, rows, cols, size=(1.2 * cols, 1.3 * rows + 0.4))
    fig, axes = c.figure, c.axes
    lim = float(np.abs(k[:n]).max()) or 1.0
    for j, panel in enumerate(axes.flat[:n]):
        panel.imshow(k[j], cmap="RdBu_r", vmin=-lim, vmax=lim)
        panel.set_axis_off()
        panel.set_title(str(j), fontsize="x-small")
    for panel in list(axes.flat)[n:]:
        panel.remove()
    set_title(c, f"{layer} kernels (red +, blue -)")
    return fig


def _one_image(model: "keras.Model", image: Any) -> np.ndarray:
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    expected = tuple(model.inputs[0].shape[1:])
    if x.ndim != 3 or tuple(x.shape) != expected:
        raise fail("image", f"one image of the model's input shape {expected} (or (H, W))",
                   f"an array of shape {np.shape(image)}", "plot_feature_maps")
    return x


@validate_params({
    "model": MODEL,
    "image": Body("one image of the model's input shape (or (H, W))"),
    "layer": Body("a layer with (H, W, channels) output"),
    "max_maps": Int(min=1),
    "ax": AX,
})
def plot_feature_maps(
    model: "keras.Model", image: np.ndarray, layer: str = "conv_1", *, max_maps: int = 32,
    ax: "Axes | None" = None,
) -> "Figure":
    """Activations of one layer for one image: the input first, then each channel.

    The activations come from the ``feature_maps`` explainer
    (:class:`~multidigit.explanation.methods.FeatureMapsExplainer`).

    Parameters
    ----------
    model : keras.Model
        A model from :func:`multidigit.build_model`.
    image : array
        One image, ``(H, W)`` or ``(H, W, 1)`` in [0, 1], at the model's input size.
    layer : str
        Any layer with a 4-D output (``conv_{i}``, ``bn_{i}``, ``pool_{i}``).
    max_maps : int
        Show at most this many channels.
    ax : matplotlib Axes, optional
        Draw into it (its area is split, one panel per map); by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        ``1 + min(channels, max_maps)`` axes.

    Examples
    --------
    >>> fig = plot_feature_maps(model, ds.test.images[0], "conv_2")   # doctest: +SKIP
    """
    from multidigit.explanation.methods.features import FeatureMapsExplainer

    x = _one_image(model, image)
    maps = FeatureMapsExplainer().explain(model, x[None], None, None, layer=layer)[0]
    if maps.ndim != 3:
        raise fail("layer", "a layer with (H, W, channels) output (a conv / pool layer)",
                   layer)
    n = min(maps.shape[0], max_maps)  # maps: (channels, h, w)
    rows, cols = _grid(n + 1, 8)
    c = canvas(ax, rows, cols, size=(1.4 * cols, 1.5 * rows + 0.4))
    fig, flat = c.figure, list(c.axes.flat)
    flat[0].imshow(x[..., 0], cmap="gray", vmin=0, vmax=1)  # white on black, as stored
    flat[0].set_title("input", fontsize="x-small")
    flat[0].set_axis_off()
    for j in range(n):
        flat[j + 1].imshow(maps[j], cmap="viridis")
        flat[j + 1].set_title(str(j), fontsize="x-small")
        flat[j + 1].set_axis_off()
    for panel in flat[n + 1 :]:
        panel.remove()
    set_title(c, f"{layer} activations")
    return fig
