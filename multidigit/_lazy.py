"""Lazy public names: a package's ``__getattr__``, ``__dir__`` and ``__all__`` from one table.

Importing :mod:`multidigit` or one of its packages imports nothing heavy (TensorFlow loads
when a model is first built).  Each package declares which module defines each of its
public names and which of its sub-modules are public; :func:`attach` makes the module-level
``__getattr__`` (PEP 562) that imports them on first use.

Written here, not taken from ``lazy_loader`` (scientific-python), because the top level
also resolves the old module paths of :mod:`multidigit._moved` and the tables name
modules outside the package (``multidigit.explanation.methods`` lists the metrics); one
short function does not justify a dependency.

Examples
--------
>>> getattr_, dir_, all_ = attach("multidigit.training", {"train": "fit"}, ("fit",))
>>> all_, getattr_("train").__name__
(['train'], 'train')
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(package: str, names: Mapping[str, str] | None = None,
           submodules: Iterable[str] = (),
           fallback: Callable[[str], bool] | None = None,
           ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """The ``(__getattr__, __dir__, __all__)`` of ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Public name -> module that defines it: ``"multidigit.x.y"`` as is, anything
        else relative to ``package`` (``"fit"`` is ``package + ".fit"``).
    submodules : iterable of str
        Sub-modules imported on first attribute access (``package.plots``).
    fallback : callable, optional
        ``fallback(name)`` true: import ``package.name`` although it is not listed
        (the top level's moved modules).
    """
    table = dict(names or {})
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            if name in subs or (fallback is not None and fallback(name)):
                return importlib.import_module(f"{package}.{name}")
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if not module.startswith("multidigit."):
            module = f"{package}.{module}"
        value = getattr(importlib.import_module(module), name)
        vars(sys.modules[package])[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table) | subs)

    return __getattr__, __dir__, sorted(table)
