"""Is an explanation trustworthy?  Sanity checks and faithfulness scores.

* :func:`sanity_check` - the model-parameter randomisation test of Adebayo et al.
  (2018, "Sanity Checks for Saliency Maps"): if the maps barely change when the
  model's weights are replaced by random ones, they do not explain the model.
* :func:`faithfulness` - deletion / insertion curves (Petsiuk et al. 2018, RISE):
  removing the most important pixels first should make the target's probability drop
  fast (low deletion AUC); inserting them first should make it rise fast (high
  insertion AUC).  :func:`faithfulness_table` compares several methods.
* :func:`localisation` - with ground-truth digit boxes: the pointing game, relevance
  mass and relevance rank accuracy (defined in :mod:`multidigit.explanation.metrics.localisation`,
  re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from multidigit._param_validation import Body, Bool, Choice, Int, Number, fail, validate_params
from multidigit._results import Result, html_table
from multidigit.explanation.api import as_image_batch, explain, resolve_targets
from multidigit.explanation.methods.base import capabilities
from multidigit.explanation.metrics.localisation import (  # noqa: F401  (the metrics live side by side)
    LocalisationResult,
    localisation,
    pointing_game,
    relevance_mass,
    relevance_rank_accuracy,
)
from multidigit.explanation.registry import lookup_explainer
from multidigit.model.heads import model_head_names, predict_heads, resolve_heads

__all__ = [
    "SanityCheckResult",
    "FaithfulnessResult",
    "FaithfulnessTable",
    "sanity_check",
    "faithfulness",
    "faithfulness_table",
    "randomize_weights",
    "LocalisationResult",
    "localisation",
    "pointing_game",
    "relevance_mass",
    "relevance_rank_accuracy",
]


def _per_head_method(method: str) -> None:
    cls = lookup_explainer(method, "method")
    if capabilities(cls).kind != "per_head":
        raise fail("method", "an attribution method with per-head maps, such as "
                   "'saliency' or 'gradcam'", method)


def _single_head(model: Any, head: Any) -> int:
    heads = resolve_heads(model, head)
    if len(heads) != 1:
        raise fail("head", "one head (an index or a name)", head)
    return heads[0]


# ----------------------------------------------------------------------------- sanity


def _weighted_layers(model: Any, head_index: int) -> list[str]:
    """Layers with weights that can influence head ``head_index``, output side first."""
    heads = model_head_names(model)
    other = {h for i, h in enumerate(heads) if i != head_index}
    return [l.name for l in reversed(model.layers) if l.weights and l.name not in other]


@validate_params({
    "model": Body("a keras.Model with digit_k heads"),
    "layers": Body("names of layers of the model (Keras refuses an unknown one)"),
    "seed": Int(),
})
def randomize_weights(model: Any, layers: Sequence[str], seed: int = 0) -> None:
    """Re-initialise ``layers`` of ``model`` *in place* (use it on a clone).

    Kernels get Glorot-uniform values, biases and BatchNorm shifts / moving means zeros,
    BatchNorm scales / moving variances ones: the state of a freshly built model.
    """
    rng = np.random.default_rng(seed)
    for name in layers:
        for v in model.get_layer(name).weights:
            short = v.path.rsplit("/", 1)[-1]
            shape = tuple(v.shape)
            if short in ("gamma", "moving_variance"):
                value = np.ones(shape)
            elif short in ("beta", "moving_mean", "bias"):
                value = np.zeros(shape)
            else:
                fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else shape[0]
                fan_out = shape[-1] * (int(np.prod(shape[:-2])) if len(shape) > 2 else 1)
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                value = rng.uniform(-limit, limit, shape)
            v.assign(value.astype(np.float32))


def _clone(model: Any) -> Any:
    import keras

    clone = keras.models.clone_model(model)
    for a, b in zip(model.weights, clone.weights):
        b.assign(a)
    return clone


def _mean_spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    rhos = []
    for x, y in zip(a.reshape(len(a), -1), b.reshape(len(b), -1)):
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            rhos.append(0.0)  # a constant map carries no ranking at all
            continue
        rhos.append(float(spearmanr(x, y).statistic))
    return float(np.mean(rhos))


@dataclass
class SanityCheckResult(Result):
    """Outcome of :func:`sanity_check`.

    Attributes
    ----------
    method, mode : str
    layers : list of str
        ``layers[k]`` is the layer randomised at step k (cascading: steps are cumulative,
        from the output down; ``"all"``: one step, named ``"all"``).
    correlations : np.ndarray
        Mean Spearman rank correlation between the original and the randomised maps
        after each step (1 = unchanged, ~0 = unrelated).
    threshold : float
    passed : bool
        The maps of the fully randomised model correlate at most ``threshold`` with the
        original ones, i.e. the explanation does depend on the learned weights.
    """

    method: str
    mode: str
    layers: list[str]
    correlations: np.ndarray
    threshold: float
    passed: bool

    @property
    def final_correlation(self) -> float:
        return float(self.correlations[-1])


@validate_params({
    "model": Body("a keras.Model with digit heads"),
    "images": Body("a batch the model reads, one image or a dataset Split"),
    "method": Body("an attribution method with per-head maps ('saliency', 'gradcam'...)"),
    "head": Body("one head (an index or a name)"),
    "mode": Choice(("cascading", "all")),
    "threshold": Number(),
    "target": Body("None, an int or digits per image"),
    "seed": Int(),
    "batch_size": Int(min=1),
    "options": Body("options of the explainer"),
})
def sanity_check(
    model: Any,
    images: Any,
    method: str = "gradcam",
    *,
    head: int | str = 0,
    mode: str = "cascading",
    threshold: float = 0.5,
    target: Any = None,
    seed: int = 0,
    batch_size: int = 256,
    **options: Any,
) -> SanityCheckResult:
    """Model-parameter randomisation test (Adebayo et al. 2018).

    Randomises the weights of a *clone* of ``model`` (the model itself is untouched),
    either cascading from the output layer down to the input (``mode="cascading"``,
    one step per layer with weights) or all at once (``mode="all"``), and compares the
    maps with the original ones by Spearman rank correlation
    (:func:`scipy.stats.spearmanr`), per image, averaged.  The targets stay the original
    model's predictions, so only the weights change.

    Parameters
    ----------
    model, images, method
        As for :func:`multidigit.explain`.
    head : int or str
        One head.
    mode : {"cascading", "all"}
    threshold : float
        Pass when the fully randomised correlation is ``<= threshold``.
    seed : int
        Seed of the random weights.
    **options
        Passed to the explainer.

    Returns
    -------
    SanityCheckResult

    Examples
    --------
    >>> res = md.explanation.metrics.checks.sanity_check(model, x, "gradcam")   # doctest: +SKIP
    >>> res.passed, res.correlations                              # doctest: +SKIP
    """
    _per_head_method(method)
    h = _single_head(model, head)
    x = as_image_batch(model, images)
    t = resolve_targets(model, x, [h], target, batch_size)
    ref = explain(model, x, method, head=h, target=t, batch_size=batch_size, **options).maps
    clone = _clone(model)
    layers = _weighted_layers(model, h)
    steps = [[l] for l in layers] if mode == "cascading" else [layers]
    names = layers if mode == "cascading" else ["all"]
    corrs = []
    for k, group in enumerate(steps):
        randomize_weights(clone, group, seed=seed + k)
        maps = explain(clone, x, method, head=h, target=t, batch_size=batch_size, **options).maps
        corrs.append(_mean_spearman(ref, maps))
    corr = np.asarray(corrs)
    return SanityCheckResult(method, mode, names, corr, float(threshold),
                             bool(corr[-1] <= threshold))


# ----------------------------------------------------------------------------- faithfulness


@dataclass
class FaithfulnessResult(Result):
    """Deletion / insertion curves of one method (see :func:`faithfulness`).

    ``deletion_auc`` lower is better, ``insertion_auc`` higher is better; both are
    mean target probabilities over the curve, in [0, 1].
    """

    method: str
    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: float
    insertion_auc: float
    head: str
    n_images: int

    @property
    def score(self) -> float:
        """``insertion_auc - deletion_auc`` (higher is better)."""
        return self.insertion_auc - self.deletion_auc


def _target_prob(model: Any, x: np.ndarray, head: int, t: np.ndarray, bs: int) -> np.ndarray:
    p = predict_heads(model, x, bs)[:, head, :]
    return p[np.arange(len(t)), t]


@validate_params({
    "model": Body("a keras.Model with digit heads"),
    "images": Body("a batch the model reads, one image or a dataset Split"),
    "method": Body("'random' or an attribution method with per-head maps"),
    "head": Body("one head (an index or a name)"),
    "target": Body("None, an int or digits per image"),
    "steps": Int(min=1),
    "baseline": Number(),
    "seed": Int(),
    "batch_size": Int(min=1),
    "maps": Body("None or maps (N, H, W) of this head"),
    "max_fraction": Number(min=0.0, max=1.0, min_inclusive=False),
    "options": Body("options of the explainer"),
})
def faithfulness(
    model: Any,
    images: Any,
    method: str = "gradcam",
    *,
    head: int | str = 0,
    target: Any = None,
    steps: int = 20,
    baseline: float = 0.0,
    seed: int = 0,
    batch_size: int = 256,
    maps: np.ndarray | None = None,
    max_fraction: float = 1.0,
    **options: Any,
) -> FaithfulnessResult:
    """Deletion and insertion AUC of ``method``'s maps on ``images``.

    Pixels are ranked by the map (most important first).  *Deletion* sets the top
    fraction ``f`` of pixels to ``baseline`` and tracks the target digit's probability;
    *insertion* starts from a ``baseline`` image and restores the top fraction.  The
    curves are sampled at ``steps + 1`` fractions from 0 to ``max_fraction`` and
    averaged over images; the AUCs are trapezoidal areas over the fraction axis,
    divided by ``max_fraction`` (so they stay mean probabilities in [0, 1]).  Digits
    cover a few percent of an 84x84 image: ``max_fraction=0.05`` spends every step on
    the pixels that can matter, where the whole range mostly measures blank background.

    ``method="random"`` ranks pixels at random (seeded): the reference any useful
    method should beat.  ``maps`` (N, H, W): maps of this head already computed
    (then ``method`` only labels the result).

    Returns
    -------
    FaithfulnessResult

    Examples
    --------
    >>> r = md.explanation.metrics.checks.faithfulness(model, x, "gradcam", head=0)   # doctest: +SKIP
    >>> r.deletion_auc, r.insertion_auc                                 # doctest: +SKIP
    """
    h = _single_head(model, head)
    x = as_image_batch(model, images)
    t = resolve_targets(model, x, [h], target, batch_size)[:, 0]
    n, H, W = x.shape[:3]
    if maps is not None:
        maps = np.asarray(maps)
        if maps.shape != (n, H, W):
            raise fail("maps", f"an array (N, H, W) = ({n}, {H}, {W})",
                       f"an array of shape {maps.shape}")
    elif method == "random":
        maps = np.random.default_rng(seed).random((n, H, W))
    else:
        _per_head_method(method)
        maps = explain(model, x, method, head=h, target=t, batch_size=batch_size, **options).maps
    order = np.argsort(-maps.reshape(n, -1), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(H * W)[None].repeat(n, 0), axis=1)
    ranks = ranks.reshape(n, H, W, 1)
    fractions = np.linspace(0.0, float(max_fraction), int(steps) + 1)
    base = np.full_like(x, baseline)
    deletion, insertion = [], []
    for f in fractions:
        top = ranks < int(round(f * H * W))  # (n, H, W, 1): pixels among the top f
        deletion.append(_target_prob(model, np.where(top, base, x), h, t, batch_size).mean())
        insertion.append(_target_prob(model, np.where(top, x, base), h, t, batch_size).mean())
    d, i = np.asarray(deletion), np.asarray(insertion)
    return FaithfulnessResult(
        method, fractions, d, i, float(np.trapezoid(d, fractions) / max_fraction),
        float(np.trapezoid(i, fractions) / max_fraction), model_head_names(model)[h], n,
    )


@dataclass
class FaithfulnessTable(Result):
    """Faithfulness of several methods; ``str(table)`` is a plain-text table."""

    results: list[FaithfulnessResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {
            r.method: {"deletion_auc": r.deletion_auc, "insertion_auc": r.insertion_auc,
                       "score": r.score}
            for r in self.results
        }

    def _repr_html_(self) -> str:
        rows = [[r.method, r.deletion_auc, r.insertion_auc, r.score] for r in self.results]
        return html_table(rows, ["method", "deletion AUC", "insertion AUC",
                                 "insertion - deletion"], caption="Faithfulness")

    def best(self) -> str:
        """Method with the highest ``insertion_auc - deletion_auc``."""
        return max(self.results, key=lambda r: r.score).method

    def to_markdown(self) -> str:
        lines = ["| method | deletion AUC (lower better) | insertion AUC (higher better) "
                 "| insertion - deletion |", "| --- | ---: | ---: | ---: |"]
        for r in self.results:
            lines.append(f"| {r.method} | {r.deletion_auc:.3f} | {r.insertion_auc:.3f} "
                         f"| {r.score:.3f} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        w = max([len("method"), *(len(r.method) for r in self.results)])
        rows = [f"{'method':<{w}}  deletion  insertion  ins-del"]
        for r in self.results:
            rows.append(f"{r.method:<{w}}  {r.deletion_auc:8.3f}  {r.insertion_auc:9.3f}  "
                        f"{r.score:7.3f}")
        return "\n".join(rows)


@validate_params({
    "model": Body("a keras.Model with digit heads"),
    "images": Body("a batch the model reads, one image or a dataset Split"),
    "methods": Body("names of attribution methods (see faithfulness)"),
    "include_random": Bool(),
    "kwargs": Body("faithfulness() keywords"),
})
def faithfulness_table(
    model: Any,
    images: Any,
    methods: Sequence[str] = ("saliency", "gradcam", "gradcam++", "guided_backprop"),
    *,
    include_random: bool = True,
    **kwargs: Any,
) -> FaithfulnessTable:
    """:func:`faithfulness` of several methods (plus the ``"random"`` reference).

    Examples
    --------
    >>> print(md.explanation.metrics.checks.faithfulness_table(model, x))   # doctest: +SKIP
    method           deletion  insertion  ins-del
    saliency            0.412      0.633    0.221
    ...
    """
    names = list(methods) + (["random"] if include_random and "random" not in methods else [])
    return FaithfulnessTable([faithfulness(model, images, m, **kwargs) for m in names])
