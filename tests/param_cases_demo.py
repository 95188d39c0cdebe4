"""Bad arguments of the demo's public functions (issue 15's table; not collected).

Each case: (callable, args, kwargs, parameter name, fragment of the allowed values).
"""

from __future__ import annotations

from functools import lru_cache, wraps

import pytest

from multidigit.demo.app import build_app, find_model, launch


@lru_cache(maxsize=1)
def _tiny_model():
    import multidigit as md

    return md.build_model(preset="small", input_shape=(28, 28, 1), seed=0)


@wraps(build_app)  # the rows name build_app (tests/test_param_validation.py reads it)
def _build_app_tiny(**kwargs):
    """build_app on a tiny model (the arguments after ``model`` are the ones tested)."""
    return build_app(_tiny_model(), **kwargs)


CASES = [
    pytest.param(build_app, ("not a model",), {}, "model", "a keras.Model",
                 id="build_app-model"),
    pytest.param(_build_app_tiny, (), {"title": None}, "title", "a string",
                 id="build_app-title"),
    pytest.param(_build_app_tiny, (), {"seed": -1}, "seed", "an integer >= 0",
                 id="build_app-seed"),
    pytest.param(_build_app_tiny, (), {"example_on_load": "no"}, "example_on_load",
                 "True or False", id="build_app-example_on_load"),
    pytest.param(_build_app_tiny, (), {"threshold": 1.5}, "threshold", "a number in [0, 1]",
                 id="build_app-threshold"),
    pytest.param(find_model, (42,), {}, "model", "a path", id="find_model-model"),
    pytest.param(find_model, (), {"study": 3.5}, "study", "a path", id="find_model-study"),
    pytest.param(find_model, (), {"cwd": None}, "cwd", "a path", id="find_model-cwd"),
    pytest.param(launch, ("m.keras",), {"port": 0}, "port", "an integer in [1, 65535]",
                 id="launch-port"),
    pytest.param(launch, ("m.keras",), {"port": "80"}, "port", "an integer in [1, 65535]",
                 id="launch-port-type"),
    pytest.param(launch, ("m.keras",), {"host": ""}, "host", "'127.0.0.1'",
                 id="launch-host"),
    pytest.param(launch, ("m.keras",), {"share": "yes"}, "share", "True or False",
                 id="launch-share"),
    pytest.param(launch, ("m.keras",), {"block": 1}, "block", "True or False",
                 id="launch-block"),
    pytest.param(launch, (None,), {}, "model", "a keras.Model or a .keras path",
                 id="launch-model"),
]
