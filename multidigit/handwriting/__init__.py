"""Handwritten digits prepared as MNIST prepared its digits: find, centre, thin or thicken."""

from __future__ import annotations

from multidigit._lazy import attach

# name -> module: the public names of the former module multidigit.handwriting,
# imported on first use (old imports keep working, nothing heavy at import)
_LAZY: dict[str, str] = {
    "prepare_handwriting": "multidigit.handwriting.prepare",
    "prepare_batch": "multidigit.handwriting.prepare",
    "PreparedInput": "multidigit.handwriting.prepare",
    "DigitCountError": "multidigit.handwriting.prepare",
}

#: public sub-modules, imported on first attribute access
_SUBMODULES = ("prepare",)

__getattr__, __dir__, __all__ = attach(__name__, _LAZY, _SUBMODULES)
