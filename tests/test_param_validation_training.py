"""Every public function of the training area rejects a bad argument with a
ParameterError naming the parameter and the allowed values (issue 15)."""

from __future__ import annotations

import pytest
from param_cases_training import CASES, resolve

from multidigit.errors import ParameterError


@pytest.mark.parametrize("func, args, kwargs, name, allowed", CASES)
def test_bad_argument_raises_parameter_error(func, args, kwargs, name, allowed):
    with pytest.raises(ParameterError) as info:
        func(*[resolve(a) for a in args], **{k: resolve(v) for k, v in kwargs.items()})
    message = str(info.value)
    assert name in message and allowed in message, message
