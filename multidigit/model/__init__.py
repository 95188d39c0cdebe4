"""The model: build, save and load it, its presets, blocks, heads and losses.

A new architecture is a preset (:mod:`multidigit.model.presets`); a new layer that a
saved model names is registered in :mod:`multidigit._keras_objects`.
"""

from __future__ import annotations

from multidigit._lazy import attach

_LAZY: dict[str, str] = {}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("architecture", "build", "heads", "layout", "losses", "outputs", "presets", "windows")

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, _SUBMODULES)
