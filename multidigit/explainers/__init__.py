"""Built-in explainers and explanation-quality metrics.

Importing this package registers the built-in explainers:

==================== ========================================================= =========
name                 what                                                      maps
==================== ========================================================= =========
``saliency``         vanilla gradient; ``smooth=N`` for SmoothGrad             (n, H, W)
``gradcam``          Grad-CAM on the last conv layer (``layer=``)              (n, H, W)
``gradcam++``        Grad-CAM++                                                (n, H, W)
``guided_backprop``  guided backpropagation                                    (n, H, W)
``deepdream``        images after gradient ascent on a layer (not per head)    (n, H, W)
``feature_maps``     a layer's activations (not per head)                      (n, C, h, w)
``filters``          first conv layer's kernels (model-level)                  (F, kh, kw)
==================== ========================================================= =========

Use them through :func:`multidigit.explain`.  :func:`sanity_check` and
:func:`faithfulness` / :func:`faithfulness_table` measure how much to trust them.
"""

from __future__ import annotations

from .deepdream import DeepDreamExplainer
from .features import FeatureMapsExplainer, FiltersExplainer
from .gradients import GradCAMExplainer, GradCAMPlusPlusExplainer, SaliencyExplainer
from .guided import GuidedBackpropExplainer
from .metrics import (
    FaithfulnessResult,
    FaithfulnessTable,
    SanityCheckResult,
    faithfulness,
    faithfulness_table,
    randomize_weights,
    sanity_check,
)

__all__ = [
    "SaliencyExplainer",
    "GradCAMExplainer",
    "GradCAMPlusPlusExplainer",
    "GuidedBackpropExplainer",
    "DeepDreamExplainer",
    "FeatureMapsExplainer",
    "FiltersExplainer",
    "sanity_check",
    "faithfulness",
    "faithfulness_table",
    "randomize_weights",
    "SanityCheckResult",
    "FaithfulnessResult",
    "FaithfulnessTable",
]
