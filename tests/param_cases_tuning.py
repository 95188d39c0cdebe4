"""Bad-argument cases of the tuning area for the table-driven parameter test (issue 15).

Not collected by pytest (no ``test_`` prefix); run by test_param_validation_tuning.py
and merged into the one table by the integrator.
"""

from __future__ import annotations

import numpy as np
import pytest

from multidigit.tuning import check_search_space, model_kwargs, tune


class _FakeSplit:
    """Enough of a split for tune()'s argument checks, which run before any work."""

    images = np.zeros((4, 28, 28, 1), "float32")
    label_ids = np.arange(4)
    image_shape = (28, 28, 1)
    n_digits = 3

    def __len__(self) -> int:
        return 4

    def one_hot(self):  # pragma: no cover - never reached by a bad argument
        raise AssertionError


class _FakeData:
    train = _FakeSplit()
    val = _FakeSplit()


DATA = _FakeData()

CASES = [
    pytest.param(tune, (DATA,), {"tuner": "grid"}, "tuner", "'hyperband', 'random'",
                 id="tune-tuner"),
    pytest.param(tune, (DATA,), {"max_trials": 0}, "max_trials", "integer >= 1",
                 id="tune-max_trials"),
    pytest.param(tune, (DATA,), {"epochs": 1.5}, "epochs", "integer >= 1",
                 id="tune-epochs"),
    pytest.param(tune, (DATA,), {"batch_size": -2}, "batch_size", "integer >= 1",
                 id="tune-batch_size"),
    pytest.param(tune, (DATA,), {"k": 1}, "k", "integer >= 2 or None", id="tune-k"),
    pytest.param(tune, (DATA,), {"k": 5}, "k", "integer in [2, 4]", id="tune-k-groups"),
    pytest.param(tune, (DATA,), {"seed": -1}, "seed", "integer >= 0", id="tune-seed"),
    pytest.param(tune, (DATA,), {"resume": "no"}, "resume", "True or False",
                 id="tune-resume"),
    pytest.param(tune, (DATA,), {"retrain": 1}, "retrain", "True or False",
                 id="tune-retrain"),
    pytest.param(tune, (DATA,), {"progress": None}, "progress", "True or False",
                 id="tune-progress"),
    pytest.param(tune, (DATA,), {"objective": ""}, "objective", "metric name",
                 id="tune-objective"),
    pytest.param(tune, (DATA,), {"search_space": "huge"}, "search_space",
                 "'study', 'wide', 'tiny'", id="tune-search_space"),
    pytest.param(tune, (np.zeros(3),), {}, "data", "dataset with .train and .val",
                 id="tune-data"),
    pytest.param(check_search_space, ("huge",), {}, "search_space",
                 "'study', 'wide', 'tiny'", id="check_search_space-name"),
    pytest.param(check_search_space, ({},), {}, "search_space", "non-empty dict",
                 id="check_search_space-empty"),
    pytest.param(check_search_space, ({"conv_1": {"type": "int"}},), {}, "search_space",
                 "allowed fields", id="check_search_space-fields"),
    pytest.param(model_kwargs, ([96, 128],), {}, "values", "a dict of hyperparameter",
                 id="model_kwargs-values"),
]
