"""Bad-argument rows for multidigit.model.heads (gathered by test_param_validation.py)."""

import pytest

import multidigit as md

CASES = [
    pytest.param(md.head_names, (0,), {}, "n_digits", ">= 1", id="head_names-zero"),
    pytest.param(md.head_names, (2.5,), {}, "n_digits", "integer", id="head_names-float"),
]
