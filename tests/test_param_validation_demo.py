"""Every public function of the demo answers a bad argument with ParameterError."""

from __future__ import annotations

import pytest
from param_cases_demo import CASES

from multidigit.errors import ParameterError


@pytest.mark.parametrize(("func", "args", "kwargs", "name", "allowed"), CASES)
def test_bad_argument_raises_parameter_error(func, args, kwargs, name, allowed):
    with pytest.raises(ParameterError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert name in message and allowed in message, message
