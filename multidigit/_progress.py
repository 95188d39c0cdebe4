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
from typing import Any

__all__ = ["progress_bar", "progress_columns"]


def progress_columns(description: str = "{task.description}", *extra: Any) -> tuple[Any, ...]:
    """The columns of every multidigit bar: ``description``, the bar, done / total,
    time elapsed and time remaining, then ``extra`` columns (rich ``ProgressColumn``).

    Examples
    --------
    >>> len(progress_columns())
    5
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return (TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), *extra)


@contextmanager
def progress_bar(enabled: bool, description: str, total: int | None,
                 transient: bool = False) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``: a rich bar when ``enabled``, a no-op otherwise."""
    if not enabled:
        yield lambda n=1: None
        return
    from rich.progress import Progress

    with Progress(*progress_columns(), transient=transient) as p:
        task = p.add_task(description, total=total)
        yield lambda n=1: p.advance(task, n)
