"""Experiments over many models: cross-validation and the fair comparison of objectives."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("comparison", "cross_validation")

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
