"""Explaining a model: :func:`~multidigit.explain`, the registry, the methods and metrics.

* :mod:`~multidigit.explanation.api`: :func:`~multidigit.explain` and :class:`Explanation`;
* :mod:`~multidigit.explanation.registry`: names -> explainer classes (built-ins, plugins);
* :mod:`~multidigit.explanation.methods`: the built-in explainers (a new one goes here);
* :mod:`~multidigit.explanation.metrics`: how far to trust them (sanity, faithfulness,
  localisation, the trust table);
* :mod:`~multidigit.explanation.testing`: the test kit for explainer authors;
* ``_plots``: the figures of :meth:`Explanation.plot` (private).
"""

from __future__ import annotations

from multidigit._lazy import attach

# name -> module: the public names of the former module multidigit.explanation,
# imported on first use (old imports keep working, nothing heavy at import)
_LAZY: dict[str, str] = {
    "Explanation": "multidigit.explanation.api",
    "explain": "multidigit.explanation.api",
    "as_image_batch": "multidigit.explanation.api",
    "resolve_targets": "multidigit.explanation.api",
}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("api", "methods", "metrics", "registry", "testing")

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, _SUBMODULES)
