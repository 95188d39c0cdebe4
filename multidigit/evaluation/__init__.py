"""Measuring one trained model: accuracy, calibration, robustness to how people write."""

from __future__ import annotations

from multidigit._lazy import attach

# name -> module: the public names of the former module multidigit.evaluation,
# imported on first use (old imports keep working, nothing heavy at import)
_LAZY: dict[str, str] = {
    "EvaluationResult": "multidigit.evaluation.measure",
    "Prediction": "multidigit.evaluation.measure",
    "evaluate": "multidigit.evaluation.measure",
    "predict": "multidigit.evaluation.measure",
}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("calibration", "conditions", "measure", "robustness")

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, _SUBMODULES)
