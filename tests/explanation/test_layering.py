"""Imports in multidigit.explainers run one way: metrics -> explain() -> plugins (issue 25).

The metric modules (sanity checks, faithfulness, localisation, trust) call
:func:`multidigit.explain` and use the contract and the public helpers; the explainers
(the plugins, built-in or not) never import a metric module, not even inside a
function, so the metrics can move to a sibling package as they are.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "multidigit" / "explainers"

#: the explanation-quality metrics, which sit beside the plugins today
METRICS = {"metrics", "localisation", "trust"}
#: what any explainer may build on: the contract and the helpers
SHARED = {"base", "helpers", "_common"}
PLUGINS = {p.stem for p in PACKAGE.glob("*.py")} - METRICS - SHARED - {"__init__"}


def _imported(module: str) -> set[str]:
    """The ``multidigit.explainers`` modules and the multidigit modules ``module``
    imports anywhere (module level and inside functions), as short names."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .x import
            found |= {node.module} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
            found.add(f"..{node.module}")  # from ..explanation import
    return found


def test_the_groups_are_what_the_package_holds():
    assert PLUGINS >= {"gradients", "guided", "features", "deepdream", "vis", "integrated",
                       "noise", "perturbation"}
    assert all((PACKAGE / f"{m}.py").exists() for m in METRICS | SHARED)


@pytest.mark.parametrize("module", sorted(PLUGINS | SHARED))
def test_explainers_never_import_the_metrics(module):
    bad = _imported(module) & (METRICS | {"..explanation"})
    assert not bad, f"explainers/{module}.py imports {bad}: metrics sit above the explainers"


@pytest.mark.parametrize("module", sorted(METRICS))
def test_metrics_reach_explainers_only_through_explain_and_the_helpers(module):
    bad = _imported(module) & (PLUGINS | {"_common"})
    assert not bad, (f"explainers/{module}.py imports {bad}: go through "
                     "multidigit.explain / the registry and multidigit.explainers.helpers")
