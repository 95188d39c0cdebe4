"""The model: build, save and load it, its presets, blocks, heads and losses.

A new architecture is a preset (:mod:`multidigit.model.presets`); a new layer that a
saved model names is registered in :mod:`multidigit._keras_objects`.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("architecture", "build", "heads", "layout", "losses", "outputs", "presets", "windows")

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
