"""Bad-argument cases of the training area (train, evaluate, predict, make_folds,
cross_validate, compare, corrected_ttest, schedule_function, default_epochs) for the
table-driven parameter test.

Not collected by pytest (no ``test_`` prefix); ``tests/test_param_validation.py``
runs them, and the integrator merges them into one table.  The checks fire before
any model is built or trained, so ``None`` stands in for the model where the data is
checked first, and a plain ``object()`` where the model check is the one under test.
"""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.experiments.comparison import corrected_ttest
from multidigit.training.schedules import schedule_function


def _split():
    rng = np.random.default_rng(0)
    return md.Split(rng.random((8, 28, 28, 1)).astype(np.float32),
                    rng.integers(0, 10, (8, 3)), name="train")


def _labels():
    return np.array([[0, 0, 1]] * 4 + [[0, 0, 2]] * 4)


class _Lazy:
    """Build the argument only when the case runs (no data work at collection)."""

    def __init__(self, fn):
        self.fn = fn


def resolve(value):
    return value.fn() if isinstance(value, _Lazy) else value


S, L = _Lazy(_split), _Lazy(_labels)

CASES = [
    pytest.param(md.train, (None, (np.zeros(2), np.zeros(2))), {}, "data",
                 "MultiDigitDataset", id="train-data"),
    pytest.param(md.train, (object(), S), {}, "model", "keras.Model", id="train-model"),
    pytest.param(md.train, (None, S), {"validation": "test"}, "validation", "'val'",
                 id="train-validation"),
    pytest.param(md.train, (None, S), {"schedule": "linear"}, "schedule",
                 "'step', 'cosine', 'onecycle', 'constant'", id="train-schedule"),
    pytest.param(md.train, (None, S), {"checkpoint": "best.h5"}, "checkpoint", "'.keras'",
                 id="train-checkpoint"),
    pytest.param(md.train, (None, S), {"callbacks": ["early"]}, "callbacks",
                 "keras.callbacks.Callback", id="train-callbacks"),
    pytest.param(md.train, (None, S), {"augment": "yes"}, "augment",
                 "True, False or a Keras preprocessing layer", id="train-augment"),
    pytest.param(md.evaluate, (None, np.zeros((2, 28, 28, 1))), {}, "split", "Split",
                 id="evaluate-split"),
    pytest.param(md.evaluate, (None, S), {"batch_size": 0}, "batch_size", ">= 1",
                 id="evaluate-batch_size"),
    pytest.param(md.predict, (None, np.zeros((1, 28, 28))), {"batch_size": -1},
                 "batch_size", ">= 1", id="predict-batch_size"),
    pytest.param(md.make_folds, (L,), {"k": 1}, "k", "integer >= 2", id="make_folds-k"),
    pytest.param(md.make_folds, (L,), {"k": 3}, "k", "label combinations",
                 id="make_folds-k-groups"),
    pytest.param(md.make_folds, (L,), {"grouped": "yes"}, "grouped", "True or False",
                 id="make_folds-grouped"),
    pytest.param(md.cross_validate, (S,), {"k": 1}, "k", "integer >= 2",
                 id="cross_validate-k"),
    pytest.param(md.cross_validate, (S,), {"model_params": {"n_digits": 2}}, "n_digits",
                 "left out", id="cross_validate-model_params"),
    pytest.param(md.cross_validate, ([1, 2],), {}, "data", "MultiDigitDataset",
                 id="cross_validate-data"),
    pytest.param(md.compare, (S,), {"k": 1}, "k", "integer >= 2", id="compare-k"),
    pytest.param(md.compare, ([1, 2],), {}, "data", "MultiDigitDataset", id="compare-data"),
    pytest.param(md.compare, (S,), {"activations": ("relu",)}, "activations",
                 "'softmax', 'sigmoid'", id="compare-activations"),
    pytest.param(md.compare, (S,), {"model_params": {"loss": "hinge"}}, "model_params",
                 "left out", id="compare-model_params"),
    pytest.param(md.compare, (S,), {"train_params": {"epochs": 3}}, "train_params",
                 "left out", id="compare-train_params"),
    pytest.param(md.cross_validate, (S,), {"model_params": {"input_shape": (1, 1, 1)}},
                 "model_params", "left out", id="cross_validate-model_params-shape"),
    pytest.param(md.cross_validate, (S,), {"train_params": {"seed": 1}}, "train_params",
                 "left out", id="cross_validate-train_params"),
    pytest.param(md.cross_validate, (S,), {"folds": []}, "folds", "non-empty list",
                 id="cross_validate-folds"),
    pytest.param(md.make_folds, (np.zeros((2, 2, 2)),), {}, "split_or_labels", "a Split",
                 id="make_folds-split_or_labels"),
    pytest.param(md.compare, (S,), {"metric": "loss"}, "metric",
                 "'mean_digit_accuracy', 'whole_accuracy'", id="compare-metric"),
    pytest.param(md.compare, (S,), {"losses": ("hinge",)}, "losses",
                 "'categorical_crossentropy', 'binary_crossentropy'", id="compare-losses"),
    pytest.param(md.compare, (S,), {"repeats": 0}, "repeats", "integer >= 1",
                 id="compare-repeats"),
    pytest.param(md.default_epochs, (0,), {}, "n_images", "integer >= 1",
                 id="default_epochs-n_images"),
    pytest.param(md.default_epochs, (100,), {"batch_size": 0}, "batch_size", "integer >= 1",
                 id="default_epochs-batch_size"),
    pytest.param(schedule_function, ("linear",), {"epochs": 3, "learning_rate": 1e-3},
                 "schedule", "'step', 'cosine', 'onecycle', 'constant'",
                 id="schedule_function-schedule"),
    pytest.param(corrected_ttest, (np.array([0.01]), 0.5), {}, "differences",
                 "at least 2 runs", id="corrected_ttest-differences"),
]
