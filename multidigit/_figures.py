"""Where a figure is drawn: a new figure, or into the Axes the caller passed (``ax=``).

Every plot of multidigit takes ``ax=None`` and returns its figure, as scikit-learn's
displays do.  :func:`canvas` is the one rule: with ``ax=None`` a new
:class:`~matplotlib.figure.Figure` (no pyplot: no global state, no GUI backend); with
an Axes, a one-panel plot draws into it and a plot of several panels fills the Axes'
place with a sub-figure of its grid (like scikit-learn's ``PartialDependenceDisplay``
splits its ``ax``), titled with the plot's title; the Axes itself is turned off.

Examples
--------
>>> len(canvas(None, 1, 2, size=(6, 3)).figure.axes)
2
>>> from matplotlib.figure import Figure
>>> ax = Figure().subplots()
>>> c = canvas(ax, 2, 2, size=(6, 6))
>>> c.figure is ax.figure, c.axes.shape, len(c.axes[0, 0].figure.axes)
(True, (2, 2), 4)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from multidigit._param_validation import Check, fail

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["AX", "Canvas", "canvas", "check_ax", "set_title"]


class Canvas(NamedTuple):
    """A figure and the panels to draw in (see :func:`canvas`)."""

    #: the figure (new, or the one of the Axes passed)
    figure: "Figure"
    #: ``(nrows, ncols)`` array of Axes
    axes: np.ndarray
    #: the Axes the caller passed, else None
    frame: "Axes | None"
    #: the sub-figure of the panels, in the place of ``frame`` (several panels)
    sub: Any = None


def check_ax(ax: Any) -> None:
    """Check that ``ax`` is a matplotlib Axes or ``None`` (the ``ax=`` rule of every plot).

    The message names the public function called (see :func:`validate_params`).

    Examples
    --------
    >>> check_ax(None)
    >>> check_ax("left")
    Traceback (most recent call last):
    ...
    multidigit.errors.ParameterError: ax must be a matplotlib Axes (or None for a new figure); got 'str'.
    """
    if ax is None:
        return
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise fail("ax", "a matplotlib Axes (or None for a new figure)", type(ax).__name__)


#: the declared rule of ``ax=`` (with a value it refuses, for the generated tests)
AX = Check(check_ax, invalid="left")


def canvas(ax: Any, nrows: int = 1, ncols: int = 1, *, size: tuple[float, float],
           layout: str | None = "constrained") -> Canvas:
    """A new figure of ``nrows x ncols`` panels (``ax=None``), or panels in ``ax``.

    ``size`` and ``layout`` apply to a new figure only.  A one-panel plot draws into
    ``ax`` itself; several panels go into a sub-figure in ``ax``'s place (its subplot
    spec; an Axes placed by hand gets inset panels), and ``ax``'s frame is turned off.
    A sub-figure rather than panels in a nested grid: it has its own title, and
    constrained layout spaces both.
    """
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, layout=layout)
        return Canvas(fig, fig.subplots(nrows, ncols, squeeze=False), None)
    check_ax(ax)
    if nrows * ncols == 1:
        return Canvas(ax.figure, np.array([[ax]]), ax)
    ax.set_axis_off()
    spec = ax.get_subplotspec()
    if spec is not None:
        sub = ax.figure.add_subfigure(spec)
        return Canvas(ax.figure, sub.subplots(nrows, ncols, squeeze=False), ax, sub)
    # an Axes placed with fig.add_axes: panels inside it, in its own coordinates
    w, h = 1.0 / ncols, 1.0 / nrows
    panels = [[ax.inset_axes([c * w + 0.1 * w, 1 - (r + 1) * h + 0.1 * h, 0.8 * w, 0.8 * h])
               for c in range(ncols)] for r in range(nrows)]
    return Canvas(ax.figure, np.array(panels, dtype=object), ax)


def set_title(c: Canvas, text: str) -> None:
    """The plot's title: the suptitle of the new figure or of the sub-figure, else the
    title of the Axes passed (unless it is the plot's only panel and has a title)."""
    if c.frame is None or c.sub is not None:
        (c.sub or c.figure).suptitle(text)
    elif not c.frame.get_title() or c.axes.size > 1:
        c.frame.set_title(text)
