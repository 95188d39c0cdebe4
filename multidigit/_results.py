"""What every result dataclass shares: ``to_dict`` (JSON-ready) and notebook HTML.

``to_jsonable`` is the package's one JSON helper; result classes inherit
:class:`Result` and get ``to_dict`` from :func:`dataclasses.asdict`, and a compact
``_repr_html_`` table that Jupyter shows.  A class that needs more (a figure, a few
derived numbers) overrides ``_html_rows`` or ``_repr_html_``.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["to_jsonable", "Result", "html_table", "figure_html"]


def to_jsonable(obj: Any) -> Any:
    """Turn numpy scalars / arrays, paths, tuples and dataclasses into plain JSON types.

    Examples
    --------
    >>> to_jsonable({"a": np.float32(0.5), "b": np.arange(2), "c": (Path("x"),)})
    {'a': 0.5, 'b': [0, 1], 'c': ['x']}
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)  # nested dataclasses, lists and dicts included
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _cell(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isfinite(v) and 0 <= abs(v) <= 1:
            return f"{v:.4f}"
        return f"{v:.4g}"
    return html.escape(str(v))


def html_table(rows: list[list[Any]], header: list[str] | None = None,
               caption: str | None = None) -> str:
    """A small escaped HTML table (for ``_repr_html_``).

    Examples
    --------
    >>> html_table([["acc", 0.5]], ["metric", "value"])[:7]
    '<table>'
    """
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    if header:
        parts.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
                     + "</tr>")
    for r in rows:
        parts.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


def figure_html(fig: Any) -> str:
    """A matplotlib figure as an inline ``<img>`` (PNG, base64); closes the figure."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}"/>'


class Result:
    """Mixin for result dataclasses: ``to_dict`` and ``_repr_html_``."""

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON-ready Python (numpy arrays become lists)."""
        return to_jsonable(self)

    def _html_rows(self) -> list[list[Any]]:
        """Rows of the notebook table: scalar fields by default."""
        rows = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, (int, float, str, bool, np.number)) or v is None:
                rows.append([f.name, v])
        return rows

    def _repr_html_(self) -> str:
        return html_table(self._html_rows(), ["", ""], caption=type(self).__name__)
