"""A model's architecture without Graphviz: a layer table and a matplotlib block diagram.

:func:`multidigit.plots.plot_model` draws Keras' own layer graph but needs Graphviz's
``dot`` program; :func:`layer_table` and :func:`plot_architecture` need nothing beyond
Keras and matplotlib, so the study report can always show the network.  The diagram
merges each chain of one-input, one-output layers into one box (a conv block is
``conv_k, bn_k, pool_k, drop_k``), and draws parallel branches (the three digit
strips, the three heads) side by side.

Examples
--------
>>> import multidigit as md
>>> model = md.build_model(input_shape=(28, 84, 1), preset="small")
>>> rows = layer_table(model)
>>> rows[0]["name"], rows[-1]["name"]
('image', 'digit_2')
>>> fig = plot_architecture(model)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from multidigit._figures import AX
from multidigit._param_validation import Check, fail, validate_params

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["layer_table", "plot_architecture"]


def _check_model(model: Any) -> None:
    import keras

    if not isinstance(model, keras.Model):
        raise fail("model", "a built Keras functional model (e.g. md.build_model())",
                   type(model).__name__)


def _calls(layer: Any) -> list[tuple[list[str], tuple[Any, ...]]]:
    """Each call of ``layer`` in the graph: (names of the layers it reads, output shape).

    Keras 3 keeps a layer's calls in ``_inbound_nodes`` (a shared layer has one per
    call); there is no public accessor for the parents of a call.
    """
    calls = []
    for node in getattr(layer, "_inbound_nodes", []):
        parents = [p.operation.name for p in node.parent_nodes]
        outputs = node.outputs
        shape = tuple(outputs[0].shape) if outputs else ()
        calls.append((parents, shape))
    return calls


def _shape_text(shape: tuple[Any, ...]) -> str:
    return "x".join(str(d) for d in shape[1:])


@validate_params({"model": Check(_check_model, invalid="not a model")})
def layer_table(model: keras.Model) -> list[dict[str, Any]]:
    """One row per layer: ``name``, ``type``, ``output`` shape, ``params``, ``inputs``.

    Parameters
    ----------
    model : keras.Model
        A functional model (what :func:`multidigit.build_model` returns).

    Returns
    -------
    list of dict
        In the model's layer order.  ``output`` is the shape without the batch
        dimension (``"28x84x32"``); a layer applied ``n`` times (shared weights)
        reads ``"3 x 256"``; ``inputs`` lists the layers it reads.

    Examples
    --------
    >>> import multidigit as md
    >>> rows = layer_table(md.build_model(input_shape=(28, 84, 1), preset="small"))
    >>> rows[0]
    {'name': 'image', 'type': 'InputLayer', 'output': '28x84x1', 'params': 0, 'inputs': []}
    """
    rows = []
    for layer in model.layers:
        calls = _calls(layer)
        shapes = {_shape_text(s) for _, s in calls}
        out = shapes.pop() if len(shapes) == 1 else ", ".join(sorted(shapes))
        if len(calls) > 1:
            out = f"{len(calls)} x {out}"
        inputs = list(dict.fromkeys(p for parents, _ in calls for p in parents))
        rows.append({"name": layer.name, "type": type(layer).__name__, "output": out,
                     "params": int(layer.count_params()), "inputs": inputs})
    return rows


def _blocks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Chains of layers drawn as one box: a layer joins its only parent's box when that
    parent feeds nothing else and the layer does not start a conv or dense block."""
    children: dict[str, list[str]] = {r["name"]: [] for r in rows}
    for r in rows:
        for p in r["inputs"]:
            children[p].append(r["name"])
    box_of: dict[str, int] = {}
    boxes: list[list[dict[str, Any]]] = []
    for r in rows:
        ins = r["inputs"]
        joins = (len(ins) == 1 and len(children[ins[0]]) == 1 and r["type"] not in ("Conv2D", "Flatten")
                 and children[r["name"]])  # an output layer keeps its own box
        if joins:
            box_of[r["name"]] = box_of[ins[0]]
            boxes[box_of[r["name"]]].append(r)
        else:
            box_of[r["name"]] = len(boxes)
            boxes.append([r])
    return boxes


def _box_levels(boxes: list[list[dict[str, Any]]]) -> tuple[list[int], list[set[int]]]:
    """Each box's row in the diagram (longest path from the input) and its parent boxes."""
    box_of = {r["name"]: i for i, box in enumerate(boxes) for r in box}
    parents = [{box_of[p] for p in box[0]["inputs"]} for box in boxes]
    level = [0] * len(boxes)
    for i in range(len(boxes)):  # boxes come in layer order: parents first
        level[i] = 1 + max((level[p] for p in parents[i]), default=-1)
    return level, parents


def _box_text(box: list[dict[str, Any]]) -> str:
    names = ", ".join(r["name"] for r in box)
    params = sum(r["params"] for r in box)
    last = box[-1]
    shared = " (shared)" if last["output"][:1].isdigit() and " x " in last["output"] else ""
    detail = f"out {last['output']}{shared}"
    if params:
        detail += f", {params:,} params"
    return f"{names}\n{detail}"


@validate_params({"model": Check(_check_model, invalid="not a model"), "ax": AX})
def plot_architecture(model: keras.Model, *, ax: Axes | None = None) -> Figure:
    """The model as a block diagram drawn with matplotlib (no Graphviz needed).

    Parameters
    ----------
    model : keras.Model
        A functional model (what :func:`multidigit.build_model` returns).
    ax : matplotlib Axes, optional
        Draw into it; by default a new figure sized to the diagram.

    Returns
    -------
    matplotlib.figure.Figure
        Boxes top to bottom from the input to the heads, one per chain of layers,
        with the output shape and the parameter count; arrows show the data flow.

    Examples
    --------
    >>> import multidigit as md
    >>> fig = plot_architecture(md.build_model(input_shape=(28, 84, 1), preset="small"))
    >>> fig.axes[0].get_title()
    'multidigit_small_softmax_binary_crossentropy: 7 boxes, 16 layers'
    """
    rows = layer_table(model)
    boxes = _blocks(rows)
    level, parents = _box_levels(boxes)
    n_levels = max(level) + 1
    width = max(sum(1 for lv in level if lv == k) for k in range(n_levels))
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(max(6.0, 3.0 * width), 0.75 * n_levels + 0.6),
                     layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    pos: dict[int, tuple[float, float]] = {}
    for k in range(n_levels):
        here = [i for i, lv in enumerate(level) if lv == k]
        for j, i in enumerate(here):
            pos[i] = ((j + 0.5) * width / len(here), float(n_levels - 1 - k))
    style = {"boxstyle": "round,pad=0.3", "facecolor": "#eef3fb", "edgecolor": "#4a6fa5"}
    for i, box in enumerate(boxes):
        x, y = pos[i]
        ax.text(x, y, _box_text(box), ha="center", va="center", fontsize=7.5, bbox=style)
        for p in parents[i]:
            px, py = pos[p]
            ax.annotate("", xy=(x, y + 0.28), xytext=(px, py - 0.28),
                        arrowprops={"arrowstyle": "->", "color": "#555"})
    ax.set_xlim(0, width)
    ax.set_ylim(-0.6, n_levels - 0.4)
    ax.set_axis_off()
    ax.set_title(f"{model.name}: {len(boxes)} boxes, {len(rows)} layers", fontsize=9)
    return fig
