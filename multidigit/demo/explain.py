"""What the demo shows for an explainer: the choices, the picture, the note that stays.

Kept out of :mod:`multidigit.demo.app` (the Gradio wiring) so the explainer side can
change on its own:

* :func:`demo_methods`: the explainers offered, without the ones that cannot be read
  or take too long in an interactive app (:data:`LEFT_OUT`, with the reason);
* :func:`explanation_figure`: per-head maps as :meth:`Explanation.plot` draws them,
  except ``feature_maps``, shown as a readable grid of one layer's channels
  (:func:`multidigit.plots.plot_feature_maps`) instead of one long strip;
* :func:`lasting_note`: the note of a reading ("Test image, true label 042.") kept
  while the same image is explained again with another method.

Examples
--------
>>> "activation_maximization" in demo_methods()
False
>>> "saliency" in demo_methods()
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["LEFT_OUT", "demo_methods", "explanation_figure", "lasting_note"]

#: Explainers the demo does not offer, and why (they stay available in ``explain``).
LEFT_OUT: dict[str, str] = {
    "activation_maximization": "about 12 s per image on a CPU and, without its random "
                               "jitter, the result looks like noise over the digits",
}


def demo_methods() -> list[str]:
    """Registered explainers the demo offers (all but :data:`LEFT_OUT`)."""
    from multidigit.explanation.registry import list_explainers

    return [name for name in list_explainers() if name not in LEFT_OUT]


def explanation_figure(model: "keras.Model", x: np.ndarray, method: str, *,
                       size: float = 2.4, ax: "Axes | None" = None) -> "Figure":
    """The demo's figure for ``method`` on one ``(H, W)`` image, every head.

    ``feature_maps`` shows the first convolution layer's channels as a grid (8 per
    row, the input first); other methods, :meth:`Explanation.plot`.  Drawn into
    ``ax`` (its area split into the panels) or a new figure, which is returned.

    Examples
    --------
    >>> fig = explanation_figure(model, x, "feature_maps")     # doctest: +SKIP
    """
    import multidigit as md  # md.explain, looked up at call time (tests replace it)

    if method == "feature_maps":
        from multidigit.model.build import conv_layer_names
        from multidigit.plots import plot_feature_maps

        names = conv_layer_names(model)
        if names:
            fig = plot_feature_maps(model, x, names[0], ax=ax)
            title = f"feature maps of layer {names[0]!r}, one panel per channel"
            if ax is None:
                fig.suptitle(title, fontsize="small")
            else:
                ax.set_title(title, fontsize="small")
            return fig
    ex = md.explain(model, np.asarray(x)[None, ..., None], method=method, head="all")
    return ex.plot(ax, size=size)


def lasting_note(holder: Any, x: np.ndarray, note: str) -> str:
    """``note``, remembered on ``holder`` with the image ``x``; with no note, the one
    remembered for the same image (so changing the explainer keeps the true label).

    Examples
    --------
    >>> class S: pass
    >>> s, img = S(), np.zeros((2, 2))
    >>> lasting_note(s, img, "Test image, true label 042.")
    'Test image, true label 042.'
    >>> lasting_note(s, img.copy(), "")
    'Test image, true label 042.'
    >>> lasting_note(s, np.ones((2, 2)), "")
    ''
    """
    if note:
        holder._lasting_note = (np.array(x, copy=True), note)
        return note
    last = getattr(holder, "_lasting_note", None)
    if last is not None and last[0].shape == np.shape(x) and np.array_equal(last[0], x):
        return last[1]
    return ""
