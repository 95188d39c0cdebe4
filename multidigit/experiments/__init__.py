"""Experiments over many models: cross-validation and the fair comparison of objectives."""

from __future__ import annotations

from multidigit._lazy import attach

_LAZY: dict[str, str] = {}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("comparison", "cross_validation")

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, _SUBMODULES)
