"""Sphinx configuration of the multidigit documentation.

Build it (from the repository root) with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery (``examples/plot_*.py``) runs every example in *full* mode by default:
the mini dataset at its native 84x84, the default model and training recipe, the
budgets of ``multidigit study``, so the pages show measured results (several minutes
on a CPU, most of them training the final model).  The final-evaluation
example saves its trained model under ``<cache>/gallery/`` (``$MULTIDIGIT_CACHE``,
else ``~/.cache/multidigit``); the explainer examples load it from there instead of
training it again.

For quick local edits, build with ``MULTIDIGIT_FAST=1``: tiny data at 28x28, one to
three epochs, tiny searches (the code paths are the same, the numbers are chance).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# The package is normally installed (pip install -e ".[docs]"); fall back to the
# checkout so autodoc also works from a bare clone.
sys.path.insert(0, str(ROOT))

# Full-mode gallery by default (measured results); MULTIDIGIT_FAST=1 is the quick mode.
os.environ.setdefault("MULTIDIGIT_FAST", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import multidigit  # noqa: E402

# -- Project information -----------------------------------------------------------
project = "multidigit"
author = "The multidigit developers"
copyright = "The multidigit developers, MIT licence"
release = multidigit.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "code"  # `x` renders as code, like in Markdown
nitpicky = False

# autodoc / autosummary: one page per public name, generated at build time into
# gen_modules/ (ignored by git).
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
autodoc_member_order = "bysource"
# The NumPy docstrings give every type; annotations would repeat them.
autodoc_typehints = "none"
autodoc_typehints_format = "short"
autoclass_content = "class"
# TensorFlow is heavy but needed anyway by the gallery; mock nothing.

# napoleon: NumPy-style docstrings only.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = False
# Dataclass attributes documented in "Attributes" sections would otherwise be
# documented twice (once by napoleon, once by autodoc): duplicate object warnings.
napoleon_use_admonition_for_examples = False
# Explainer classes document their keyword options in an "Options" section.
napoleon_custom_sections = [("Options", "params_style")]

# No network during the build: no intersphinx.
intersphinx_mapping: dict = {}


# -- sphinx-gallery ----------------------------------------------------------------
# Helpers are referred to by name (docs/sg_helpers.py) so the config stays picklable.
sys.path.insert(0, str(HERE))

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"occlusion_plugin",
    "abort_on_example_error": True,
    "download_all_examples": True,
    "reset_modules": ("matplotlib", "sg_helpers.reset_example"),
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("multidigit",),
    "remove_config_comments": True,
    # multidigit plots are bare Figure objects: see sg_helpers.figure_scraper.
    "image_scrapers": ("matplotlib", "sg_helpers.figure_scraper"),
    "matplotlib_animations": False,
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML output ---------------------------------------------------------------------
html_theme = "furo"
html_title = f"multidigit {release}"
html_static_path: list[str] = []
html_show_sourcelink = True
html_theme_options = {
    "navigation_with_keys": True,
}

# sphinx-gallery's time tables are informative only.
# Type fields such as "ndarray, shape (N, n_digits)" are cross-referenced word by word;
# names shared by several classes (n_digits, images, labels) are then ambiguous.
suppress_warnings = ["ref.python"]


# -- The changelog -----------------------------------------------------------------
_CHANGELOG = ROOT / "CHANGELOG.md"


def _changelog_source(app, docname, source):
    """Include ../CHANGELOG.md verbatim; say so plainly if it is missing.

    The changelog is Markdown; a literal include avoids a Markdown parser dependency.
    """
    if docname != "changelog" or _CHANGELOG.exists():
        return
    source[0] = source[0].replace(
        ".. literalinclude:: ../CHANGELOG.md\n   :language: markdown\n",
        "*No CHANGELOG.md was found beside the documentation.*\n",
    )


# -- Constants -----------------------------------------------------------------------
def _constant_docstring(app, what, name, obj, options, lines):
    """Constants (dicts, tuples) have no docstring of their own: autodoc would show the
    docstring of ``dict``.  Replace it with a plain listing of the keys."""
    if what not in ("data", "attribute") or not isinstance(obj, (dict, tuple, list)):
        return
    type_doc = (type(obj).__doc__ or "").strip().splitlines()
    if lines and type_doc and lines[0].strip() != type_doc[0].strip():
        return  # documented by a ``#:`` comment: keep it
    lines.clear()
    if isinstance(obj, dict):
        lines.append(f"A dict with keys {', '.join(f'``{k}``' for k in obj)}.")
        described = {k: getattr(v, "description", None) for k, v in obj.items()}
        if any(described.values()):
            lines.append("")
            for key, text in described.items():
                if text:
                    lines.extend([f"``{key}``", f"   {text}"])
    else:
        lines.append(f"``{obj!r}``")


def setup(app):
    app.connect("source-read", _changelog_source)
    app.connect("autodoc-process-docstring", _constant_docstring)
