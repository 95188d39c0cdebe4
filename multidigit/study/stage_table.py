"""The table of study stages: the one place a stage is declared.

:data:`STAGE_TABLE` lists the stages in the order they run.  Every other part of the
study reads it: :func:`~multidigit.study.run_study` runs one loop over it (resume,
progress, ``stages/NAME.json``), its time estimate reads the weights, the report
draws one section per row, and ``multidigit study --help`` lists the names.

Adding a stage takes one row here plus its function (in
:mod:`multidigit.study.stages`, or any callable): the report then shows it as a
numbered section with its figures; a section of its own needs a builder in
:mod:`multidigit.study.sections` and a macro of the same name in
``templates/sections.html.j2``.

Examples
--------
>>> [s.name for s in STAGE_TABLE][:2]
['data', 'compare']
>>> by_name("final").needs
('compare', 'tuning')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["STAGES", "STAGE_TABLE", "Stage", "by_name", "check_table"]


@dataclass(frozen=True)
class Stage:
    """One row of the stage table.

    The runner calls the function as ``function(run, data, *inputs)``, plus
    ``progress`` as the last argument when ``progress`` is set: ``run`` is the
    :class:`~multidigit.study.folder.StudyFolder`, ``data`` the whole dataset or its
    experiment part (``data``), and each input the saved result of an earlier stage
    (``"tuning"``) or one key of it (``"compare.best"``).  It returns a JSON-ready
    dict, saved as ``stages/NAME.json`` as soon as it ends.

    Parameters
    ----------
    name : str
        Key of the stage: its file ``stages/NAME.json``, its entry in
        ``metrics.json``, its paragraph in the report.
    title : str
        Heading of its report section.
    weight : float
        Rough share of the run's time, for the time estimate (normalised over the
        table).
    function : str or callable
        The name of a function of :mod:`multidigit.study.stages` (looked up when the
        stage runs, so that a test can replace it) or a callable.
    needs : tuple of str
        Earlier stages whose outputs it reads: their saved results (``inputs``) or
        their files (``explain`` loads the model ``final`` saved).
    inputs : tuple of str
        The arguments after ``data``: ``"STAGE"`` or ``"STAGE.KEY"``, STAGE in ``needs``.
    data : {"all", "experiment"}
        The whole dataset, or the first images of each label combination that the
        experiments rank settings on (``StudyConfig.experiment_images_per_class``).
    progress : bool
        Pass the run's ``progress`` flag as the last argument.
    section : str
        The report section it fills: a builder in :mod:`multidigit.study.sections` and
        a macro in ``templates/sections.html.j2`` of this name; ``"generic"`` shows
        the stage's figures.
    writes : tuple of str
        Files and folders it writes besides its result and figures.
    fingerprint : bool
        Its result keeps a hash of the data; resuming on other data is refused.

    Examples
    --------
    >>> Stage("noise", "Noise", 0.01, "stage_noise", needs=("final",)).data
    'all'
    """

    name: str
    title: str
    weight: float
    function: str | Callable[..., dict[str, Any]]
    needs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    data: str = "all"
    progress: bool = False
    section: str = "generic"
    writes: tuple[str, ...] = ()
    fingerprint: bool = False

    def __post_init__(self) -> None:
        if self.data not in ("all", "experiment"):
            raise ValueError(f"stage {self.name!r}: data is 'all' or 'experiment', "
                             f"not {self.data!r}")
        for item in self.inputs:
            if item.split(".")[0] not in self.needs:
                raise ValueError(f"stage {self.name!r} reads {item!r}: add "
                                 f"{item.split('.')[0]!r} to its needs")
        if not self.weight >= 0:
            raise ValueError(f"stage {self.name!r}: weight must be >= 0, not {self.weight!r}")


#: The stages of a study, in the order they run.  Weights: each stage's share of the
#: default run (2026-12-04, benchmarks/README.md, "The study on both instruction sets";
#: the cross-validation reuses the comparison's run with the default settings).
STAGE_TABLE: tuple[Stage, ...] = (
    Stage("data", "Data", 0.01, "stage_data", section="data", fingerprint=True),
    Stage("compare", "Output activation x loss", 0.29, "stage_compare",
          data="experiment", progress=True, section="compare"),
    Stage("cross_validation", "Cross-validation of the chosen combination", 0.02,
          "stage_cv", needs=("compare",), inputs=("compare",), data="experiment",
          progress=True, section="cross_validation"),
    Stage("tuning", "Tuning", 0.10, "stage_tuning", needs=("compare",),
          inputs=("compare.best",), data="experiment", progress=True, section="tuning",
          writes=("tuning/",)),
    Stage("final", "Final model: trained on train + validation, evaluated once on test",
          0.50, "stage_final", needs=("compare", "tuning"),
          inputs=("compare.best", "tuning"), progress=True, section="final",
          writes=("model.keras",)),
    Stage("explain", "Explanations of test images", 0.08, "stage_explain",
          needs=("final",), section="explain"),
)

#: The names of the stages, in the order they run (read from :data:`STAGE_TABLE`).
STAGES: tuple[str, ...] = tuple(s.name for s in STAGE_TABLE)


def check_table(table: Sequence[Stage]) -> None:
    """Raise ``ValueError`` unless names are unique and every stage needs earlier ones.

    Examples
    --------
    >>> check_table(STAGE_TABLE)
    >>> check_table(STAGE_TABLE[::-1])
    Traceback (most recent call last):
    ...
    ValueError: stage 'explain' needs 'final' before it; move it after that stage in the table
    """
    seen: set[str] = set()
    for stage in table:
        if stage.name in seen:
            raise ValueError(f"two stages are named {stage.name!r}")
        for need in stage.needs:
            if need not in seen:
                raise ValueError(f"stage {stage.name!r} needs {need!r} before it; "
                                 "move it after that stage in the table")
        seen.add(stage.name)


def by_name(name: str, table: Sequence[Stage] | None = None) -> Stage:
    """The row of the stage called ``name`` (``KeyError`` if there is none)."""
    for stage in STAGE_TABLE if table is None else table:
        if stage.name == name:
            return stage
    raise KeyError(name)
