"""How far to trust an explanation: sanity checks, faithfulness, localisation, trust.

These measure explainers from the outside (through :func:`multidigit.explain`), so they
sit beside the methods, not among them.
"""

from __future__ import annotations

from multidigit._lazy import attach

_LAZY: dict[str, str] = {}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("checks", "localisation", "trust")

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, _SUBMODULES)
