"""Handwritten digits prepared as MNIST prepared its digits: find, centre, thin or thicken."""

from __future__ import annotations

import importlib
from typing import Any

# name -> module: the public names of the former module multidigit.handwriting,
# imported on first use (old imports keep working, nothing heavy at import)
_LAZY: dict[str, str] = {
    "prepare_handwriting": "multidigit.handwriting.prepare",
    "prepare_batch": "multidigit.handwriting.prepare",
    "PreparedInput": "multidigit.handwriting.prepare",
    "DigitCountError": "multidigit.handwriting.prepare",
}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("prepare",)

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
