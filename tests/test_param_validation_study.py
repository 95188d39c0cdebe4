"""Every public function of the study rejects bad arguments with ParameterError."""

from __future__ import annotations

import pytest
from param_cases_study import CASES

from multidigit.errors import ParameterError


@pytest.mark.parametrize("func, args, kwargs, param, allowed", CASES)
def test_bad_argument(func, args, kwargs, param, allowed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a call that wrongly passed would write here only
    with pytest.raises(ParameterError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert param in message and allowed in message, message
    assert list(tmp_path.iterdir()) == []  # checked before anything is written
