"""Bad-argument cases of the study (merged into the one table-driven test, issue 15).

Not collected by pytest (no ``test_`` prefix); ``tests/test_param_validation.py`` runs
them.  Every argument is rejected before any file is written or data is loaded.
"""

from __future__ import annotations

import pytest

from multidigit.study import run_study

CASES = [
    pytest.param(run_study, (), {"seed": -1}, "seed", "integer >= 0", id="study-seed-neg"),
    pytest.param(run_study, (), {"seed": 1.5}, "seed", "integer >= 0", id="study-seed-float"),
    pytest.param(run_study, (), {"quick": "yes"}, "quick", "True or False",
                 id="study-quick"),
    pytest.param(run_study, (), {"full_tuning": 1}, "full_tuning", "True or False",
                 id="study-full-tuning"),
    pytest.param(run_study, (), {"restart": None}, "restart", "True or False",
                 id="study-restart"),
    pytest.param(run_study, (), {"progress": "no"}, "progress", "True or False",
                 id="study-progress"),
    pytest.param(run_study, (3,), {}, "data", "'mini', a folder path", id="study-data"),
    pytest.param(run_study, (), {"out": 5}, "out", "a folder path", id="study-out"),
    pytest.param(run_study, (), {"out": ""}, "out", "a folder path", id="study-out-empty"),
    pytest.param(run_study, (), {"config": {"seed": 1}}, "config", "a StudyConfig",
                 id="study-config"),
]
