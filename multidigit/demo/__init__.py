"""``multidigit demo``: the browser app, its inputs and its explanations."""

from __future__ import annotations

import importlib
from typing import Any

# name -> module: the public names of the former module multidigit.demo,
# imported on first use (old imports keep working, nothing heavy at import)
_LAZY: dict[str, str] = {
    "build_app": "multidigit.demo.app",
    "launch": "multidigit.demo.app",
    "find_model": "multidigit.demo.app",
    "require_gradio": "multidigit.demo.app",
    "DemoDependencyError": "multidigit.demo.app",
    "NO_EXPLAINER": "multidigit.demo.app",
    "DEFAULT_STUDY": "multidigit.demo.app",
    "INVERT_CHOICES": "multidigit.demo.app",
}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("app", "explain", "inputs")

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
