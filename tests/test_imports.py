"""No import circle among the package's modules (module-level intra-package imports).

Imports inside functions and under ``if TYPE_CHECKING:`` do not run when a module is
imported, so they cannot close a circle and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "multidigit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level_imports(tree: ast.Module) -> list[ast.ImportFrom | ast.Import]:
    """Import statements run at import time: module body, try/if blocks, not functions."""
    found: list[ast.ImportFrom | ast.Import] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                todo += handler.body
    return found


def _targets(module: str, is_package: bool, node: ast.AST, modules: set[str]) -> set[str]:
    """The package modules that ``node`` (in ``module``) imports."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        name = ".".join(base + ([node.module] if node.module else []))
    else:
        name = node.module or ""
    subs = {f"{name}.{a.name}" for a in node.names if f"{name}.{a.name}" in modules}
    # ``from . import cache`` imports the sub-module, not the package's own names: the
    # package itself is a target only when a name that is not a sub-module is taken.
    takes_names = isinstance(node, ast.ImportFrom) and len(subs) < len(node.names)
    out = {name} if name in modules and (takes_names or not node.names) else set()
    return out | subs


def import_graph() -> dict[str, set[str]]:
    """module -> package modules it imports at module level."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    graph = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = set()
        for node in _top_level_imports(tree):
            graph[name] |= _targets(name, path.name == "__init__.py", node, modules)
        graph[name].discard(name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path ``[a, b, ..., a]``, or ``None`` (depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_finder_sees_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_graph_reads_relative_imports():
    graph = import_graph()
    assert "multidigit.explanation.registry" in graph["multidigit.explanation.api"]
    assert "multidigit.explanation.methods.base" in graph["multidigit.explanation.methods.gradients"]


def test_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


#: the package's bottom layer: the errors, and the declared parameter rules (which
#: import only the errors)
_BOTTOM = {"multidigit.errors", "multidigit._param_validation", "multidigit._defaults"}


@pytest.mark.parametrize("module", ["multidigit.explanation.registry", "multidigit._param_validation",
                                    "multidigit._defaults"])
def test_bottom_layer_modules(module):
    """The registry imports nothing of the package but the bottom layer."""
    assert import_graph()[module] <= _BOTTOM - {module}
