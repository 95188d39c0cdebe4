"""Every public function of the tuning area rejects bad arguments with ParameterError."""

from __future__ import annotations

import pytest
from param_cases_tuning import CASES

from multidigit.errors import ParameterError


@pytest.mark.parametrize("func, args, kwargs, name, allowed", CASES)
def test_bad_argument_raises_parameter_error(func, args, kwargs, name, allowed, tmp_path):
    if func.__name__ == "tune":
        kwargs = {"directory": tmp_path, **kwargs}
    with pytest.raises(ParameterError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert name in message and allowed in message, message
    if func.__name__ == "tune":
        assert not any(tmp_path.iterdir())  # nothing written before the check
