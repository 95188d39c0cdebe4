"""Make multidigit's Keras classes known to Keras in every process.

A saved ``.keras`` file names its custom classes (``multidigit>DigitWindows``,
``multidigit>ProbabilityHead``, ...).  Keras finds such a class only in its registry,
which a class joins when the module defining it is imported; Keras never imports a
non-Keras module named in a file.  So a model saved in one process failed to load in a
fresh one unless that process happened to import :mod:`multidigit.model.windows` first.

:func:`register` imports every module that defines a serializable class.  ``import
multidigit`` calls it at once when Keras is already imported; otherwise it waits for
Keras' own import (``import multidigit`` stays fast and free of TensorFlow), so that
``import multidigit; import keras; keras.saving.load_model(...)`` works too.

Written by hand: neither Keras nor the standard library has a post-import hook (PEP
369 was withdrawn), and registering eagerly would import TensorFlow on ``import
multidigit``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

__all__ = ["SERIALIZABLE_MODULES", "register", "register_when_keras_loads"]

#: modules that define ``@keras.saving.register_keras_serializable`` classes
SERIALIZABLE_MODULES = (
    "multidigit.model.layout",
    "multidigit.model.losses",
    "multidigit.model.outputs",
    "multidigit.model.windows",
)


def register() -> None:
    """Import every module whose classes a saved multidigit model may name."""
    for name in SERIALIZABLE_MODULES:
        importlib.import_module(name)


class _RegisterAfter(importlib.abc.Loader):
    """Run Keras' own loader, then :func:`register`."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader  # keras' own loader, for importlib.resources
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        try:
            register()
        except Exception as exc:  # never break `import keras` itself
            import warnings

            warnings.warn(f"multidigit could not register its Keras classes ({exc!r}); "
                          "import multidigit.model.build before loading a model.", stacklevel=2)


class _KerasFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of the top-level ``keras`` package once."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "keras":
            return None
        _remove_finder()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _RegisterAfter(spec.loader)
        return spec


def _remove_finder() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _KerasFinder)]


def register_when_keras_loads() -> None:
    """Register now if Keras is imported, else right after Keras' import finishes."""
    if "keras" in sys.modules:
        register()
    elif not any(isinstance(f, _KerasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _KerasFinder())
