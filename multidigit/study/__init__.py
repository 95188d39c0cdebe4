"""The whole study in one call: ``multidigit study`` / :func:`run_study`.

Stages, each saved as soon as it finishes (so an interrupted run resumes from the
last finished stage and loses nothing): ``data``, ``compare``, ``cross_validation``,
``tuning``, ``final``, ``explain`` (see :mod:`multidigit.study.stages`).

The output folder holds ``report.html`` (one self-contained file, figures embedded,
rendered by :mod:`multidigit.study.report`), ``metrics.json`` (every number),
``model.keras``, ``figures/*.png``, ``stages/*.json``, the tuning project and the
marker ``.multidigit-study.json`` listing every file the study wrote
(:mod:`multidigit.study.folder`).  Files are written atomically.

Modules: :mod:`~multidigit.study.config` (settings), :mod:`~multidigit.study.folder`
(the output folder), :mod:`~multidigit.study.stages`, :mod:`~multidigit.study.report`,
:mod:`~multidigit.study.runner` (:func:`run_study`).

Examples
--------
>>> from multidigit.study import StudyConfig, STAGES
>>> STAGES[0], StudyConfig.make(quick=True).quick
('data', True)
"""

from __future__ import annotations

from .config import QUICK_SPACE, STAGES, STUDY_SMALL_SPACE, StudyConfig
from .folder import MARKER
from .runner import run_study

__all__ = [
           "MARKER",
           "QUICK_SPACE",
           "STAGES",
           "STUDY_SMALL_SPACE",
           "StudyConfig",
           "run_study",
]
