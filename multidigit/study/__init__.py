"""The whole study in one call: ``multidigit study`` / :func:`run_study`.

The stages (``data``, ``compare``, ``cross_validation``, ``tuning``, ``final``,
``explain``) are declared once, in :data:`STAGE_TABLE` (:mod:`multidigit.study.stage_table`):
order, dependencies, time weight, function and report section.  Each is saved as soon
as it finishes, so an interrupted run resumes from the last finished stage and loses
nothing.

The output folder holds ``report.html`` (one self-contained file, figures embedded,
rendered by :mod:`multidigit.study.report`), ``metrics.json`` (every number),
``model.keras``, ``figures/*.png``, ``stages/*.json``, the tuning project and the
marker ``.multidigit-study.json`` listing every file the study wrote
(:mod:`multidigit.study.folder`).  Files are written atomically.

Modules: :mod:`~multidigit.study.config` (settings), :mod:`~multidigit.study.folder`
(the output folder), :mod:`~multidigit.study.stage_table` (the stages),
:mod:`~multidigit.study.stages` (what each computes), :mod:`~multidigit.study.sections`
and :mod:`~multidigit.study.report` (the page), :mod:`~multidigit.study.runner`
(:func:`run_study`).  Names are imported on first use, so that the command line reads
the stage table without importing NumPy.

Examples
--------
>>> from multidigit.study import StudyConfig, STAGES
>>> STAGES[0], StudyConfig.make(quick=True).quick
('data', True)
"""

from __future__ import annotations

from multidigit._lazy import attach

# name -> sub-module that defines it
_LAZY: dict[str, str] = {
    "MARKER": "folder",
    "QUICK_SPACE": "config",
    "STAGES": "stage_table",
    "STAGE_TABLE": "stage_table",
    "STUDY_SMALL_SPACE": "config",
    "Stage": "stage_table",
    "StudyConfig": "config",
    "run_study": "runner",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
