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

import os as _os

# Quieten TensorFlow's C++ start-up chatter unless the user chose a level.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from multidigit.errors import (  # noqa: E402  (cheap, always imported)
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
from multidigit._keras_objects import register_when_keras_loads as _register  # noqa: E402

_register()

# Modules that moved keep their old import paths for one release (multidigit._moved).
from multidigit._moved import MOVED as _MOVED  # noqa: E402
from multidigit._moved import install as _install_moved  # noqa: E402

_install_moved()

from multidigit._lazy import attach as _attach  # noqa: E402

# name -> sub-module that defines it
_LAZY: dict[str, str] = {
    # data
    "load_dataset": "data",
    "export_dataset": "data",
    "generate_dataset": "data",
    "class_split": "data",
    "head_names": "model.heads",
    "MultiDigitDataset": "data",
    "Split": "data",
    # models
    "build_model": "model.build",
    "save_model": "model.build",
    "load_model": "model.build",
    "PRESETS": "model.build",
    "layer_table": "model.architecture",
    # training, evaluation, cross-validation, comparison
    "train": "training.fit",
    "TrainingHistory": "training.fit",
    "default_epochs": "training.fit",
    "evaluate": "evaluation.measure",
    "predict": "evaluation.measure",
    "EvaluationResult": "evaluation.measure",
    "Prediction": "evaluation.measure",
    "cross_validate": "experiments.cross_validation",
    "make_folds": "experiments.cross_validation",
    "CrossValidationResult": "experiments.cross_validation",
    "compare": "experiments.comparison",
    "ComparisonResult": "experiments.comparison",
    # tuning
    "tune": "tuning.search",
    "TuneResult": "tuning.result",
    "SEARCH_SPACES": "tuning.spaces",
    # handwriting and robustness
    "prepare_handwriting": "handwriting.prepare",
    "PreparedInput": "handwriting.prepare",
    "DigitCountError": "handwriting.prepare",
    "evaluate_robustness": "evaluation.robustness",
    "RobustnessResult": "evaluation.robustness",
    "CONDITIONS": "evaluation.conditions",
    "make_condition_images": "evaluation.conditions",
    # explainers
    "explain": "explanation.api",
    "Explanation": "explanation.api",
    "Explainer": "explanation.methods.base",
    "register_explainer": "explanation.registry",
    "get_explainer": "explanation.registry",
    "list_explainers": "explanation.registry",
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
    "cli", "data", "demo", "errors", "evaluation", "experiments", "explanation",
    "handwriting", "model", "plots", "study", "training", "tuning",
}

# modules whose ``__all__`` is public API besides the top level (the former
# public sub-modules at their new paths; tests read every public function)
_PUBLIC_MODULES = (
    "cli", "data", "demo.app", "errors", "evaluation.calibration", "evaluation.conditions",
    "evaluation.measure", "evaluation.robustness", "experiments.comparison",
    "experiments.cross_validation", "explanation.api", "explanation.methods",
    "explanation.registry", "explanation.testing", "handwriting.prepare",
    "model.architecture", "model.build", "model.heads", "model.layout", "model.losses",
    "model.outputs", "model.windows", "plots", "study", "training.augmentation",
    "training.callbacks", "training.fit", "training.schedules", "tuning",
)


__getattr__, __dir__, _ = _attach(
    __name__, _LAZY, _SUBMODULES, fallback=lambda name: f"{__name__}.{name}" in _MOVED)
