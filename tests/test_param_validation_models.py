"""Every public function of the models area rejects a bad argument with ParameterError
naming the parameter and the allowed values (issue 15's table, this area's rows)."""

from __future__ import annotations

import pytest
from param_cases_models import CASES

from multidigit.errors import ParameterError


@pytest.mark.parametrize("func, args, kwargs, name, allowed", CASES)
def test_bad_argument_gets_parameter_error(func, args, kwargs, name, allowed):
    with pytest.raises(ParameterError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert name in message and allowed in message, message
