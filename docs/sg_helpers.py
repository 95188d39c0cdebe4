"""Helpers of the sphinx-gallery configuration (importable by name, so the
configuration stays picklable and incremental builds work)."""

from __future__ import annotations


def reset_keras(gallery_conf, fname):
    """Start every gallery example from a clean Keras session (layer names, memory)."""
    try:
        import keras
    except ImportError:  # pragma: no cover - keras always comes with multidigit
        return
    keras.backend.clear_session()
