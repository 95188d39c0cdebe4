"""Imports in multidigit.explanation run one way: metrics -> explain() -> methods (issue 25).

The metrics (sanity checks, faithfulness, localisation, trust; ``explanation/metrics/``)
call :func:`multidigit.explain` and use the contract and the public helpers; the
explainers (``explanation/methods/``, the plugins, built-in or not) never import a
metric or the ``explain`` API, not even inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

EXPLANATION = Path(__file__).resolve().parents[2] / "multidigit" / "explanation"
METHODS, METRICS = EXPLANATION / "methods", EXPLANATION / "metrics"
PKG = "multidigit.explanation"

#: what any explainer may build on: the contract and the helpers
SHARED = {"base", "helpers", "_common"}
PLUGINS = {p.stem for p in METHODS.glob("*.py")} - SHARED - {"__init__"}
METRIC_MODULES = {p.stem for p in METRICS.glob("*.py")} - {"__init__"}


def _imported(path: Path) -> set[str]:
    """The multidigit modules ``path`` imports anywhere (module level and in functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("multidigit")}


def test_the_groups_are_what_the_packages_hold():
    assert PLUGINS >= {"gradients", "guided", "features", "deepdream", "vis", "integrated",
                       "noise", "perturbation"}
    assert METRIC_MODULES >= {"checks", "localisation", "trust"}
    assert all((METHODS / f"{m}.py").exists() for m in SHARED)


@pytest.mark.parametrize("module", sorted(PLUGINS | SHARED))
def test_explainers_never_import_the_metrics(module):
    bad = {m for m in _imported(METHODS / f"{module}.py")
           if m.startswith((f"{PKG}.metrics", f"{PKG}.api"))}
    assert not bad, f"methods/{module}.py imports {bad}: metrics sit above the explainers"


@pytest.mark.parametrize("module", sorted(METRIC_MODULES))
def test_metrics_reach_explainers_only_through_explain_and_the_helpers(module):
    allowed = tuple(f"{PKG}.methods.{m}" for m in ("base", "helpers"))
    bad = {m for m in _imported(METRICS / f"{module}.py")
           if m.startswith(f"{PKG}.methods.") and not m.startswith(allowed)}
    assert not bad, (f"metrics/{module}.py imports {bad}: go through multidigit.explain / "
                     "the registry and multidigit.explanation.methods.helpers")
