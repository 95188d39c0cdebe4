"""The figures of :meth:`multidigit.Explanation.plot`, one function per kind of result.

Each draws into ``ax`` (its area split into the grid of panels) or a new figure, and
returns the figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit._figures import canvas, set_title

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from multidigit.explanation.api import Explanation

__all__ = ["model_level", "per_head", "per_image"]


def _grid(ax: "Axes | None", n_rows: int, n_cols: int, size: float) -> Any:
    return canvas(ax, n_rows, n_cols, size=(size * n_cols, size * n_rows), layout=None)


def _grey(ex: "Explanation", n: int) -> np.ndarray:
    return ex.images[:n, ..., 0] if ex.images.shape[-1] == 1 else ex.images[:n]


def model_level(ex: "Explanation", size: float, ax: "Axes | None" = None) -> "Figure":
    """A grid of the model-level result (e.g. one panel per filter)."""
    m = np.asarray(ex.maps)
    m = m.reshape((-1,) + m.shape[-2:]) if m.ndim >= 2 else m.reshape(1, 1, -1)
    n = len(m)
    cols = int(min(8, n))
    c = _grid(ax, int(np.ceil(n / cols)), cols, size)
    for i, panel in enumerate(c.axes.flat):
        panel.set_axis_off()
        if i < n:
            panel.imshow(m[i], cmap="gray")
            panel.set_title(f"{i}", fontsize=8)
    set_title(c, ex.method)
    return c.figure


def per_head(ex: "Explanation", max_images: int, cmap: str, alpha: float,
             size: float, ax: "Axes | None" = None) -> "Figure":
    """Maps overlaid on the images: one row per image, one column per head."""
    n = min(len(ex.maps), max_images)
    imgs = _grey(ex, n)
    maps = ex.head_maps()[:n]
    grid = _grid(ax, n, maps.shape[1], size)
    for r in range(n):
        for c in range(maps.shape[1]):
            panel = grid.axes[r, c]
            panel.imshow(imgs[r], cmap="gray")
            panel.imshow(maps[r, c], cmap=cmap, alpha=alpha)
            panel.set_axis_off()
            title = ex.heads[c]
            if ex.targets is not None:
                title += f" -> {int(ex.targets[r, c])}"
            panel.set_title(title, fontsize=8)
    set_title(grid, ex.method)
    return grid.figure


def per_image(ex: "Explanation", max_images: int, max_channels: int, size: float,
              ax: "Axes | None" = None) -> "Figure":
    """The image, then the result or its first ``max_channels`` channels, per row."""
    n = min(len(ex.maps), max_images)
    imgs = _grey(ex, n)
    maps = np.asarray(ex.maps[:n])
    if maps.ndim == 3:
        maps = maps[:, None]
    elif maps.ndim > 4:
        maps = maps.reshape(maps.shape[:1] + (-1,) + maps.shape[-2:])
    maps = maps[:, :max_channels]
    cols = 1 + maps.shape[1]
    grid = _grid(ax, n, cols, size)
    axes = grid.axes
    for r in range(n):
        axes[r, 0].imshow(imgs[r], cmap="gray")
        axes[r, 0].set_title("image", fontsize=8)
        for c in range(maps.shape[1]):
            axes[r, c + 1].imshow(maps[r, c], cmap="gray" if cols == 2 else "viridis")
            axes[r, c + 1].set_title(ex.method if cols == 2 else f"ch {c}", fontsize=8)
        for panel in axes[r]:
            panel.set_axis_off()
    set_title(grid, ex.method)
    return grid.figure
