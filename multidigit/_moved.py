"""Old import paths of modules that moved, kept working for one release.

Each entry of :data:`MOVED` maps an old dotted path to its new home.  Importing the
old path (``import multidigit.losses``, ``from multidigit.losses import X``) returns the
new module itself, under a :class:`FutureWarning` (shown to users, unlike a
``DeprecationWarning`` raised from library code) that names the new path; sub-modules
of a moved package follow it (``multidigit.explainers.gradients`` ->
``<new>.gradients``).  Old files are not kept as shims, so a module exists once.

Written by hand: the standard library has no module-alias hook, and one finder with one
table is shorter than a shim file per old module.  Remove the table's entries in the
release after the move (see CHANGELOG).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

__all__ = ["MOVED", "install", "new_path"]

#: old dotted module path -> new dotted module path
MOVED: dict[str, str] = {
    "multidigit.models": "multidigit.model.build",
    "multidigit.presets": "multidigit.model.presets",
    "multidigit._blocks": "multidigit.model._blocks",
    "multidigit.windows": "multidigit.model.windows",
    "multidigit.layout": "multidigit.model.layout",
    "multidigit.heads": "multidigit.model.heads",
    "multidigit.losses": "multidigit.model.losses",
    "multidigit.architecture": "multidigit.model.architecture",
    "multidigit.callbacks": "multidigit.training.callbacks",
    "multidigit.schedules": "multidigit.training.schedules",
    "multidigit.calibration": "multidigit.evaluation.calibration",
    "multidigit.robustness": "multidigit.evaluation.robustness",
    "multidigit.conditions": "multidigit.evaluation.conditions",
    "multidigit.cross_validation": "multidigit.experiments.cross_validation",
    "multidigit.comparison": "multidigit.experiments.comparison",
    "multidigit.registry": "multidigit.explanation.registry",
    "multidigit.testing": "multidigit.explanation.testing",
    "multidigit._explanation_plots": "multidigit.explanation._plots",
    "multidigit.explainers.metrics": "multidigit.explanation.metrics.checks",
    "multidigit.explainers.localisation": "multidigit.explanation.metrics.localisation",
    "multidigit.explainers.trust": "multidigit.explanation.metrics.trust",
    "multidigit.explainers": "multidigit.explanation.methods",
    "multidigit._digits": "multidigit.handwriting._digits",
    "multidigit._strokes": "multidigit.handwriting._strokes",
    "multidigit.demo_inputs": "multidigit.demo.inputs",
    "multidigit.demo_explain": "multidigit.demo.explain",
}


def new_path(fullname: str) -> str | None:
    """The new path of a moved module (or of a module inside a moved package)."""
    if fullname in MOVED:
        return MOVED[fullname]
    for old, new in MOVED.items():
        if fullname.startswith(old + "."):
            return new + fullname[len(old):]
    return None


class _Alias(importlib.abc.Loader):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{self.old} moved to {self.new}; import it from there "
            "(the old path goes in the next release).",
            FutureWarning,
            stacklevel=4,
        )
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        # The new module is already executed; the old name now points at it.  Put it
        # back under its own name too (the import system rebinds sys.modules[old]).
        sys.modules[self.old] = module


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001 (importlib API)
        if not fullname.startswith("multidigit."):
            return None
        new = new_path(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(fullname, new))


_FINDER = _Finder()


def install() -> None:
    """Put the finder in front of :data:`sys.meta_path` (once)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
