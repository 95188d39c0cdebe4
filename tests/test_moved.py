"""Old import paths of moved modules keep working for one release, with a warning."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import multidigit
from multidigit import _moved

PACKAGE = Path(multidigit.__file__).parent


def _forget(*names: str) -> None:
    for name in names:
        sys.modules.pop(name, None)
        parent, _, child = name.rpartition(".")
        if parent in sys.modules and child in vars(sys.modules[parent]):
            delattr(sys.modules[parent], child)


@pytest.fixture
def fake_moves(monkeypatch):
    monkeypatch.setitem(_moved.MOVED, "multidigit.old_heads", "multidigit.model.heads")
    monkeypatch.setitem(_moved.MOVED, "multidigit.old_tuning", "multidigit.tuning")
    yield
    _forget("multidigit.old_heads", "multidigit.old_tuning.spaces", "multidigit.old_tuning")


def test_an_old_module_path_is_the_new_module_and_warns(fake_moves):
    with pytest.warns(FutureWarning, match="multidigit.old_heads moved to multidigit.model.heads"):
        old = importlib.import_module("multidigit.old_heads")
    assert old is importlib.import_module("multidigit.model.heads")
    from multidigit.old_heads import head_names  # noqa: PLC0415

    assert head_names is multidigit.model.heads.head_names


def test_modules_inside_a_moved_package_follow_it(fake_moves):
    with pytest.warns(FutureWarning):
        old = importlib.import_module("multidigit.old_tuning.spaces")
    assert old is importlib.import_module("multidigit.tuning.spaces")


def test_the_package_attribute_of_an_old_path_warns_too(fake_moves):
    with pytest.warns(FutureWarning):
        assert multidigit.old_heads is importlib.import_module("multidigit.model.heads")


def test_unknown_paths_are_not_invented():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("multidigit.no_such_module")


_EVERY_OLD_PATH = r"""
import importlib, json, sys, warnings
problems = []
for old, new in json.loads(sys.argv[1]).items():
    target = importlib.import_module(new)
    seen = old in sys.modules
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    said = [str(w.message) for w in caught if w.category is FutureWarning]
    if module is not target:
        problems.append(f"{old} is not {new}")
    # (a module of a moved package warns for its package first, then for itself; an
    # old path imported before, as the parent of another, has warned then)
    elif not any(new in s for s in said) and not seen:
        problems.append(f"{old}: no warning naming {new}")
print("\n".join(problems))
raise SystemExit(1 if problems else 0)
"""


@pytest.mark.skipif(not _moved.MOVED, reason="no module has moved")
def test_every_moved_path_imports_in_a_fresh_process_and_exists_once():
    """One fresh process imports every old path (one process, not one per path: the
    suite's time) and gets the new module with a FutureWarning naming it; the old files
    are gone."""
    import json

    proc = subprocess.run([sys.executable, "-c", _EVERY_OLD_PATH, json.dumps(_moved.MOVED)],
                          capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    for old in _moved.MOVED:
        relative = Path(*old.split(".")[1:])
        assert not (PACKAGE / f"{relative}.py").exists(), f"{old}: the old file must be gone"
        assert not (PACKAGE / relative / "__init__.py").exists(), old


def test_the_table_points_forward_only():
    """An entry never maps a path to itself (the finder would warn and loop) nor to
    another old path (a chain: users would be sent to a path that moved too)."""
    for old, new in _moved.MOVED.items():
        assert old != new, f"{old} moves to itself"
        assert new not in _moved.MOVED, f"{old} -> {new}, which moved too"
        assert old.startswith("multidigit.") and new.startswith("multidigit."), (old, new)
