"""multidigit.training.schedules: the learning-rate schedules train() uses."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from multidigit.errors import ParameterError
from multidigit.training.schedules import SCHEDULES, schedule_function


def test_schedule_functions():
    step = schedule_function("step", epochs=20, learning_rate=1e-3)
    assert [step(e) for e in (0, 9)] == [1e-3, 1e-3]
    assert step(10) == pytest.approx(1e-4) and step(19) == pytest.approx(1e-4)
    cos = schedule_function("cosine", epochs=10, learning_rate=1e-3)
    vals = [cos(t) for t in np.linspace(0, 10, 11)]
    assert vals[0] == pytest.approx(1e-3) and vals[-1] == pytest.approx(0, abs=1e-12)
    assert all(a >= b for a, b in itertools.pairwise(vals))
    one = schedule_function("onecycle", epochs=8, learning_rate=1e-3)
    assert one(0) < one(2) and one(2) == pytest.approx(3e-3) and one(7.99) < one(0)
    assert schedule_function("constant", epochs=3, learning_rate=2e-3)(2.5) == 2e-3
    custom = schedule_function(lambda epoch, lr: lr * (epoch + 1), epochs=3, learning_rate=1e-3)
    assert custom(1.5) == pytest.approx(2e-3)


def test_unknown_schedule_is_a_parameter_error():
    with pytest.raises(ParameterError, match="schedule") as info:
        schedule_function("linear", epochs=3, learning_rate=1e-3)
    for name in SCHEDULES:
        assert repr(name) in str(info.value)
    assert "'linear'" in str(info.value)
