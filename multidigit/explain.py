"""Explain a multi-head digit model: saliency, Grad-CAM, guided backprop, DeepDream...

One entry point, :func:`explain`, runs any registered *explainer* on a batch of images
and on one head or all heads of the model, and returns an :class:`Explanation` (plain
arrays plus a ``.plot()``).  Explainers are small classes registered by name; the
built-in ones live in :mod:`multidigit.explainers`, third-party ones are discovered
through the ``multidigit.explainers`` entry-point group.

Writing an explainer
--------------------
An explainer is a class with a ``name`` and one method::

    import numpy as np
    import multidigit as md

    @md.register_explainer("input_times_one")
    class InputExplainer(md.Explainer):
        '''Returns the image itself (a silly but valid explainer).'''

        def explain(self, model, images, targets, head_index, **options):
            return images[..., 0].copy()          # (n, H, W)

``explain(model, images, targets, head_index, **options)`` receives

* ``model``: the user's Keras model.  **Never modify it** (weights, layer attributes):
  build sub-models (``keras.Model(model.inputs[0], layer.output)``) or clones instead.
* ``images``: float32 array ``(n, H, W, C)``, one batch (:func:`explain` does the
  batching, so ``n <= batch_size``).
* ``targets``: int array ``(n,)``, the digit (0-9) to explain for each image on this
  head (``None`` for explainers with ``per_head = False``).
* ``head_index``: which output head (0-based, ``digit_{head_index}``); ``None`` for
  explainers with ``per_head = False``.
* ``**options``: whatever keyword arguments the user passed to :func:`explain`.

and returns a float ``np.ndarray``:

* ``per_head = True`` (default): one map per image, shape ``(n, H, W)``;
* ``per_head = False``: one result per image that does not depend on the head, shape
  ``(n, ...)`` (for instance feature maps ``(n, C, h, w)``);
* ``model_level = True``: one result for the whole model (for instance the first
  layer's filters), any shape; it is called once, with ``images`` the first batch.

It must be deterministic (same inputs and options, same output) and return finite
values.  :func:`multidigit.testing.check_explainer` checks all of this.

To ship it as a plugin, expose the class in your distribution's ``pyproject.toml``::

    [project.entry-points."multidigit.explainers"]
    occlusion = "my_package:OcclusionExplainer"

It is registered under the entry-point name the first time an explainer is looked up.

Calling the module, ``multidigit.explain(model, images, ...)``, calls :func:`explain`.
"""

from __future__ import annotations

import importlib.metadata
import sys
import threading
import types
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Sequence, TypeVar

import numpy as np

from .errors import ExplainerError, PluginWarning

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.figure import Figure

__all__ = [
    "Explainer",
    "Explanation",
    "explain",
    "register_explainer",
    "get_explainer",
    "list_explainers",
    "ENTRY_POINT_GROUP",
]

#: Entry-point group scanned for third-party explainers.
ENTRY_POINT_GROUP = "multidigit.explainers"


class Explainer:
    """Base class of explainers (optional: any class with ``name`` and ``explain`` works).

    Attributes
    ----------
    name : str
        Registry name (set by :func:`register_explainer` if left empty).
    per_head : bool
        The result depends on the output head and the target digit (attribution maps).
    model_level : bool
        The result describes the whole model, not the images (e.g. first-layer filters).
    backends : tuple of str
        Keras backends the explainer works with; empty means any.  The built-in
        gradient explainers use ``tf.GradientTape`` and need ``("tensorflow",)``.

    See the module docstring of :mod:`multidigit.explain` for the full contract.
    """

    name: ClassVar[str] = ""
    per_head: ClassVar[bool] = True
    model_level: ClassVar[bool] = False
    backends: ClassVar[tuple[str, ...]] = ()

    def explain(
        self,
        model: "keras.Model",
        images: np.ndarray,
        targets: np.ndarray | None,
        head_index: int | None,
        **options: Any,
    ) -> np.ndarray:
        """Return the explanation of one batch (see the class docstring for shapes)."""
        raise NotImplementedError


# ----------------------------------------------------------------------------- registry

_REGISTRY: dict[str, type] = {}
_LOCK = threading.RLock()
_BUILTINS_LOADED = False
_PLUGINS_LOADED = False

E = TypeVar("E", bound=type)


def _validate_explainer_class(cls: Any, name: str) -> None:
    if not isinstance(cls, type):
        raise ExplainerError(
            f"explainer {name!r} must be a class with an explain() method, got {cls!r}."
        )
    if not callable(getattr(cls, "explain", None)):
        raise ExplainerError(
            f"explainer class {cls.__qualname__} ({name!r}) has no explain(self, model, "
            "images, targets, head_index, **options) method."
        )


def register_explainer(name: str, *, override: bool = False) -> Callable[[E], E]:
    """Class decorator registering an explainer under ``name``.

    Parameters
    ----------
    name : str
        The name users pass as ``explain(..., method=name)``.
    override : bool
        Replace an explainer already registered under that name (otherwise an
        :class:`~multidigit.errors.ExplainerError` is raised).

    Examples
    --------
    >>> import multidigit as md
    >>> @md.register_explainer("blank")                       # doctest: +SKIP
    ... class Blank(md.Explainer):
    ...     def explain(self, model, images, targets, head_index, **options):
    ...         return np.zeros(images.shape[:3], np.float32)
    """
    if not isinstance(name, str) or not name.strip():
        raise ExplainerError(f"explainer name must be a non-empty string, got {name!r}.")

    def decorator(cls: E) -> E:
        _validate_explainer_class(cls, name)
        with _LOCK:
            old = _REGISTRY.get(name)
            if old is not None and old is not cls and not override:
                raise ExplainerError(
                    f"an explainer named {name!r} is already registered "
                    f"({old.__module__}.{old.__qualname__}); pick another name or pass "
                    "register_explainer(name, override=True) to replace it."
                )
            if not getattr(cls, "name", ""):
                cls.name = name  # type: ignore[attr-defined]
            _REGISTRY[name] = cls
        return cls

    return decorator


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        with _LOCK:
            if not _BUILTINS_LOADED:
                _BUILTINS_LOADED = True
                importlib.import_module("multidigit.explainers")


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _load_plugins(*, reload: bool = False) -> None:
    """Register explainers advertised in the ``multidigit.explainers`` entry points.

    A plugin that fails to import, or does not provide an explainer class, is skipped
    with a :class:`~multidigit.errors.PluginWarning`; it never breaks the others.
    """
    global _PLUGINS_LOADED
    with _LOCK:
        if _PLUGINS_LOADED and not reload:
            return
        _PLUGINS_LOADED = True
        try:
            eps = _entry_points()
        except Exception as exc:  # a broken metadata file must not break multidigit
            warnings.warn(
                f"could not list '{ENTRY_POINT_GROUP}' entry points ({exc!r}); "
                "third-party explainers are unavailable.",
                PluginWarning,
                stacklevel=3,
            )
            return
        for ep in eps:
            dist = getattr(getattr(ep, "dist", None), "name", None) or "unknown distribution"
            where = f"explainer plugin {ep.name!r} = {ep.value!r} (from {dist})"
            try:
                cls = ep.load()
            except BaseException as exc:  # noqa: BLE001 - any failure only skips the plugin
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                warnings.warn(
                    f"{where} failed to import and was skipped: {type(exc).__name__}: {exc}. "
                    f"Fix or uninstall {dist}.",
                    PluginWarning,
                    stacklevel=3,
                )
                continue
            existing = _REGISTRY.get(ep.name)
            if existing is cls:
                continue  # the plugin registered itself on import
            if existing is not None:
                warnings.warn(
                    f"{where} was skipped: the name {ep.name!r} is already taken by "
                    f"{existing.__module__}.{existing.__qualname__}.",
                    PluginWarning,
                    stacklevel=3,
                )
                continue
            try:
                register_explainer(ep.name)(cls)
            except ExplainerError as exc:
                warnings.warn(f"{where} was skipped: {exc}", PluginWarning, stacklevel=3)


def _ensure_loaded() -> None:
    _load_builtins()
    _load_plugins()


def list_explainers() -> list[str]:
    """Names of every available explainer (built-in and plugins), sorted.

    Examples
    --------
    >>> import multidigit as md
    >>> "gradcam" in md.list_explainers()
    True
    """
    _ensure_loaded()
    return sorted(_REGISTRY)


def get_explainer(name: str) -> type:
    """The explainer class registered under ``name``.

    Raises
    ------
    ExplainerError
        If no explainer has that name (the message lists the available ones).

    Examples
    --------
    >>> import multidigit as md
    >>> md.get_explainer("saliency").name
    'saliency'
    """
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ExplainerError(
            f"unknown explainer {name!r}; available: {', '.join(sorted(_REGISTRY))}. "
            "Third-party explainers register through the 'multidigit.explainers' entry "
            "point group (pip install the plugin)."
        ) from None


# ----------------------------------------------------------------------------- inputs


def model_head_names(model: "keras.Model") -> list[str]:
    """Output head names of ``model`` (``digit_0``...), in head order."""
    names = list(getattr(model, "output_names", None) or [])
    if not names:
        names = [t.name for t in model.outputs]
    heads = sorted(n for n in names if n.startswith("digit_") and n[6:].isdigit())
    if len(heads) == len(names):
        return sorted(heads, key=lambda n: int(n[6:]))
    return names


def head_output_layer(model: "keras.Model", head_index: int) -> Any:
    """The Keras layer producing head ``head_index``."""
    name = model_head_names(model)[head_index]
    try:
        return model.get_layer(name)
    except ValueError:
        hist = model.outputs[head_index]._keras_history
        return hist.operation


def as_image_batch(model: "keras.Model", images: Any) -> np.ndarray:
    """Turn ``images`` (array, one image, or a dataset ``Split``) into ``(N, H, W, C)``."""
    if hasattr(images, "images") and not isinstance(images, np.ndarray):
        images = images.images
    try:
        x = np.asarray(images)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ExplainerError(f"images must be an array, got {type(images).__name__}.") from exc
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
        raise ExplainerError(f"images must be numeric, got dtype {x.dtype}.")
    x = x.astype(np.float32, copy=False)
    shape = tuple(model.inputs[0].shape[1:])
    if x.ndim == len(shape) and x.shape == shape:  # one image
        x = x[None]
    elif x.ndim == len(shape) and shape[-1] == 1 and x.shape[1:] == shape[:-1]:  # (N, H, W)
        x = x[..., None]
    if x.ndim != len(shape) + 1 or any(
        s is not None and d != s for d, s in zip(x.shape[1:], shape)
    ):
        raise ExplainerError(
            f"images have shape {x.shape}, but the model expects "
            f"(N, {', '.join(map(str, shape))}); "
            "pass a batch of images the model was built for (or a dataset Split)."
        )
    if x.shape[0] == 0:
        raise ExplainerError("images is empty: pass at least one image.")
    if not np.all(np.isfinite(x)):
        raise ExplainerError("images contain NaN or infinite values.")
    return x


def _resolve_heads(model: "keras.Model", head: Any) -> list[int]:
    names = model_head_names(model)
    if isinstance(head, str) and head == "all":
        return list(range(len(names)))
    if isinstance(head, (int, np.integer)) and not isinstance(head, bool):
        i = int(head)
        if -len(names) <= i < len(names):
            return [i % len(names)]
    elif isinstance(head, str) and head in names:
        return [names.index(head)]
    raise ExplainerError(
        f"unknown head {head!r}; use 'all', an index 0..{len(names) - 1} or one of "
        f"{', '.join(map(repr, names))}."
    )


def predict_heads(model: "keras.Model", images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Per-head output probabilities, ``(N, heads, classes)``, without touching the model."""
    names = model_head_names(model)
    out = []
    for start in range(0, len(images), batch_size):
        y = model(images[start : start + batch_size], training=False)
        if isinstance(y, dict):
            y = [y[n] for n in names]
        elif not isinstance(y, (list, tuple)):
            y = [y]
        out.append(np.stack([np.asarray(v) for v in y], axis=1))
    return np.concatenate(out, axis=0)


def _resolve_targets(
    model: "keras.Model", images: np.ndarray, heads: list[int], target: Any, batch_size: int
) -> np.ndarray:
    n, k = len(images), len(heads)
    if target is None:
        return predict_heads(model, images, batch_size).argmax(-1)[:, heads].astype(np.int64)
    t = np.asarray(target)
    n_heads = len(model_head_names(model))
    if t.ndim == 0:
        t = np.full((n, k), int(t))
    elif t.ndim == 1 and len(t) == n:
        t = np.repeat(t[:, None], k, axis=1)
    elif t.ndim == 2 and t.shape == (n, k):
        pass
    elif t.ndim == 2 and t.shape == (n, n_heads):
        t = t[:, heads]
    else:
        raise ExplainerError(
            f"target has shape {t.shape}; pass an int, an array (N,) = ({n},) of digits, "
            f"or (N, heads) = ({n}, {k}) / ({n}, {n_heads}) (e.g. a Split's labels)."
        )
    if not np.issubdtype(t.dtype, np.integer):
        if not np.all(np.equal(np.mod(t, 1), 0)):
            raise ExplainerError("target must hold integer class indices.")
        t = t.astype(np.int64)
    if t.min() < 0 or t.max() > 9:
        raise ExplainerError(f"target digits must be in 0..9, got {t.min()}..{t.max()}.")
    return t.astype(np.int64)


# ----------------------------------------------------------------------------- result


@dataclass
class Explanation:
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

    def head_maps(self) -> np.ndarray:
        """Maps as ``(N, heads, ...)`` whatever ``head`` was (per-head methods)."""
        if not self.per_head or self.model_level:
            raise ExplainerError(f"method {self.method!r} has no per-head maps.")
        return self.maps if self.maps.ndim == 4 else self.maps[:, None]

    def plot(
        self,
        *,
        max_images: int = 8,
        max_channels: int = 8,
        cmap: str = "jet",
        alpha: float = 0.5,
        size: float = 1.8,
    ) -> "Figure":
        """Plot the explanation and return the matplotlib Figure.

        Attribution maps are overlaid on the images: one row per image, one column per
        head.  Per-image results that ignore heads (``deepdream``, ``feature_maps``) show
        the image then the result (or its first ``max_channels`` channels); model-level
        results (``filters``) are shown as a grid.

        Examples
        --------
        >>> fig = md.explain(model, x, "gradcam").plot()   # doctest: +SKIP
        >>> fig.savefig("gradcam.png")                      # doctest: +SKIP
        """
        from matplotlib.figure import Figure

        if self.model_level:
            m = np.asarray(self.maps)
            m = m.reshape((-1,) + m.shape[-2:]) if m.ndim >= 2 else m.reshape(1, 1, -1)
            n = len(m)
            cols = int(min(8, n))
            rows = int(np.ceil(n / cols))
            fig = Figure(figsize=(size * cols, size * rows))
            axes = fig.subplots(rows, cols, squeeze=False)
            for i, ax in enumerate(axes.flat):
                ax.set_axis_off()
                if i < n:
                    ax.imshow(m[i], cmap="gray")
                    ax.set_title(f"{i}", fontsize=8)
            fig.suptitle(self.method)
            return fig

        n = min(len(self.maps), max_images)
        imgs = self.images[:n, ..., 0] if self.images.shape[-1] == 1 else self.images[:n]
        if self.per_head:
            maps = self.head_maps()[:n]
            cols = maps.shape[1]
            fig = Figure(figsize=(size * cols, size * n))
            axes = fig.subplots(n, cols, squeeze=False)
            for r in range(n):
                for c in range(cols):
                    ax = axes[r, c]
                    ax.imshow(imgs[r], cmap="gray")
                    ax.imshow(maps[r, c], cmap=cmap, alpha=alpha)
                    ax.set_axis_off()
                    title = self.heads[c]
                    if self.targets is not None:
                        title += f" -> {int(self.targets[r, c])}"
                    ax.set_title(title, fontsize=8)
            fig.suptitle(self.method)
            return fig

        maps = np.asarray(self.maps[:n])
        if maps.ndim == 3:
            maps = maps[:, None]
        elif maps.ndim > 4:
            maps = maps.reshape(maps.shape[:1] + (-1,) + maps.shape[-2:])
        maps = maps[:, :max_channels]
        cols = 1 + maps.shape[1]
        fig = Figure(figsize=(size * cols, size * n))
        axes = fig.subplots(n, cols, squeeze=False)
        for r in range(n):
            axes[r, 0].imshow(imgs[r], cmap="gray")
            axes[r, 0].set_title("image", fontsize=8)
            for c in range(maps.shape[1]):
                axes[r, c + 1].imshow(maps[r, c], cmap="gray" if cols == 2 else "viridis")
                axes[r, c + 1].set_title(f"{self.method}" if cols == 2 else f"ch {c}", fontsize=8)
            for ax in axes[r]:
                ax.set_axis_off()
        fig.suptitle(self.method)
        return fig


# ----------------------------------------------------------------------------- explain


def explain(
    model: "keras.Model",
    images: Any,
    method: str = "gradcam",
    *,
    head: int | str = "all",
    target: Any = None,
    batch_size: int = 256,
    **options: Any,
) -> Explanation:
    """Explain ``model``'s predictions on ``images`` with a registered explainer.

    Parameters
    ----------
    model : keras.Model
        A multi-head model from :func:`multidigit.build_model` (or any Keras model with
        image input and one output per digit).  It is never modified.
    images : array-like or Split
        ``(N, H, W, C)``, ``(N, H, W)``, one image ``(H, W, C)``, or a dataset ``Split``.
        ``uint8`` images are scaled to [0, 1].
    method : str
        Explainer name, see :func:`list_explainers`: ``"saliency"``, ``"gradcam"``,
        ``"gradcam++"``, ``"guided_backprop"``, ``"deepdream"``, ``"feature_maps"``,
        ``"filters"`` and any installed plugin.
    head : "all", int or str
        Which output head(s) to explain: ``"all"``, an index, or a name (``"digit_1"``).
    target : int, array, optional
        The digit to explain: ``None`` (each head's predicted digit), an int for every
        image, an array ``(N,)``, or ``(N, heads)`` (e.g. ``split.labels``).
    batch_size : int
        Images per batch.
    **options
        Passed to the explainer (e.g. ``layer="conv_1"`` for Grad-CAM, ``smooth=20``
        for SmoothGrad).

    Returns
    -------
    Explanation
        ``maps`` is ``(N, H, W)`` for one head or ``(N, heads, H, W)`` for ``"all"``.

    Raises
    ------
    ExplainerError
        Unknown method or head, badly shaped images or targets, invalid options.

    Examples
    --------
    >>> import multidigit as md
    >>> ex = md.explain(model, ds.test.images[:4], "gradcam", head="digit_1")  # doctest: +SKIP
    >>> ex.maps.shape                                                            # doctest: +SKIP
    (4, 84, 84)
    >>> fig = ex.plot()                                                          # doctest: +SKIP
    """
    cls = get_explainer(method)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ExplainerError(f"batch_size must be a positive int, got {batch_size!r}.")
    x = as_image_batch(model, images)
    _check_backend(method, _backends_of(cls))
    explainer = cls()
    per_head = bool(getattr(cls, "per_head", True))
    model_level = bool(getattr(cls, "model_level", False))
    names = model_head_names(model)

    if model_level:
        maps = _call(explainer, method, model, x[:batch_size], None, None, options)
        return Explanation(np.asarray(maps), method, [], None, x, dict(options), False, True)

    if not per_head:
        parts = [
            _call(explainer, method, model, x[s : s + batch_size], None, None, options)
            for s in range(0, len(x), batch_size)
        ]
        maps = np.concatenate(parts, axis=0)
        return Explanation(maps, method, [], None, x, dict(options), False, False)

    heads = _resolve_heads(model, head)
    targets = _resolve_targets(model, x, heads, target, batch_size)
    per = []
    for j, h in enumerate(heads):
        parts = [
            _call(explainer, method, model, x[s : s + batch_size], targets[s : s + batch_size, j],
                  h, options)
            for s in range(0, len(x), batch_size)
        ]
        per.append(np.concatenate(parts, axis=0))
    maps = np.stack(per, axis=1) if head == "all" else per[0]
    return Explanation(
        maps, method, [names[h] for h in heads], targets, x, dict(options), True, False
    )


def _backends_of(cls: type) -> tuple[str, ...]:
    """The Keras backends an explainer class declares (empty: any backend)."""
    return tuple(getattr(cls, "backends", ()) or ())


def _check_backend(method: str, backends: tuple[str, ...]) -> None:
    if not backends:
        return
    import keras

    current = keras.config.backend()
    if current not in backends:
        usable = []
        for name in list_explainers():
            declared = _backends_of(get_explainer(name))
            if not declared or current in declared:
                usable.append(repr(name))
        hint = f" (these work on {current!r}: {', '.join(usable)})" if usable else ""
        raise ExplainerError(
            f"explainer {method!r} needs the Keras backend {' or '.join(map(repr, backends))}, "
            f"but Keras runs on {current!r}: set KERAS_BACKEND={backends[0]} before keras is "
            f"imported{hint}."
        )


def _call(
    explainer: Any,
    method: str,
    model: Any,
    images: np.ndarray,
    targets: np.ndarray | None,
    head_index: int | None,
    options: dict[str, Any],
) -> np.ndarray:
    try:
        out = explainer.explain(model, images, targets, head_index, **options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ExplainerError(f"explainer {method!r}: {exc}") from exc
        raise
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



# ``multidigit.explain`` is both this module and the function ``explain``: once the
# module is imported, Python binds the package attribute ``multidigit.explain`` to the
# module, shadowing the lazily re-exported function.  Making the module callable keeps
# ``md.explain(model, images, ...)`` working whatever the import order.
class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Explanation:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
