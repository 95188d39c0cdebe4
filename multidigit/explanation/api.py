"""Explain a multi-head digit model: :func:`explain` and its result, :class:`Explanation`.

One entry point, :func:`explain`, runs any registered explainer (see
:mod:`multidigit.explanation.registry`; the built-ins live in :mod:`multidigit.explanation.methods`) on a
batch of images and on one head or all heads of the model, and returns an
:class:`Explanation`: plain arrays, a ``.plot()``, and a table with the figure inline
in Jupyter.  How to write an explainer: :class:`multidigit.Explainer` and
:doc:`/writing_plugins`.

Examples
--------
>>> import multidigit as md
>>> ex = md.explain(model, ds.test.images[:4], "gradcam", head="digit_1")  # doctest: +SKIP
>>> ex.maps.shape                                                            # doctest: +SKIP
(4, 84, 84)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit import _defaults as D
from multidigit._figures import AX
from multidigit._inputs import as_pixels
from multidigit._param_validation import Body, Free, Int, Number, calling, fail, validate_params
from multidigit._results import Result, figure_html, html_table
from multidigit.errors import ExplainerError
from multidigit.explanation.methods.base import accepted_options, capabilities
from multidigit.explanation.registry import list_explainers, lookup_explainer
from multidigit.model.heads import model_head_names, predict_heads, resolve_heads

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Explanation", "explain", "as_image_batch", "resolve_targets"]


# ----------------------------------------------------------------------------- inputs


def _to_float_array(images: Any) -> np.ndarray:
    if hasattr(images, "images") and not isinstance(images, np.ndarray):
        images = images.images  # a dataset Split
    try:
        x = np.asarray(images)
    except Exception:  # noqa: BLE001 - exotic inputs get the one clear error below
        x = np.asarray(None)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise fail("images", "a numeric array (N, H, W, C), one image or a dataset Split",
                   type(images).__name__)
    return as_pixels(x, "images")  # the one pixel rule of every entry point


@validate_params({
    "model": Body("a keras.Model with digit_k heads"),
    "images": Body("a batch (N, H, W, C), one image or a Split, as the model expects"),
})
def as_image_batch(model: "keras.Model", images: Any) -> np.ndarray:
    """Turn ``images`` (array, one image, or a dataset ``Split``) into ``(N, H, W, C)``.

    Examples
    --------
    >>> as_image_batch(model, np.zeros((28, 28))).shape         # doctest: +SKIP
    (1, 28, 28, 1)
    """
    x = _to_float_array(images)
    shape = tuple(model.inputs[0].shape[1:])
    if x.ndim == len(shape) and x.shape == shape:  # one image
        x = x[None]
    elif x.ndim == len(shape) and shape[-1] == 1 and x.shape[1:] == shape[:-1]:  # (N, H, W)
        x = x[..., None]
    expected = f"(N, {', '.join(map(str, shape))})"
    if x.ndim != len(shape) + 1 or any(
        s is not None and d != s for d, s in zip(x.shape[1:], shape)
    ):
        raise fail("images", f"a batch of shape {expected}, as the model expects",
                   f"an array of shape {x.shape}",
                   "Pass images the model was built for (or a dataset Split).")
    if x.shape[0] == 0:
        raise fail("images", f"at least one image {expected}", "an empty batch")
    if not np.all(np.isfinite(x)):
        raise fail("images", "finite pixel values", "images with NaN or inf")
    return x


def _target_array(target: Any, n: int, k: int, n_heads: int, heads: list[int]
                  ) -> np.ndarray:
    t = np.asarray(target)
    if t.ndim == 0:
        return np.full((n, k), t)
    if t.ndim == 1 and len(t) == n:
        return np.repeat(t[:, None], k, axis=1)
    if t.ndim == 2 and t.shape == (n, k):
        return t
    if t.ndim == 2 and t.shape == (n, n_heads):
        return t[:, heads]
    raise fail("target", f"None, an int, an array (N,) = ({n},) of digits, or (N, heads) = "
               f"({n}, {k}) / ({n}, {n_heads}) (e.g. a Split's labels)",
               f"an array of shape {t.shape}")


@validate_params({
    "model": Body("a keras.Model with digit_k heads"),
    "images": Body("the batch (N, H, W, C) of as_image_batch"),
    "heads": Body("head indices (from resolve_heads)"),
    "target": Body("None, an int or digits per image (and head)"),
    "batch_size": Int(min=1),
})
def resolve_targets(model: "keras.Model", images: np.ndarray, heads: list[int], target: Any,
                    batch_size: int = 256) -> np.ndarray:
    """The digit to explain per image and head, ``(N, len(heads))`` (``None``: predicted)."""
    if target is None:
        return predict_heads(model, images, batch_size).argmax(-1)[:, heads].astype(np.int64)
    n_heads = len(model_head_names(model))
    t = _target_array(target, len(images), len(heads), n_heads, heads)
    if not np.issubdtype(t.dtype, np.number) or not np.all(np.equal(np.mod(t, 1), 0)):
        raise fail("target", "integer digits in 0..9", target)
    if t.min() < 0 or t.max() > 9:
        raise fail("target", "integer digits in 0..9", f"digits {t.min()}..{t.max()}")
    return t.astype(np.int64)


# ----------------------------------------------------------------------------- result


@dataclass(repr=False)
class Explanation(Result):
    """The result of :func:`explain`.

    Attributes
    ----------
    maps : np.ndarray
        ``(N, H, W)`` for one head, ``(N, heads, H, W)`` for ``head="all"``; for explainers
        that do not depend on the head, ``(N, ...)`` (see the method's docs); for
        model-level explainers, the method's own shape (e.g. filters ``(F, kh, kw)``).
    method : str
        The explainer's name.
    heads : list of str
        Names of the explained heads (empty when the method ignores heads).
    targets : np.ndarray or None
        ``(N, len(heads))`` digit explained for each image and head.
    images : np.ndarray
        The images, ``(N, H, W, C)``.
    options : dict
        Options passed to the explainer.

    Examples
    --------
    >>> ex = md.explain(model, x, "gradcam")           # doctest: +SKIP
    >>> ex                                             # doctest: +SKIP
    Explanation(method='gradcam', maps=(4, 3, 28, 28), heads=['digit_0', ...])
    """

    maps: np.ndarray
    method: str
    heads: list[str]
    targets: np.ndarray | None
    images: np.ndarray
    options: dict[str, Any] = field(default_factory=dict)
    per_head: bool = True
    model_level: bool = False

    def __len__(self) -> int:
        return 0 if self.model_level else len(self.maps)

    def __repr__(self) -> str:
        return (f"Explanation(method={self.method!r}, maps={tuple(np.shape(self.maps))}, "
                f"heads={self.heads!r}, images={len(self.images)})")

    def head_maps(self) -> np.ndarray:
        """Maps as ``(N, heads, ...)`` whatever ``head`` was (per-head methods)."""
        if not self.per_head or self.model_level:
            raise ExplainerError(f"method {self.method!r} has no per-head maps.")
        return self.maps if self.maps.ndim == 4 else self.maps[:, None]

    def _html_rows(self) -> list[list[Any]]:
        rows: list[list[Any]] = [
            ["method", self.method],
            ["maps shape", " x ".join(map(str, np.shape(self.maps)))],
            ["images", len(self.images)],
            ["heads", ", ".join(self.heads) or "(not per head)"],
        ]
        if self.targets is not None:
            shown = [" ".join(map(str, row)) for row in np.asarray(self.targets)[:8]]
            more = " ..." if len(self.targets) > 8 else ""
            rows.append(["targets (per image)", "; ".join(shown) + more])
        rows += [[f"option {k}", repr(v)] for k, v in sorted(self.options.items())]
        return rows

    def _repr_html_(self) -> str:
        """A compact table and the figure (the first 4 images), for Jupyter."""
        table = html_table(self._html_rows(), ["", ""], caption="Explanation")
        return f"<div>{table}{figure_html(self.plot(max_images=4))}</div>"

    @validate_params({
        "ax": AX, "max_images": Int(min=1), "max_channels": Int(min=1),
        "cmap": Free("a matplotlib colormap name (matplotlib checks it)"),
        "alpha": Number(min=0, max=1), "size": Number(min=0, min_inclusive=False),
    })
    def plot(self, ax: "Axes | None" = None, *, max_images: int = 8, max_channels: int = 8,
             cmap: str = "jet", alpha: float = 0.5, size: float = 1.8) -> "Figure":
        """Plot the explanation and return the matplotlib Figure.

        Attribution maps are overlaid on the images: one row per image, one column per
        head.  Per-image results that ignore heads (``deepdream``, ``feature_maps``) show
        the image then the result (or its first ``max_channels`` channels); model-level
        results (``filters``) are shown as a grid.  With ``ax``, the grid is drawn in
        that Axes' area (of its figure, which is returned); by default a new figure of
        ``size`` inches per panel.

        Examples
        --------
        >>> fig = md.explain(model, x, "gradcam").plot()   # doctest: +SKIP
        >>> fig.savefig("gradcam.png")                      # doctest: +SKIP
        """
        from multidigit.explanation import _plots as draw

        if self.model_level:
            return draw.model_level(self, size, ax)
        if self.per_head:
            return draw.per_head(self, max_images, cmap, alpha, size, ax)
        return draw.per_image(self, max_images, max_channels, size, ax)


# ----------------------------------------------------------------------------- explain


@validate_params({
    "model": Body("a keras.Model"),
    "images": Body("a batch (N, H, W, C), one image or a Split, as the model expects"),
    "method": Body("a registered explainer name (list_explainers())"),
    "head": Body("'all', a head index or a head name"),
    "target": Body("None, an int or digits per image (and head)"),
    "batch_size": Int(min=1),
    "options": Body("options the chosen explainer accepts"),
})
def explain(
    model: "keras.Model",
    images: Any,
    method: str = "gradcam",
    *,
    head: int | str = "all",
    target: Any = None,
    batch_size: int = D.PREDICT_BATCH_SIZE,
    **options: Any,
) -> Explanation:
    """Explain ``model``'s predictions on ``images`` with a registered explainer.

    Parameters
    ----------
    model : keras.Model
        A multi-head model from :func:`multidigit.build_model` (or any Keras model with
        image input and one output per digit, or a single output).  It is never modified.
    images : array-like or Split
        ``(N, H, W, C)``, ``(N, H, W)``, one image ``(H, W, C)``, or a dataset ``Split``.
        ``uint8`` images are scaled to [0, 1].
    method : str
        Explainer name, see :func:`list_explainers`: ``"saliency"``, ``"gradcam"``,
        ``"gradcam++"``, ``"guided_backprop"``, ``"scorecam"``, ``"layercam"``,
        ``"integrated_gradients"``, ``"smoothgrad_squared"``, ``"vargrad"``,
        ``"occlusion"``, ``"rise"``, ``"activation_maximization"``, ``"deepdream"``,
        ``"feature_maps"``, ``"filters"`` and any installed plugin.
    head : "all", int or str
        Which output head(s) to explain: ``"all"``, an index, or a name (``"digit_1"``).
    target : int, array, optional
        The digit to explain: ``None`` (each head's predicted digit), an int for every
        image, an array ``(N,)``, or ``(N, heads)`` (e.g. ``split.labels``).
    batch_size : int
        Images per batch; explainers that take a ``batch_size`` option (the sampling
        methods: ``integrated_gradients``, ``smoothgrad_squared``, ``vargrad``,
        ``occlusion``, ``rise``) also get it as the most perturbed images they send to
        the model at once, so memory stays bounded.
    **options
        Passed to the explainer (e.g. ``layer="conv_1"`` for Grad-CAM, ``smooth=20``
        for SmoothGrad).

    Returns
    -------
    Explanation
        ``maps`` is ``(N, H, W)`` for one head or ``(N, heads, H, W)`` for ``"all"``.

    Raises
    ------
    ParameterError
        Unknown method, head or option, badly shaped images or targets.
    ExplainerError
        The explainer cannot run here (Keras backend, TensorFlow missing).

    Examples
    --------
    >>> import multidigit as md
    >>> ex = md.explain(model, ds.test.images[:4], "gradcam", head="digit_1")  # doctest: +SKIP
    >>> ex.maps.shape                                                            # doctest: +SKIP
    (4, 84, 84)
    >>> fig = ex.plot()                                                          # doctest: +SKIP
    """
    cls = lookup_explainer(method, "method")
    _check_options(cls, method, options)
    x = as_image_batch(model, images)
    kind = capabilities(cls).kind
    _check_backend(method, _backends_of(cls))
    explainer = cls()
    if "batch_size" in (accepted_options(cls) or ()) and "batch_size" not in options:
        options = {**options, "batch_size": batch_size}
    if kind == "model_level":
        maps = _call(explainer, method, model, x[:batch_size], None, None, options)
        return Explanation(maps, method, [], None, x, dict(options), False, True)
    if kind == "per_image":
        parts = [_call(explainer, method, model, x[s: s + batch_size], None, None, options)
                 for s in range(0, len(x), batch_size)]
        return Explanation(np.concatenate(parts, axis=0), method, [], None, x, dict(options),
                           False, False)
    heads = resolve_heads(model, head)
    targets = resolve_targets(model, x, heads, target, batch_size)
    per = [
        np.concatenate([
            _call(explainer, method, model, x[s: s + batch_size],
                  targets[s: s + batch_size, j], h, options)
            for s in range(0, len(x), batch_size)
        ], axis=0)
        for j, h in enumerate(heads)
    ]
    maps = np.stack(per, axis=1) if head == "all" else per[0]
    names = model_head_names(model)
    return Explanation(maps, method, [names[h] for h in heads], targets, x, dict(options))


def _check_options(cls: type, method: str, options: dict[str, Any]) -> None:
    """Unknown option names, found from the explainer's signature (not its errors)."""
    accepted = accepted_options(cls)
    if accepted is None:
        return
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise fail(unknown[0], f"one of the options of explainer {method!r}: "
                   + (", ".join(sorted(accepted)) or "(it takes none)"),
                   options[unknown[0]],
                   f"Unknown option(s): {', '.join(unknown)}.")


def _backends_of(cls: type) -> tuple[str, ...]:
    """The Keras backends an explainer class declares (empty: any backend)."""
    return capabilities(cls).backends


def _check_backend(method: str, backends: tuple[str, ...]) -> None:
    if not backends:
        return
    import keras

    current = keras.config.backend()
    if current in backends:
        return
    usable = [repr(name) for name in list_explainers()
              if not _backends_of(lookup_explainer(name)) or current in
              _backends_of(lookup_explainer(name))]
    hint = f" (these work on {current!r}: {', '.join(usable)})" if usable else ""
    raise ExplainerError(
        f"explainer {method!r} needs the Keras backend {' or '.join(map(repr, backends))}, "
        f"but Keras runs on {current!r}: set KERAS_BACKEND={backends[0]} before keras is "
        f"imported{hint}."
    )


def _call(explainer: Any, method: str, model: Any, images: np.ndarray,
          targets: np.ndarray | None, head_index: int | None,
          options: dict[str, Any]) -> np.ndarray:
    try:
        # the explainer's own checks name it: explain(method='rise')(): n_masks must be ...
        with calling(f"explain(method={getattr(explainer, 'name', '') or method!r})"):
            out = explainer.explain(model, images, targets, head_index, **options)
    except ModuleNotFoundError as exc:
        if exc.name != "tensorflow":
            raise
        raise ExplainerError(
            f"explainer {method!r} needs TensorFlow, which is not installed: "
            "pip install tensorflow-cpu (or tensorflow)."
        ) from exc
    out = np.asarray(out)
    if not np.issubdtype(out.dtype, np.floating):
        out = out.astype(np.float32)
    return out
