"""Measuring one trained model: accuracy, calibration, robustness to how people write."""

from __future__ import annotations

import importlib
from typing import Any

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

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
