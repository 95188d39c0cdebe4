"""Bad arguments of the handwriting, robustness and architecture functions (issue 15's
table; not collected).

Each case: (callable, args, kwargs, parameter name, fragment of the allowed values).
"""

from __future__ import annotations

import numpy as np
import pytest

from multidigit.evaluation.conditions import make_condition_images
from multidigit.evaluation.robustness import evaluate_robustness
from multidigit.handwriting.prepare import prepare_handwriting
from multidigit.model.architecture import layer_table

_BLANK = np.zeros((84, 84), np.float32)

CASES = [
    pytest.param(prepare_handwriting, (_BLANK,), {"n_digits": 0}, "n_digits",
                 "an integer in [1, 5]", id="prepare_handwriting-n_digits"),
    pytest.param(prepare_handwriting, (_BLANK,), {"invert": "maybe"}, "invert",
                 "'auto', True, False", id="prepare_handwriting-invert"),
    pytest.param(make_condition_images, ("nope", 10), {}, "condition", "'control'",
                 id="make_condition_images-condition"),
    pytest.param(make_condition_images, ("control", 0), {}, "n_images", "an integer >= 1",
                 id="make_condition_images-n_images"),
    pytest.param(evaluate_robustness, ("not a model",), {}, "model", "a keras.Model",
                 id="evaluate_robustness-model"),
    pytest.param(layer_table, ("not a model",), {}, "model", "Keras functional model",
                 id="layer_table-model"),
]
