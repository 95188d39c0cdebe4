"""The trial table as rich draws it, readable at any width (80-column terminal, log file).

A table with one column per hyperparameter is the easiest to read, but with the
``"wide"`` space it needs some 150 columns and rich would squeeze every header to
``tri…``.  :class:`TrialTable` therefore picks its layout when it is drawn: one
column per hyperparameter when that fits the console, otherwise all hyperparameters
in one wrapped ``hyperparameters`` column.  Short fixed columns never wrap.
"""

from __future__ import annotations

from typing import Any

from multidigit.tuning.tuner import direction_of

__all__ = ["TrialTable", "fmt"]

_STYLE = {"COMPLETED": "green", "RUNNING": "yellow", "FAILED": "red", "INVALID": "red"}
_STATUS = {"COMPLETED": "done", "RUNNING": "running", "FAILED": "failed", "INVALID": "invalid"}


def fmt(v: Any) -> str:
    """A hyperparameter value, short: floats with 3 significant digits."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


class TrialTable:
    """A rich renderable of the trials that fits the console it is printed on.

    Examples
    --------
    >>> import io
    >>> from rich.console import Console
    >>> rows = [{"trial_id": "0", "hyperparameters": {"conv_1": 8}, "score": 0.5,
    ...          "epochs": 1, "seconds": 2.0, "status": "COMPLETED", "worker": "tuner0"}]
    >>> console = Console(width=80, file=io.StringIO())
    >>> console.print(TrialTable(rows, "val_loss", title="random search"))
    """

    def __init__(self, rows: list[dict[str, Any]], objective: str,
                 title: str | None = None, show_worker: bool | None = None) -> None:
        self.rows = rows
        self.objective = objective
        self.title = title
        workers = {r.get("worker") for r in rows} - {None}
        # by default only a search run by several workers needs the column
        self.show_worker = len(workers) > 1 if show_worker is None else show_worker

    def __rich_console__(self, console: Any, options: Any):
        from rich.measure import Measurement

        wide = self.build(compact=False)
        # measured unbounded: rich clamps a measurement to the width it is given
        needed = Measurement.get(console, options.update(max_width=10_000), wide).minimum
        if needed <= options.max_width:
            yield wide
        else:
            yield self.build(compact=True)

    def build(self, compact: bool):
        """The :class:`rich.table.Table`: one column per hyperparameter, or one for all."""
        from rich.table import Table

        names: list[str] = []
        for r in self.rows:
            names += [n for n in r["hyperparameters"] if n not in names]
        table = Table(title=self.title, caption=f"score: {self.objective}, "
                      f"{'higher' if direction_of(self.objective) == 'max' else 'lower'} "
                      "is better", caption_justify="left")
        fixed = ["trial"] + (["worker"] if self.show_worker else []) + [
            "status", "score", "epochs", "sec"]
        for col in fixed:
            table.add_column(col, no_wrap=True, min_width=len(col),
                             justify="left" if col in ("trial", "status", "worker") else "right")
        for col in (["hyperparameters"] if compact else names):
            table.add_column(col, justify="left" if compact else "right",
                             no_wrap=not compact, min_width=len(col), overflow="fold")
        for r in self.rows:
            table.add_row(*self._cells(r, fixed, names, compact),
                          style="bold" if self._is_best(r) else None)
        return table

    def _cells(self, r: dict[str, Any], fixed: list[str], names: list[str],
               compact: bool) -> list[str]:
        s = r["score"]
        values = {
            "trial": str(r["trial_id"]),
            "worker": r.get("worker") or "",
            "status": f"[{_STYLE.get(r['status'], '')}]"
                      f"{_STATUS.get(r['status'], r['status'].lower())}[/]",
            "score": "" if s is None else f"{s:.4g}",
            "epochs": str(r["epochs"] or ""),
            "sec": "" if r.get("seconds") is None else f"{r['seconds']:.1f}",
        }
        hps = r["hyperparameters"]
        if compact:
            tail = [" ".join(f"{n}={fmt(hps[n])}" for n in names if n in hps)]
        else:
            tail = [fmt(hps.get(n)) for n in names]
        return [values[c] for c in fixed] + tail

    def _is_best(self, r: dict[str, Any]) -> bool:
        scores = [x["score"] for x in self.rows if x["score"] is not None]
        if r["score"] is None or not scores:
            return False
        best = max(scores) if direction_of(self.objective) == "max" else min(scores)
        return r["score"] == best
