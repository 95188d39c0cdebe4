"""``multidigit demo``: the browser app, its inputs and its explanations."""

from __future__ import annotations

from multidigit._lazy import attach

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

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, _SUBMODULES)
