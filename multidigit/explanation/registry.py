"""The explainer registry: names -> explainer classes, built-ins and plugins.

The bottom layer of the explain machinery: it imports only the standard library and
:mod:`multidigit.errors`, so every other module may import it without a circle.

* The built-in explainers are listed by dotted path in :data:`BUILTINS` and imported
  the first time they are looked up, the way fsspec's ``registry.py`` lists its
  ``known_implementations``: ``import multidigit`` stays cheap and the explainer
  modules never need to import the registry back.
* Third-party explainers come from the ``multidigit.explainers`` entry-point group,
  imported only when a name that is not built in is looked up, or when
  :func:`list_explainers` lists every name: a slow plugin never delays the built-ins.
  A plugin that fails to import (any exception, ``SystemExit`` included; only
  ``KeyboardInterrupt`` passes), clashes with a taken name, or replaces a built-in with
  ``override=True`` gives a :class:`~multidigit.errors.PluginWarning`; it never breaks
  ``import multidigit`` nor ends the interpreter.

Examples
--------
>>> from multidigit.explanation.registry import get_explainer, list_explainers
>>> "gradcam" in list_explainers()
True
>>> get_explainer("saliency").__name__
'SaliencyExplainer'
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from multidigit._param_validation import Body, Bool, caller, validate_params
from multidigit.errors import ExplainerError, ParameterError, PluginWarning

__all__ = ["register_explainer", "get_explainer", "list_explainers", "ENTRY_POINT_GROUP",
           "BUILTINS"]

#: Entry-point group scanned for third-party explainers.
ENTRY_POINT_GROUP = "multidigit.explainers"

#: Built-in explainers: name -> "module:Class", imported on first use.
BUILTINS: dict[str, str] = {
    "saliency": "multidigit.explanation.methods.gradients:SaliencyExplainer",
    "gradcam": "multidigit.explanation.methods.gradients:GradCAMExplainer",
    "gradcam++": "multidigit.explanation.methods.gradients:GradCAMPlusPlusExplainer",
    "guided_backprop": "multidigit.explanation.methods.guided:GuidedBackpropExplainer",
    "deepdream": "multidigit.explanation.methods.deepdream:DeepDreamExplainer",
    "feature_maps": "multidigit.explanation.methods.features:FeatureMapsExplainer",
    "filters": "multidigit.explanation.methods.features:FiltersExplainer",
    "scorecam": "multidigit.explanation.methods.vis:ScoreCAMExplainer",
    "layercam": "multidigit.explanation.methods.vis:LayerCAMExplainer",
    "activation_maximization": "multidigit.explanation.methods.vis:ActivationMaximizationExplainer",
    "integrated_gradients": "multidigit.explanation.methods.integrated:IntegratedGradientsExplainer",
    "smoothgrad_squared": "multidigit.explanation.methods.noise:SmoothGradSquaredExplainer",
    "vargrad": "multidigit.explanation.methods.noise:VarGradExplainer",
    "occlusion": "multidigit.explanation.methods.perturbation:OcclusionExplainer",
    "rise": "multidigit.explanation.methods.perturbation:RISEExplainer",
}

_REGISTRY: dict[str, type] = {}
_LOCK = threading.RLock()
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
    from multidigit.explanation.methods.base import (
        capabilities,  # here: base imports this module's package
    )

    capabilities(cls)  # the declared per_head / model_level / backends are well typed


def _describe(name: str) -> str:
    """``module.Class`` of what is registered under ``name`` (without importing it)."""
    cls = _REGISTRY.get(name)
    if cls is not None:
        return f"{cls.__module__}.{cls.__qualname__}"
    return BUILTINS[name].replace(":", ".")


def _distribution_of(module: str) -> str:
    """The installed distribution that ships ``module`` (for warnings), if known."""
    try:
        dists = importlib.metadata.packages_distributions().get(module.split(".")[0])
    except Exception:  # noqa: BLE001 - metadata problems only shorten the message
        dists = None
    return f" (distribution {', '.join(dists)})" if dists else ""


def _warn_builtin_replaced(name: str, cls: type) -> None:
    module = getattr(cls, "__module__", "") or ""
    if module.split(".")[0] == "multidigit":
        return
    warnings.warn(
        f"explainer plugin {module}{_distribution_of(module)} replaced the built-in "
        f"explainer {name!r} ({_describe(name)}) with {cls.__qualname__} "
        "(register_explainer(..., override=True)); uninstall the plugin to get the "
        "built-in back.",
        PluginWarning,
        stacklevel=4,
    )


@validate_params({"name": Body("a non-empty string"), "override": Bool()})
def register_explainer(name: str, *, override: bool = False) -> Callable[[E], E]:
    """Class decorator registering an explainer under ``name``.

    Parameters
    ----------
    name : str
        The name users pass as ``explain(..., method=name)``.
    override : bool
        Replace an explainer already registered under that name (otherwise an
        :class:`~multidigit.errors.ExplainerError` is raised).  Replacing a built-in
        from outside multidigit warns with a :class:`~multidigit.errors.PluginWarning`.

    Examples
    --------
    >>> import numpy as np
    >>> import multidigit as md
    >>> @md.register_explainer("blank")                       # doctest: +SKIP
    ... class Blank(md.Explainer):
    ...     def explain(self, model, images, targets, head_index, **options):
    ...         return np.zeros(images.shape[:3], np.float32)
    """
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(
            f"register_explainer(): name must be a non-empty string; got {name!r}."
        )

    def decorator(cls: E) -> E:
        _validate_explainer_class(cls, name)
        with _LOCK:
            taken = name in _REGISTRY or name in BUILTINS
            old = _REGISTRY.get(name)
            if taken and old is not cls and not override:
                raise ExplainerError(
                    f"an explainer named {name!r} is already registered "
                    f"({_describe(name)}); pick another name or pass "
                    "register_explainer(name, override=True) to replace it."
                )
            if taken and old is not cls and name in BUILTINS:
                _warn_builtin_replaced(name, cls)
            if not getattr(cls, "name", ""):
                cls.name = name  # type: ignore[attr-defined]
            _REGISTRY[name] = cls
        return cls

    return decorator


def _load_builtin(name: str) -> type:
    module, _, attr = BUILTINS[name].partition(":")
    cls = getattr(importlib.import_module(module), attr)
    with _LOCK:
        return _REGISTRY.setdefault(name, cls)


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _register_entry_point(ep: importlib.metadata.EntryPoint) -> None:
    """Load one entry point; any failure becomes a PluginWarning and skips it."""
    dist = getattr(getattr(ep, "dist", None), "name", None) or "unknown distribution"
    where = f"explainer plugin {ep.name!r} = {ep.value!r} (from {dist})"
    try:
        cls = ep.load()
    except BaseException as exc:  # noqa: BLE001 - any failure only skips the plugin
        if isinstance(exc, KeyboardInterrupt):  # SystemExit too is the plugin's failure
            raise
        warnings.warn(
            f"{where} failed to import and was skipped: {type(exc).__name__}: {exc}. "
            f"Fix or uninstall {dist}.",
            PluginWarning,
            stacklevel=4,
        )
        return
    if _REGISTRY.get(ep.name) is cls:
        return  # the plugin registered itself on import
    if ep.name in _REGISTRY or ep.name in BUILTINS:
        warnings.warn(
            f"{where} was skipped: the name {ep.name!r} is already taken by "
            f"{_describe(ep.name)}.",
            PluginWarning,
            stacklevel=4,
        )
        return
    try:
        register_explainer(ep.name)(cls)
    except ExplainerError as exc:
        warnings.warn(f"{where} was skipped: {exc}", PluginWarning, stacklevel=4)


def _load_plugins(*, reload: bool = False) -> None:
    """Register the explainers advertised in the ``multidigit.explainers`` entry points."""
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
            _register_entry_point(ep)


@validate_params({})
def list_explainers() -> list[str]:
    """Names of every available explainer (built-in and plugins), sorted.

    Examples
    --------
    >>> import multidigit as md
    >>> "gradcam" in md.list_explainers()
    True
    """
    _load_plugins()
    return sorted(set(_REGISTRY) | set(BUILTINS))


@validate_params({"name": Body("a registered explainer name (list_explainers())")})
def get_explainer(name: str) -> type:
    """The explainer class registered under ``name`` (built-ins are imported here).

    Raises
    ------
    ParameterError
        If no explainer has that name (the message lists the available ones).

    Examples
    --------
    >>> import multidigit as md
    >>> md.get_explainer("saliency").name
    'saliency'
    """
    return lookup_explainer(name)


def lookup_explainer(name: Any, param: str = "name", func: str | None = None) -> type:
    """:func:`get_explainer`, with the error naming the caller's parameter ``param``.

    The caller is the declared function being called (``get_explainer`` outside one).

    Plugins are imported only for a name that is neither registered nor built in.
    """
    for attempt in range(2):
        with _LOCK:
            cls = _REGISTRY.get(name) if isinstance(name, str) else None
            if cls is not None:
                return cls
            if isinstance(name, str) and name in BUILTINS:
                return _load_builtin(name)
        if attempt == 0 and isinstance(name, str):
            _load_plugins()
    raise ParameterError(
        f"{func or caller() or 'get_explainer'}(): unknown explainer {name!r}: {param} must be one of "
        f"{', '.join(map(repr, list_explainers()))}. Third-party explainers register "
        f"through the '{ENTRY_POINT_GROUP}' entry point group (pip install the plugin)."
    )
