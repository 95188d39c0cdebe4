"""The study driver: :func:`run_study` runs one loop over the stage table
(:data:`~multidigit.study.stage_table.STAGE_TABLE`), resuming finished stages."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from multidigit import _defaults as D
from multidigit._param_validation import Body, Bool, Int, fail, validate_params
from multidigit.errors import MultidigitError
from multidigit.study import stage_table as T
from multidigit.study import stages as S
from multidigit.study.config import StudyConfig
from multidigit.study.folder import StudyFolder, json_text
from multidigit.study.report import pct, render_report
from multidigit.study.stage_table import Stage

__all__ = ["run_study"]


def _check_arguments(data: Any, out: Any, config: Any) -> None:
    """The checks of run_study's ``Body`` rules (the others are declared)."""
    if not isinstance(data, (str, os.PathLike)):
        raise fail("data", "'mini', a folder path or 'hf://owner/name'", data)
    if not isinstance(out, (str, os.PathLike)) or not str(out):
        raise fail("out", "a folder path (str or os.PathLike)", out)
    if config is not None and not isinstance(config, StudyConfig):
        raise fail("config", "a StudyConfig or None", config)


def _use_agg_backend() -> None:
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
        matplotlib.use("Agg")


class _Inputs:
    """What the stages read: the dataset, its experiment part, earlier results."""

    def __init__(self, run: StudyFolder, ds: Any, results: dict[str, Any]) -> None:
        self.run, self.ds, self.results = run, ds, results
        self._cut: list[Any] = []

    def data(self, kind: str) -> Any:
        """compare, CV and tuning rank settings on a part of the data; final uses all
        of it.  Cut on first use (and once): a resumed study whose experiments are
        finished never copies the images."""
        if kind == "all":
            return self.ds
        if not self._cut:
            self._cut.append(S.experiment_data(self.ds,
                                               self.run.config.experiment_images_per_class))
        return self._cut[0]

    def value(self, item: str) -> Any:
        """``"STAGE"``: a saved result; ``"STAGE.KEY"``: one key of it."""
        stage, _, key = item.partition(".")
        return self.results[stage][key] if key else self.results[stage]


def _function(stage: Stage) -> Callable[..., dict[str, Any]]:
    """A stage's function; a name is looked up in :mod:`.stages` when the stage runs."""
    if callable(stage.function):
        return stage.function
    return getattr(S, stage.function)


def _steps(run: StudyFolder, ds: Any, results: dict[str, Any],
           progress: bool) -> list[tuple[str, Callable[[], dict[str, Any]]]]:
    """One call per row of the stage table, each reading what its row declares."""
    inputs = _Inputs(run, ds, results)

    def call(stage: Stage) -> dict[str, Any]:
        args = [inputs.value(item) for item in stage.inputs]
        if stage.progress:
            args.append(progress)
        return _function(stage)(run, inputs.data(stage.data), *args)

    return [(stage.name, partial(call, stage)) for stage in T.STAGE_TABLE]


def _check_same_data(run: StudyFolder, cached: dict[str, Any], fingerprint: str) -> None:
    """Finished stages are reused only if they were computed on the same data."""
    old = cached.get("fingerprint")
    if old is not None and old != fingerprint:
        raise MultidigitError(
            f"the data of {str(run.out)!r} changed since its finished stages were computed "
            f"(--data {run.config.data!r} now holds other images or labels); pass --restart "
            "to start the study again on the new data, or choose another --out folder."
        )


def _run_stages(run: StudyFolder, ds: Any, progress: bool) -> dict[str, Any]:
    """Run every stage not yet finished, in the table's order; a finished one is read
    back from its file."""
    table = T.STAGE_TABLE
    T.check_table(table)
    results: dict[str, Any] = {}
    steps = _steps(run, ds, results, progress)
    fingerprint = S.data_fingerprint(ds)
    total = sum(stage.weight for stage in table) or 1.0
    for i, (stage, (name, fn)) in enumerate(zip(table, steps), start=1):
        cached = run.load(name)
        if cached is not None and stage.fingerprint:
            _check_same_data(run, cached, fingerprint)
        if cached is not None:
            results[name] = cached
            run.done_weight += stage.weight / total
            run.say(f"[dim]stage {i}/{len(steps)} {name}: already done, resumed[/dim]")
            continue
        run.say(f"[bold cyan]stage {i}/{len(steps)}: {name}[/bold cyan]  ({run.eta()})")
        t = time.perf_counter()
        res = fn()
        res["seconds"] = time.perf_counter() - t
        if stage.fingerprint:
            res["fingerprint"] = fingerprint
        run.save(name, res)
        results[name] = res
        run.done_weight += stage.weight / total
        run.say(f"[green]stage {name} done[/green] in {res['seconds']:.0f}s  ({run.eta()})")
    return results


def _summary(run: StudyFolder, fin: dict[str, Any]) -> None:
    """The result in a narrow two-column table: readable at 80 columns and in a log."""
    if run.console is None:
        return
    from rich.table import Table

    table = Table(title="multidigit study: test split", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("per-digit accuracy", pct(fin["mean_digit_accuracy"]))
    table.add_row("whole-number accuracy", pct(fin["whole_accuracy"]))
    table.add_row("by position", ", ".join(pct(a) for a in fin["digit_accuracy"]))
    run.console.print(table)
    run.say(f"[bold green]report[/bold green]: {run.out / 'report.html'}")


@validate_params({
    "data": Body("'mini', a folder path or 'hf://owner/name'"),
    "out": Body("a folder path"),
    "quick": Bool(),
    "seed": Int(min=0),
    "full_tuning": Bool(),
    "restart": Bool(),
    "progress": Bool(),
    "config": Body("a StudyConfig or None"),
})
def run_study(
    data: str | os.PathLike[str] = "mini",
    out: str | os.PathLike[str] = D.STUDY_FOLDER,
    *,
    quick: bool = False,
    seed: int = D.SEED,
    full_tuning: bool = False,
    restart: bool = False,
    progress: bool = False,
    config: StudyConfig | None = None,
) -> dict[str, Any]:
    """Run the whole study and write ``report.html`` and ``metrics.json`` into ``out``.

    Parameters
    ----------
    data : str
        ``"mini"`` (offline default), a folder path or ``"hf://owner/name"``.
    out : path
        Output folder: new, empty, or written by an earlier study (any other folder is
        refused, so that no file of yours is overwritten).  Running again with the
        same folder and settings resumes after the last finished stage; other
        settings in the same folder are an error unless ``restart``.
    quick : bool
        Tiny settings (CI and tests; minutes, accuracy far from the default run).
    seed : int
        Seed of data and models.
    full_tuning : bool
        Run the study's own search (20 trials x 20 epochs): hours on a CPU.
    restart : bool
        Delete what the study wrote in ``out`` before (stage results, figures, model,
        report and its tuning project; nothing else) and start afresh.
    progress : bool
        Show stages, epochs and trials with rich, with a time estimate.
    config : StudyConfig, optional
        Explicit settings (``data``, ``seed``, ``quick`` and ``full_tuning`` are then
        ignored).

    Returns
    -------
    dict
        The content of ``metrics.json``.

    Raises
    ------
    ParameterError
        A bad argument.
    DataError
        ``out`` is a file, a folder of other files, or holds an unreadable study file.
    MultidigitError
        ``out`` holds a study run with other settings, or its finished stages were
        computed on other data (a hash of the images and labels is kept), and
        ``restart`` is not set.

    Examples
    --------
    >>> from multidigit.study import run_study
    >>> metrics = run_study(out="study", quick=True)           # doctest: +SKIP
    >>> metrics["stages"]["final"]["test"]["mean_digit_accuracy"]  # doctest: +SKIP
    """
    _check_arguments(data, out, config)
    _use_agg_backend()
    console = None
    if progress:
        from rich.console import Console

        console = Console(stderr=True)
    cfg = config or StudyConfig.make(data=str(data), seed=seed, quick=quick,
                                     full_tuning=full_tuning)
    run = StudyFolder(Path(out).expanduser(), cfg, restart, console)
    results = _run_stages(run, S.load_data(cfg), progress)
    metrics = {
        "config": cfg.to_dict(),
        "seconds": sum(float(r.get("seconds", 0.0)) for r in results.values()),
        "final": {"test": results["final"]["test"]},
        "stages": results,
    }
    run.write_text("metrics.json", json_text(metrics))
    run.write_text("report.html", render_report(cfg, metrics, run.fig_dir))
    _summary(run, results["final"]["test"])
    return metrics
