"""One table-driven test: every public function refuses a bad argument with
:class:`multidigit.ParameterError` whose message names the parameter and the allowed
values (issue 15).

The rows live beside each area (``param_cases_<area>.py``: data, heads, models,
training, tuning, explain, study, demo) and are gathered here into one table; a second test
checks that every public function of ``multidigit.__all__`` has at least one row.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import multidigit as md
from multidigit.errors import ParameterError

_AREAS = sorted(p.stem for p in Path(__file__).parent.glob("param_cases_*.py"))
CASES = [case for area in _AREAS for case in importlib.import_module(area).CASES]


def _resolve(value):
    """Arguments that need data are built when the row runs, not at collection."""
    fn = getattr(value, "fn", None)
    return fn() if callable(fn) and type(value).__name__ == "_Lazy" else value


@pytest.mark.parametrize("func, args, kwargs, name, allowed", CASES)
def test_bad_argument_raises_parameter_error(func, args, kwargs, name, allowed, tmp_path,
                                             monkeypatch):
    monkeypatch.chdir(tmp_path)  # a call that wrongly passed would write here only
    args = [_resolve(a) for a in args]
    kwargs = {k: _resolve(v) for k, v in kwargs.items()}
    if getattr(func, "__name__", "") == "tune":
        kwargs = {"directory": tmp_path / "tuning", **kwargs}
    with pytest.raises(ParameterError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert name in message, message
    assert allowed in message, message
    assert list(tmp_path.iterdir()) == []  # checked before anything was written


def _public_functions() -> dict[str, object]:
    out = {}
    for name in md.__all__:
        obj = getattr(md, name)
        if inspect.isfunction(obj) and inspect.signature(obj).parameters:
            out[name] = obj
    return out


def test_every_public_function_has_a_bad_argument_row():
    covered = {getattr(c.values[0], "__name__", None) for c in CASES}
    missing = sorted(set(_public_functions()) - covered)
    assert not missing, f"public functions without a bad-argument row: {missing}"
