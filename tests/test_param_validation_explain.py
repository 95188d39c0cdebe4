"""Every public function of the explain area rejects bad arguments with ParameterError,
naming the parameter and the allowed values (cases: ``param_cases_explain.py``)."""

from __future__ import annotations

import pytest
from param_cases_explain import CASES

from multidigit.errors import ParameterError


@pytest.mark.parametrize("func, args, kwargs, param, allowed", CASES)
def test_bad_argument(func, args, kwargs, param, allowed):
    with pytest.raises(ParameterError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert param in message, message
    assert allowed in message, message
