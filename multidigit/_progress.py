"""The package's one progress display (rich): a bar over items, or nothing.

rich draws in a terminal and in Jupyter alike, so the same code serves both.

Examples
--------
>>> with progress_bar(False, "folds", total=5) as advance:
...     advance(1)   # a no-op when disabled
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(enabled: bool, description: str, total: int | None,
                 transient: bool = False) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``: a rich bar when ``enabled``, a no-op otherwise."""
    if not enabled:
        yield lambda n=1: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), transient=transient) as p:
        task = p.add_task(description, total=total)
        yield lambda n=1: p.advance(task, n)
