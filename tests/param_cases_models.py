"""Bad-argument cases of the models area (multidigit.model.build, multidigit.model.losses).

Not collected by pytest (no ``test_`` prefix): :mod:`test_param_validation_models` runs
them, and the integrator merges every area's ``CASES`` into one table (issue 15).
Each case: the callable, its positional and keyword arguments, the parameter the
message must name and a fragment of the allowed values it must state.
"""

from __future__ import annotations

import pytest

from multidigit.model import build as models
from multidigit.model import losses

_SHAPE = {"input_shape": (28, 28, 1), "preset": "small"}

CASES = [
    pytest.param(models.build_model, ("relu",), _SHAPE, "activation", "'softmax', 'sigmoid'",
                 id="build_model-activation"),
    pytest.param(models.build_model, ("softmax", "mse"), _SHAPE, "loss",
                 "'categorical_crossentropy', 'binary_crossentropy'", id="build_model-loss"),
    pytest.param(models.build_model, (), {"preset": "huge"}, "preset", "'baseline', 'tuned'",
                 id="build_model-preset"),
    pytest.param(models.build_model, (), {**_SHAPE, "objective": "logits"}, "objective",
                 "'exact', 'keras'", id="build_model-objective"),
    pytest.param(models.build_model, (), {"input_shape": (0, 28, 1)}, "input_shape",
                 "3 integers >= 1", id="build_model-input_shape"),
    pytest.param(models.build_model, (), {"input_shape": (28, 28, 3)}, "input_shape",
                 "(height, width, 1)", id="build_model-input_shape-rgb"),
    pytest.param(models.build_model, (), {**_SHAPE, "filters": ()}, "filters",
                 "non-empty sequence of integers >= 1", id="build_model-filters"),
    pytest.param(models.build_model, (), {**_SHAPE, "dense_units": 0}, "dense_units",
                 "integer >= 1", id="build_model-dense_units"),
    pytest.param(models.build_model, (), {**_SHAPE, "dropout": 1.5}, "dropout",
                 "number in [0, 1)", id="build_model-dropout"),
    pytest.param(models.build_model, (), {**_SHAPE, "dense_dropout": 1.0}, "dense_dropout",
                 "number in [0, 1)", id="build_model-dense_dropout"),
    pytest.param(models.build_model, (), {**_SHAPE, "batch_norm": 1}, "batch_norm",
                 "True or False", id="build_model-batch_norm"),
    pytest.param(models.build_model, (), {**_SHAPE, "l2": -1.0}, "l2", "number >= 0",
                 id="build_model-l2"),
    pytest.param(models.build_model, (), {**_SHAPE, "vertical_pool": "no"}, "vertical_pool",
                 "True or False", id="build_model-vertical_pool"),
    pytest.param(models.build_model, (), {**_SHAPE, "learning_rate": -1}, "learning_rate",
                 "number > 0", id="build_model-learning_rate"),
    pytest.param(models.build_model, (), {**_SHAPE, "n_digits": 2.5}, "n_digits",
                 "integer >= 1", id="build_model-n_digits"),
    pytest.param(models.build_model, (), {**_SHAPE, "seed": "0"}, "seed", "integer >= 0",
                 id="build_model-seed"),
    pytest.param(models.build_model, (), {**_SHAPE, "compile": "yes"}, "compile",
                 "True or False", id="build_model-compile"),
    pytest.param(models.save_model, ("not a model", "m.keras"), {}, "model", "keras.Model",
                 id="save_model-model"),
    pytest.param(models.load_model, (42,), {}, "path", "file path", id="load_model-path"),
    pytest.param(models.load_model, ("m.keras",), {"safe_mode": "no"}, "safe_mode",
                 "True or False", id="load_model-safe_mode"),
    pytest.param(models.conv_layer_names, (None,), {}, "model", "keras.Model",
                 id="conv_layer_names-model"),
    pytest.param(models.last_conv_layer_name, ("conv_2",), {}, "model", "keras.Model",
                 id="last_conv_layer_name-model"),
    pytest.param(losses.cross_entropy_from_logits, ([[1.0]], [[0.0]], "tanh", "binary_crossentropy"),
                 {}, "activation", "'softmax', 'sigmoid'", id="cross_entropy_from_logits-activation"),
    pytest.param(losses.logits_from_probabilities, ([[0.5]], "relu"), {}, "activation",
                 "'softmax', 'sigmoid'", id="logits_from_probabilities-activation"),
    pytest.param(losses.HeadCrossEntropy, ("softmax", "hinge"), {}, "loss",
                 "'categorical_crossentropy', 'binary_crossentropy'", id="HeadCrossEntropy-loss"),
]
