"""Which explainer can I trust?  One table: localisation, faithfulness, sanity, time.

:func:`trust_table` scores every attribution explainer on one model and a few test
images whose digit boxes are known:

* **localisation**: pointing game and relevance mass of head ``k``'s map in digit
  ``k``'s box (:mod:`multidigit.explanation.metrics.localisation`), over every head;
* **faithfulness**: deletion and insertion AUC (:func:`faithfulness`) over the first
  5 % of the pixels (a digit's ink is about 2 % of an 84x84 image), every head;
* **sanity**: Spearman correlation of the maps of the model and of the same model
  with every weight randomised (the test of :func:`sanity_check` with
  ``mode="all"``), over the pixels head ``k`` reads (:func:`~multidigit.explanation.methods.helpers.head_region`: its window,
  or its column strip), where the structural zeros outside a window cannot make two
  maps look alike; low is good, a method near 1 does not depend on what the model
  learned;
* **time**: seconds per image and head (after a warm-up call that traces).

:data:`VERDICTS` holds one sentence per built-in method: what it shows and how far to
trust it on multidigit's models.  The numbers behind them are in
``benchmarks/README.md`` ("Which explainer can I trust?"); ``benchmarks/bench_trust.py``
recomputes them.

Examples
--------
>>> VERDICTS["gradcam"][:44]
'On the default model trust it only restricte'
>>> table = trust_table(model, ds.test.subset(range(16)))    # doctest: +SKIP
>>> print(table.to_markdown())                                # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from multidigit._param_validation import Body, Free, Int, Number, validate_params
from multidigit._results import Result, html_table

__all__ = ["VERDICTS", "DESCRIPTIONS", "TrustRow", "TrustTable", "trust_table",
           "attribution_methods", "verdict"]

#: What each built-in attribution method shows, one sentence.
DESCRIPTIONS: dict[str, str] = {
    "saliency": "How much each pixel's change would move the digit's score (the input "
                "gradient's size).",
    "gradcam": "Which parts of the last convolution layer's maps, weighted per channel by "
               "their average gradient, support the digit.",
    "gradcam++": "Grad-CAM with channel weights that favour positive, local gradients.",
    "guided_backprop": "The input gradient with only positive signals passed back through "
                       "the ReLUs: sharp strokes.",
    "scorecam": "Each channel of the last conv layer masks the image; the digit's score "
                "on the masked image weights the channel.",
    "layercam": "Positive gradients weight each activation of the last conv layer at its "
                "own position.",
    "integrated_gradients": "Gradients summed along the path from a blank image to this "
                            "one; the attributions add up to the score's change.",
    "smoothgrad_squared": "The mean squared gradient over noisy copies of the image.",
    "vargrad": "How much the gradient varies over noisy copies of the image.",
    "occlusion": "How much the digit's probability drops when a small patch hides each "
                 "part of the image.",
    "rise": "Random smooth masks, each weighted by the digit's probability on the masked "
            "image.",
    "activation_maximization": "The image changed step by step to raise the head's score "
                               "for the digit: what the head would like to see.",
    "deepdream": "The image changed to excite a layer as a whole: the patterns it looks for.",
    "feature_maps": "What one convolution layer computes on the image, channel by channel.",
    "filters": "The first convolution layer's kernels: the strokes it detects.",
}

#: How far to trust each built-in method on multidigit's models (see the module docs).
VERDICTS: dict[str, str] = {
    "saliency": "Cheap and sane (it changes when the weights are randomised), but spread "
                "out: under half its mass on the digit with the default model, no better "
                "than an even map with `tuned`; weak on deletion / insertion.",
    "gradcam": "On the default model trust it only restricted to the head's window (the "
               "default): unrestricted, its whole-channel weights put most of the map on "
               "the neighbouring digits.  Restricted, coarse but sane.",
    "gradcam++": "Localises worse than Grad-CAM (its weights favour channels that fire on "
                 "every digit) and depends less on the weights; keep it restricted, or "
                 "prefer Grad-CAM.",
    "guided_backprop": "Sharp and on the right digit with the default model, but there it "
                       "changes little when the weights are randomised: it shows the "
                       "strokes, not the decision.",
    "scorecam": "On the right digit when restricted, and faithful, but it barely changes "
                "with random weights (a conv map used as a mask mostly shows the ink), and "
                "slow.",
    "layercam": "Per-position weights: on the default model it needs no restriction (the "
                "head's gradients stay in its window); middling localisation and sanity.",
    "integrated_gradients": "The most faithful on deletion / insertion, all its mass on the "
                            "digit, but it fails the randomisation check with the black "
                            "baseline: zero wherever the image is black, so the map is "
                            "mostly the ink.  How much each stroke counts, not proof of "
                            "learning.",
    "smoothgrad_squared": "A cleaner saliency on the default model (better localised, "
                          "still sane); on `tuned` as spread out as saliency.",
    "vargrad": "Like SmoothGrad-squared, a little less localised and faithful: it shows "
               "where the gradient is unstable, not how much a pixel counts.",
    "occlusion": "The most trustworthy map on both models: on the right digit, faithful "
                 "and sane; blocky (patch sized) and slow (one forward pass per patch "
                 "position).",
    "rise": "Model-agnostic but blurry: its peak is usually on the digit, its mass spreads "
            "over the whole image, at hundreds of forward passes per image.",
}

#: Methods that return images or layer views, not attribution maps (not in the table).
NOT_ATTRIBUTIONS = ("activation_maximization", "deepdream", "feature_maps", "filters")


@validate_params({"method": Free("any name: an unknown one gets a neutral line")})
def verdict(method: str) -> str:
    """:data:`VERDICTS`'s line for ``method`` (a plugin: a neutral line).

    Examples
    --------
    >>> verdict("my_plugin")
    'Not measured by multidigit: run benchmarks/bench_trust.py on your model.'
    """
    if method in NOT_ATTRIBUTIONS:
        return ("Not an attribution map, so not in the trust table: read it as a picture "
                "of the model, not as evidence for one reading.")
    return VERDICTS.get(method, "Not measured by multidigit: run benchmarks/bench_trust.py "
                                "on your model.")


@validate_params({})
def attribution_methods() -> list[str]:
    """Registered explainers with per-head attribution maps (built-ins and plugins)."""
    from multidigit.explanation.methods.base import capabilities
    from multidigit.explanation.registry import list_explainers, lookup_explainer

    out = []
    for name in list_explainers():
        if (name not in NOT_ATTRIBUTIONS
                and capabilities(lookup_explainer(name)).kind == "per_head"):
            out.append(name)
    return out


@dataclass
class TrustRow(Result):
    """One method's scores in a :class:`TrustTable`."""

    label: str
    method: str
    options: dict[str, Any]
    pointing_game: float
    relevance_mass: float
    rank_accuracy: float
    deletion_auc: float
    insertion_auc: float
    sanity_correlation: float
    seconds_per_map: float


@dataclass
class TrustTable(Result):
    """The trust table of one model (see :func:`trust_table`)."""

    rows: list[TrustRow] = field(default_factory=list)
    n_images: int = 0
    heads: list[str] = field(default_factory=list)
    box_share: float = 0.0

    _COLUMNS = ("method", "pointing game", "mass in box", "rank acc.", "deletion AUC",
                "insertion AUC", "sanity corr.", "ms / map")

    def _cells(self, r: TrustRow) -> list[Any]:
        return [r.label, r.pointing_game, r.relevance_mass, r.rank_accuracy, r.deletion_auc,
                r.insertion_auc, r.sanity_correlation, 1000 * r.seconds_per_map]

    def to_markdown(self) -> str:
        """A markdown table (higher is better except deletion, sanity and time)."""
        lines = ["| " + " | ".join(self._COLUMNS) + " |",
                 "| --- |" + " ---: |" * (len(self._COLUMNS) - 1)]
        for r in self.rows:
            c = self._cells(r)
            lines.append(f"| {c[0]} | " + " | ".join(f"{v:.2f}" for v in c[1:-1])
                         + f" | {c[-1]:.1f} |")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return html_table([self._cells(r) for r in self.rows], list(self._COLUMNS),
                          caption=f"Trust table ({self.n_images} images, "
                                  f"{len(self.heads)} heads)")

    def __str__(self) -> str:
        return self.to_markdown()

    def row(self, label: str) -> TrustRow:
        """The row labelled ``label``."""
        return next(r for r in self.rows if r.label == label)


def _variants(model: Any, methods: Sequence[str] | None,
              options: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, method, options): every method, and the CAMs without restriction too
    on a model with ``digit_windows`` (both settings are measured)."""
    from multidigit.explanation.methods.helpers import window_view

    names = list(methods) if methods is not None else attribution_methods()
    out = []
    for name in names:
        opts = dict(options.get(name, {}))
        out.append((name, name, opts))
        if name in ("gradcam", "gradcam++", "scorecam", "layercam") and \
                window_view(model) is not None and "restrict_to_head" not in opts:
            out.append((f"{name} (whole image)", name, {**opts, "restrict_to_head": False}))
    return out


def _randomised(model: Any, seed: int = 0) -> Any:
    """A clone of ``model`` with every weight re-initialised (``model`` is untouched)."""
    from multidigit.explanation.metrics.checks import _clone, randomize_weights

    clone = _clone(model)
    randomize_weights(clone, [layer.name for layer in clone.layers if layer.weights], seed)
    return clone


def _region_spearman(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    """Mean Spearman correlation of maps ``a`` and ``b`` over each image's ``region``."""
    from scipy.stats import spearmanr

    rhos = []
    for x, y, r in zip(a, b, region):
        x, y = x[r], y[r]
        rhos.append(0.0 if np.ptp(x) == 0 or np.ptp(y) == 0
                    else float(spearmanr(x, y).statistic))
    return float(np.mean(rhos))


def _score_one(model: Any, random_model: Any, x: np.ndarray, labels: np.ndarray,
               boxes: np.ndarray, method: str, opts: dict[str, Any], steps: int,
               max_fraction: float, batch_size: int) -> dict[str, float]:
    from multidigit.explanation.api import explain
    from multidigit.explanation.methods.helpers import head_region
    from multidigit.explanation.metrics.checks import faithfulness
    from multidigit.explanation.metrics.localisation import (
        pointing_game,
        relevance_mass,
        relevance_rank_accuracy,
    )

    explain(model, x[:1], method, head="all", target=labels[:1], batch_size=batch_size,
            **opts)  # warm-up: tracing and sub-models are not the method's cost
    start = time.perf_counter()
    maps = explain(model, x, method, head="all", target=labels, batch_size=batch_size,
                   **opts).maps  # (n, heads, H, W)
    seconds = (time.perf_counter() - start) / (len(x) * maps.shape[1])
    scores: dict[str, list[float]] = {k: [] for k in (
        "pointing_game", "relevance_mass", "rank_accuracy", "deletion_auc",
        "insertion_auc", "sanity_correlation")}
    rnd = explain(random_model, x, method, head="all", target=labels, batch_size=batch_size,
                  **opts).maps
    for k in range(maps.shape[1]):
        m, b = maps[:, k], boxes[:, k]
        scores["pointing_game"].append(pointing_game(m, b).mean())
        scores["relevance_mass"].append(relevance_mass(m, b).mean())
        scores["rank_accuracy"].append(relevance_rank_accuracy(m, b).mean())
        f = faithfulness(model, x, method, head=k, target=labels[:, k], steps=steps,
                         maps=m, batch_size=batch_size, max_fraction=max_fraction)
        scores["deletion_auc"].append(f.deletion_auc)
        scores["insertion_auc"].append(f.insertion_auc)
        region = head_region(model, x, k) > 0
        scores["sanity_correlation"].append(_region_spearman(m, rnd[:, k], region))
    out = {k: float(np.mean(v)) for k, v in scores.items()}
    out["seconds_per_map"] = seconds
    return out


@validate_params({
    "model": Body("a keras.Model with digit heads"),
    "split": Body("a dataset Split with labels and digit boxes"),
    "methods": Body("None or names of attribution methods"),
    "n_images": Int(min=1),
    "steps": Int(min=1),
    "max_fraction": Number(min=0.0, max=1.0, min_inclusive=False),
    "options": Body("None or a dict of options per method"),
    "batch_size": Int(min=1),
    "progress": Free("None or a callable, called with each row's label"),
})
def trust_table(
    model: Any,
    split: Any,
    methods: Sequence[str] | None = None,
    *,
    n_images: int = 16,
    steps: int = 10,
    max_fraction: float = 0.05,
    options: dict[str, dict[str, Any]] | None = None,
    batch_size: int = 256,
    progress: Any = None,
) -> TrustTable:
    """Score explainers on ``model`` with the first ``n_images`` images of ``split``.

    Parameters
    ----------
    model : keras.Model
    split : Split
        Test images with labels (the true digits are explained) and digit boxes
        (:meth:`~multidigit.data.Split.digit_boxes`).
    methods : list of str, optional
        Default: every registered attribution method (:func:`attribution_methods`).
        On a model with ``digit_windows`` each CAM is also scored without
        ``restrict_to_head`` (row ``"<name> (whole image)"``).
    n_images, steps : int
        Images, and deletion / insertion steps.
    max_fraction : float
        Deletion / insertion run over the first ``max_fraction`` of the pixels (5 %:
        about twice the ink of one digit), see :func:`faithfulness`.
    options : dict, optional
        Options per method, e.g. ``{"rise": {"n_masks": 200}}``.
    progress : callable, optional
        Called with each row's label before it is computed (e.g. ``print``).

    Returns
    -------
    TrustTable
    """
    from multidigit.data.boxes import box_masks

    n = int(n_images)
    x, labels = split.images[:n], split.labels[:n]
    boxes = split.digit_boxes()[:n]
    heads_n = labels.shape[1]
    from multidigit.model.heads import model_head_names

    table = TrustTable([], len(x), model_head_names(model))
    random_model = _randomised(model)
    height, width = x.shape[1:3]
    table.box_share = float(np.mean([box_masks(boxes[:, k], height, width).mean()
                                     for k in range(heads_n)]))
    for label, method, opts in _variants(model, methods, options or {}):
        if progress is not None:
            progress(label)
        scores = _score_one(model, random_model, x, labels, boxes, method, opts, steps,
                            max_fraction, batch_size)
        table.rows.append(TrustRow(label, method, opts, **scores))
    return table
