"""multidigit's recipe: every default that more than one entry point shares, in one place.

:func:`multidigit.train`, :func:`~multidigit.cross_validate`, :func:`~multidigit.compare`,
:func:`~multidigit.tune`, :func:`~multidigit.build_model`, the CLI, the study and the
demo read their defaults from here, so moving from one entry point to another keeps the
recipe.  A signature shows the value itself (``batch_size: int = BATCH_SIZE`` reads
``batch_size=64`` in the docs); ``epochs=None`` means "the recipe's":
:func:`multidigit.default_epochs` of the training images.

``tests/test_defaults.py`` checks that public functions sharing a parameter name share
its default (with a commented list of the documented exceptions).  Measured reasons for
the values are in ``benchmarks/README.md``.

Examples
--------
>>> from multidigit import _defaults
>>> _defaults.BATCH_SIZE, _defaults.LOSS, _defaults.STUDY_FOLDER
(64, 'binary_crossentropy', 'multidigit-study')
"""

from __future__ import annotations

__all__ = [
    "ACTIVATION",
    "BATCH_SIZE",
    "EPOCH_BOUNDS",
    "EPOCHS",
    "K",
    "LOSS",
    "PREDICT_BATCH_SIZE",
    "SCHEDULE",
    "SEED",
    "STEPS",
    "STUDY_FOLDER",
    "TUNER",
    "TUNING_FOLDER",
]

# ---- the model (build_model, tune, compare's model_params)
#: output activation of every head
ACTIVATION = "softmax"
#: loss of every head (build_model's and tune's)
LOSS = "binary_crossentropy"

# ---- training (train, cross_validate, compare, tune)
#: images per gradient step of every training entry point
BATCH_SIZE = 64
#: ``None``: :func:`multidigit.default_epochs` of the training images and BATCH_SIZE
EPOCHS = None
#: :func:`multidigit.default_epochs` aims at about this many gradient steps ...
STEPS = 7000
#: ... within these epoch bounds
EPOCH_BOUNDS = (6, 20)
#: learning-rate schedule of :func:`multidigit.train` (and of every training it runs)
SCHEDULE = "onecycle"
#: seed of folds, weights and data order
SEED = 0
#: folds of :func:`multidigit.make_folds` and :func:`multidigit.cross_validate`
K = 5

# ---- inference (evaluate, predict, explain, robustness, explainer metrics)
#: images per forward pass: no gradient step, so a larger batch only saves overhead
PREDICT_BATCH_SIZE = 256

# ---- folders and the tuner (the CLI, the study, the demo)
#: the folder ``multidigit study`` writes and ``multidigit demo`` reads by default
STUDY_FOLDER = "multidigit-study"
#: where :func:`multidigit.tune` keeps its keras-tuner projects
TUNING_FOLDER = "multidigit-tuning"
#: :func:`multidigit.tune`'s search algorithm
TUNER = "hyperband"
