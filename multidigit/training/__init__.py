"""Training one model: :func:`~multidigit.train`, its callbacks, schedules and augmentation."""

from __future__ import annotations

import importlib
from typing import Any

# name -> module: the public names of the former module multidigit.training,
# imported on first use (old imports keep working, nothing heavy at import)
_LAZY: dict[str, str] = {
    "SCHEDULES": "multidigit.training.fit",
    "TrainingHistory": "multidigit.training.fit",
    "default_epochs": "multidigit.training.fit",
    "schedule_function": "multidigit.training.fit",
    "train": "multidigit.training.fit",
}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("augmentation", "callbacks", "fit", "schedules")

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
