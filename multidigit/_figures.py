"""Where a figure is drawn: a new figure, or into the Axes the caller passed (``ax=``).

Every plot of multidigit takes ``ax=None`` and returns its figure, as scikit-learn's
displays do.  :func:`canvas` is the one rule: with ``ax=None`` a new
:class:`~matplotlib.figure.Figure` (no pyplot: no global state, no GUI backend); with
an Axes, a one-panel plot draws into it and a plot of several panels splits the Axes'
area into its grid (like scikit-learn's ``PartialDependenceDisplay``), the Axes then
keeping only the plot's title.

Examples
--------
>>> len(canvas(None, 1, 2, size=(6, 3)).figure.axes)
2
>>> from matplotlib.figure import Figure
>>> ax = Figure().subplots()
>>> c = canvas(ax, 2, 2, size=(6, 6))
>>> c.figure is ax.figure, c.axes.shape, len(ax.figure.axes)
(True, (2, 2), 5)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ._param_validation import fail

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Canvas", "canvas", "set_title"]


class Canvas(NamedTuple):
    """A figure and the panels to draw in (see :func:`canvas`)."""

    #: the figure (new, or the one of the Axes passed)
    figure: "Figure"
    #: ``(nrows, ncols)`` array of Axes
    axes: np.ndarray
    #: the Axes the caller passed, else None
    frame: "Axes | None"


def canvas(ax: Any, nrows: int = 1, ncols: int = 1, *, size: tuple[float, float],
           layout: str | None = "constrained", func: str = "plot") -> Canvas:
    """A new figure of ``nrows x ncols`` panels (``ax=None``), or panels in ``ax``.

    ``size`` and ``layout`` apply to a new figure only.  A one-panel plot draws into
    ``ax`` itself; several panels split ``ax``'s area (its subplot spec; an Axes
    placed by hand gets inset panels) and turn its own frame off.
    """
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, layout=layout)
        return Canvas(fig, fig.subplots(nrows, ncols, squeeze=False), None)
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise fail("ax", "a matplotlib Axes (or None for a new figure)",
                   type(ax).__name__, func)
    if nrows * ncols == 1:
        return Canvas(ax.figure, np.array([[ax]]), ax)
    ax.set_axis_off()
    spec = ax.get_subplotspec()
    if spec is not None:
        grid = spec.subgridspec(nrows, ncols)
        panels = [[ax.figure.add_subplot(grid[r, c]) for c in range(ncols)]
                  for r in range(nrows)]
    else:  # an Axes placed with fig.add_axes: panels inside it, in its own coordinates
        w, h = 1.0 / ncols, 1.0 / nrows
        panels = [[ax.inset_axes([c * w + 0.1 * w, 1 - (r + 1) * h + 0.1 * h,
                                  0.8 * w, 0.8 * h]) for c in range(ncols)]
                  for r in range(nrows)]
    return Canvas(ax.figure, np.array(panels, dtype=object), ax)


def set_title(c: Canvas, text: str) -> None:
    """The plot's title: the new figure's suptitle, else the title of the Axes passed
    (unless that Axes, being the plot's only panel, has its own title already)."""
    if c.frame is None:
        c.figure.suptitle(text)
    elif not c.frame.get_title() or c.axes.size > 1:
        c.frame.set_title(text)
