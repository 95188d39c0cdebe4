"""multidigit: multi-label digit classification on Triple MNIST, end to end.

Read three handwritten digits in one image with Keras CNNs (one head per digit),
compare output activations and losses honestly, tune, and explain the model.

The public API is re-exported here; sub-modules are imported lazily, so
``import multidigit`` is fast and does not import TensorFlow until it is needed.

Examples
--------
>>> import multidigit as md
>>> ds = md.load_dataset()                                   # doctest: +SKIP
>>> model = md.build_model("softmax", "categorical_crossentropy")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os as _os
from typing import Any

# Quieten TensorFlow's C++ start-up chatter unless the user chose a level.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .errors import (  # noqa: E402  (cheap, always imported)
    DataError,
    ExplainerError,
    ModelError,
    MultidigitError,
    ParameterError,
    PluginWarning,
    StorageError,
    TuningError,
)

__version__ = "0.1.0"

# Saved models name multidigit's Keras classes: make them loadable in any process
# (now if Keras is imported, else right after its import), see multidigit._keras_objects.
from ._keras_objects import register_when_keras_loads as _register  # noqa: E402

_register()

# Modules that moved keep their old import paths for one release (multidigit._moved).
from ._moved import MOVED as _MOVED  # noqa: E402
from ._moved import install as _install_moved  # noqa: E402

_install_moved()

# name -> sub-module that defines it
_LAZY: dict[str, str] = {
    # data
    "load_dataset": "data",
    "export_dataset": "data",
    "generate_dataset": "data",
    "class_split": "data",
    "head_names": "heads",
    "MultiDigitDataset": "data",
    "Split": "data",
    # models
    "build_model": "models",
    "save_model": "models",
    "load_model": "models",
    "PRESETS": "models",
    "layer_table": "architecture",
    # training, evaluation, cross-validation, comparison
    "train": "training",
    "TrainingHistory": "training",
    "default_epochs": "training",
    "evaluate": "evaluation",
    "predict": "evaluation",
    "EvaluationResult": "evaluation",
    "Prediction": "evaluation",
    "cross_validate": "cross_validation",
    "make_folds": "cross_validation",
    "CrossValidationResult": "cross_validation",
    "compare": "comparison",
    "ComparisonResult": "comparison",
    # tuning
    "tune": "tuning.search",
    "TuneResult": "tuning.result",
    "SEARCH_SPACES": "tuning.spaces",
    # handwriting and robustness
    "prepare_handwriting": "handwriting",
    "PreparedInput": "handwriting",
    "DigitCountError": "handwriting",
    "evaluate_robustness": "robustness",
    "RobustnessResult": "robustness",
    "CONDITIONS": "conditions",
    "make_condition_images": "conditions",
    # explainers
    "explain": "explanation",
    "Explanation": "explanation",
    "Explainer": "explainers.base",
    "register_explainer": "registry",
    "get_explainer": "registry",
    "list_explainers": "registry",
}

__all__ = sorted(
    [
        *_LAZY,
        "DataError",
        "ExplainerError",
        "ModelError",
        "MultidigitError",
        "ParameterError",
        "PluginWarning",
        "StorageError",
        "TuningError",
        "__version__",
    ]
)


# public sub-modules, imported on first attribute access (``multidigit.plots``...)
_SUBMODULES = {
    "data", "models", "losses", "training", "schedules", "callbacks", "evaluation",
    "calibration", "cross_validation", "comparison", "tuning", "explanation", "registry",
    "explainers", "heads", "plots", "architecture", "study", "cli", "demo", "testing", "errors",
    "handwriting", "conditions", "robustness", "layout", "windows",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if name in _SUBMODULES or f"{__name__}.{name}" in _MOVED:
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module 'multidigit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
