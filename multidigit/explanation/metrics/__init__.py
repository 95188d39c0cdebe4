"""How far to trust an explanation: sanity checks, faithfulness, localisation, trust.

These measure explainers from the outside (through :func:`multidigit.explain`), so they
sit beside the methods, not among them.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("checks", "localisation", "trust")

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
