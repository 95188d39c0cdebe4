"""Training one model: :func:`~multidigit.train`, its callbacks, schedules and augmentation."""

from __future__ import annotations

from multidigit._lazy import attach

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

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, _SUBMODULES)
