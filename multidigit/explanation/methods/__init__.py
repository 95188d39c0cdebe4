"""Built-in explainers and explanation-quality metrics.

The built-in explainers (registered by dotted path in :mod:`multidigit.explanation.registry`, so
this package and its modules are imported only when one is used):

=========================== ========================================================= ============
name                        what                                                      maps
=========================== ========================================================= ============
``saliency``                vanilla gradient; ``smooth=N`` for SmoothGrad             (n, H, W)
``gradcam``                 Grad-CAM on the last conv layer (``layer=``)              (n, H, W)
``gradcam++``               Grad-CAM++                                                (n, H, W)
``guided_backprop``         guided backpropagation                                    (n, H, W)
``deepdream``               images after gradient ascent on a layer (not per head)    (n, H, W)
``feature_maps``            a layer's activations (not per head)                      (n, C, h, w)
``filters``                 first conv layer's kernels (model-level)                  (F, kh, kw)
``scorecam``                Score-CAM, through tf-keras-vis                           (n, H, W)
``layercam``                Layer-CAM, through tf-keras-vis                           (n, H, W)
``activation_maximization`` images pushed towards a digit (tf-keras-vis)              (n, H, W)
``integrated_gradients``    Integrated Gradients (``baseline=``, ``steps=``)          (n, H, W)
``smoothgrad_squared``      mean squared gradient under noise (``samples=``)          (n, H, W)
``vargrad``                 variance of the gradient under noise (``samples=``)       (n, H, W)
``occlusion``               score drop under a sliding patch (``size=``, ``stride=``) (n, H, W)
``rise``                    score-weighted random masks (``n_masks=``)                (n, H, W)
=========================== ========================================================= ============

Use them through :func:`multidigit.explain`.  :func:`sanity_check` and
:func:`faithfulness` / :func:`faithfulness_table` and :func:`localisation` (pointing game,
relevance mass, rank accuracy against the digit boxes) measure how much to trust them;
:func:`trust_table` puts them side by side, and :data:`VERDICTS` says, per method, how
far to trust it.

Writing an explainer: :class:`Explainer` (the contract, read by :func:`capabilities`)
and the public helpers of :mod:`multidigit.explanation.methods.helpers` (:func:`window_view`,
:func:`score_model`, :func:`target_scores`, :func:`head_region`...), re-exported here.
"""

from __future__ import annotations

from multidigit._lazy import attach
from multidigit.explanation.registry import BUILTINS

# name -> module: the classes come from the registry's dotted paths; the metrics are
# listed here.  Both are imported on first access (no import at package import).
_LAZY: dict[str, str] = {
    **{path.split(":")[1]: path.split(":")[0] for path in BUILTINS.values()},
    **{name: "multidigit.explanation.metrics.checks" for name in (
        "sanity_check", "faithfulness", "faithfulness_table", "randomize_weights",
        "SanityCheckResult", "FaithfulnessResult", "FaithfulnessTable",
        "localisation", "pointing_game", "relevance_mass", "relevance_rank_accuracy",
        "LocalisationResult")},
    **{name: "multidigit.explanation.metrics.trust" for name in (
        "trust_table", "TrustTable", "VERDICTS", "DESCRIPTIONS", "verdict",
        "attribution_methods")},
    **{name: "multidigit.explanation.methods.base" for name in (
        "Explainer", "Capabilities", "capabilities")},
    # what a plugin needs for any model, the windowed ones included (see writing_plugins)
    **{name: "multidigit.explanation.methods.helpers" for name in (
        "WindowView", "window_view", "score_model", "head_layers", "target_scores",
        "head_region", "cached")},
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
