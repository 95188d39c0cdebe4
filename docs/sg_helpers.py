"""Helpers of the sphinx-gallery configuration, referred to by name from conf.py (so
the configuration stays picklable and incremental builds work)."""

from __future__ import annotations

from typing import Any

# Figures already shown in the current example, kept alive so ids are not reused.
_SHOWN: dict[int, Any] = {}


def reset_example(gallery_conf, fname):
    """Start every gallery example from a clean Keras session (layer names, memory)
    and forget the figures shown by the previous example."""
    import logging

    _SHOWN.clear()
    # TensorFlow's retracing notices are for library authors, not for readers.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import keras
    except ImportError:  # pragma: no cover - keras always comes with multidigit
        return
    keras.backend.clear_session()


def figure_scraper(block, block_vars, gallery_conf, **kwargs):
    """Show the bare :class:`matplotlib.figure.Figure` objects an example made.

    multidigit's plotting functions build figures with ``Figure()`` rather than
    pyplot (no global state), so sphinx-gallery's matplotlib scraper, which only sees
    pyplot figures, would miss them.  After each code block, every *new* Figure held
    by a global variable of the example is saved and shown.  Figures managed by
    pyplot are left to the matplotlib scraper.
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    image_paths = []
    for value in list(block_vars["example_globals"].values()):
        if not isinstance(value, Figure) or id(value) in _SHOWN:
            continue
        if getattr(value.canvas, "manager", None) is not None:
            continue  # a pyplot figure: the matplotlib scraper shows it
        _SHOWN[id(value)] = value
        path = next(block_vars["image_path_iterator"])
        value.savefig(path, dpi=kwargs.get("dpi", 96))
        image_paths.append(path)
    return figure_rst(image_paths, gallery_conf["src_dir"])
