"""The :class:`Explainer` base class: the contract, and the options explainers share.

An explainer is a class with a ``name`` and one method,
``explain(model, images, targets, head_index, **options)`` (see
:doc:`/writing_plugins`).  A subclass of :class:`Explainer` may instead implement only
:meth:`Explainer.attribute`, the method itself, and declare in ``common_options``
which of the shared options it takes; the base class then checks them and applies
them to the raw result in :meth:`Explainer.finish`:

``score``
    ``"logit"`` or ``"probability"``: what to differentiate (passed to ``attribute``).
``absolute``
    Reduce a per-channel result ``(n, H, W, C)`` by the maximum magnitude over
    channels (``True``) or by the signed sum (``False``).
``normalize``
    Scale each map to [0, 1].

Examples
--------
>>> import numpy as np
>>> class Brightness(Explainer):
...     name = "brightness"
...     common_options = {"normalize": True}
...     def attribute(self, model, images, targets, head_index):
...         return images                                  # (n, H, W, C)
>>> Brightness().explain(None, np.ones((1, 2, 2, 1)), None, 0).shape
(1, 2, 2)
>>> sorted(accepted_options(Brightness))
['normalize']
>>> capabilities(Brightness).kind
'per_head'
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from multidigit._param_validation import Body, check_bool, check_choice, validate_params

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["Explainer", "Capabilities", "capabilities", "SCORES", "COMMON_DEFAULTS",
           "accepted_options", "normalize_maps"]

#: What gradient explainers differentiate.
SCORES = ("logit", "probability")

#: The shared options and their usual defaults (a class may change a default).
COMMON_DEFAULTS: dict[str, Any] = {"score": "logit", "absolute": True, "normalize": True}

# explain(self, model, images, targets, head_index, ...): the positional part
_FIXED = ("self", "model", "images", "targets", "head_index")


def normalize_maps(maps: np.ndarray) -> np.ndarray:
    """Scale each map (first axis = image) to [0, 1], like tf-keras-vis' ``normalize``."""
    maps = np.asarray(maps, dtype=np.float32)
    axes = tuple(range(1, maps.ndim))
    lo = maps.min(axis=axes, keepdims=True)
    hi = maps.max(axis=axes, keepdims=True)
    return (maps - lo) / (hi - lo + 1e-7)


class Explainer:
    """Base class of explainers, and the declaration of their contract.

    Any class with a ``name`` and an ``explain`` method works (deriving is optional);
    what it declares about its result is read from the class attributes below by
    :func:`capabilities`, with this class's values as the defaults.

    Attributes
    ----------
    name : str
        Registry name (set by :func:`~multidigit.register_explainer` if left empty).
    per_head : bool
        The result depends on the output head and the target digit (attribution maps,
        ``(n, H, W)``); ``False``: one result per image, ``(n, ...)``.
    model_level : bool
        The result describes the whole model, not the images (e.g. first-layer
        filters); it overrides ``per_head``.
    backends : tuple of str
        Keras backends the explainer works with; empty means any.
    common_options : dict
        The shared options (``score``, ``absolute``, ``normalize``) this explainer
        takes, with its defaults; handled by :meth:`explain` and :meth:`finish`.
    """

    # Registry name (set by :func:`~multidigit.register_explainer` if left empty).
    name: ClassVar[str] = ""
    # The result depends on the head and the target digit: maps ``(n, H, W)``.
    per_head: ClassVar[bool] = True
    # The result describes the whole model, not the images (overrides ``per_head``).
    model_level: ClassVar[bool] = False
    # Keras backends the explainer works with; empty means any.
    backends: ClassVar[tuple[str, ...]] = ()
    # The shared options this explainer takes, with its defaults.
    common_options: ClassVar[dict[str, Any]] = {}

    def explain(
        self,
        model: "keras.Model",
        images: np.ndarray,
        targets: np.ndarray | None,
        head_index: int | None,
        **options: Any,
    ) -> np.ndarray:
        """Return the explanation of one batch: :meth:`attribute`, then :meth:`finish`."""
        common = self._common(options)
        wanted = _keyword_names(self.attribute)
        passed = {k: v for k, v in common.items() if wanted is None or k in wanted}
        raw = self.attribute(model, images, targets, head_index, **passed, **options)
        return self.finish(raw, **common)

    def attribute(
        self,
        model: "keras.Model",
        images: np.ndarray,
        targets: np.ndarray | None,
        head_index: int | None,
        **options: Any,
    ) -> np.ndarray:
        """The method itself: a raw result, ``(n, H, W)`` or per channel ``(n, H, W, C)``."""
        raise NotImplementedError(
            f"{type(self).__qualname__} must override explain() or attribute()."
        )

    def finish(self, raw: Any, *, score: str = "logit", absolute: bool = True,
               normalize: bool = False) -> np.ndarray:
        """Reduce a per-channel attribution over channels, then normalise if asked."""
        maps = np.asarray(raw, dtype=np.float32)
        if capabilities(self).kind == "per_head" and maps.ndim == 4:  # (n, H, W, C)
            maps = np.abs(maps).max(axis=-1) if absolute else maps.sum(axis=-1)
        return normalize_maps(maps) if normalize else maps

    def _common(self, options: dict[str, Any]) -> dict[str, Any]:
        """Pop the shared options from ``options``, defaulted and checked."""
        common = {k: options.pop(k, default) for k, default in self.common_options.items()}
        if "score" in common:  # named by the caller: explain(method=...), see _call
            check_choice("score", common["score"], SCORES)
        for flag in ("absolute", "normalize"):
            if flag in common:
                value = common[flag]
                value = bool(value) if isinstance(value, np.bool_) else value
                common[flag] = check_bool(flag, value)
        return common


@dataclass(frozen=True)
class Capabilities:
    """What an explainer declares about its result (see :class:`Explainer`).

    Read with :func:`capabilities`: the one place the contract's flags are read.

    Attributes
    ----------
    per_head : bool
        Maps per head and target digit, ``(n, H, W)``.
    model_level : bool
        One result for the whole model.
    backends : tuple of str
        Keras backends it works with; empty means any.
    """

    per_head: bool = Explainer.per_head
    model_level: bool = Explainer.model_level
    backends: tuple[str, ...] = Explainer.backends

    @property
    def kind(self) -> str:
        """``"model_level"``, ``"per_head"`` (attribution maps) or ``"per_image"``."""
        if self.model_level:
            return "model_level"
        return "per_head" if self.per_head else "per_image"


_DECLARED = ("per_head", "model_level", "backends")


@validate_params({"explainer": Body("an Explainer class or instance (ExplainerError if "
                                     "its declarations have the wrong type)")})
def capabilities(explainer: Any) -> Capabilities:
    """The :class:`Capabilities` that ``explainer`` (class or instance) declares.

    The class attributes ``per_head``, ``model_level`` and ``backends`` (see
    :class:`Explainer`); a class that does not derive from :class:`Explainer` and
    leaves one out gets :class:`Explainer`'s value.

    Raises
    ------
    ExplainerError
        If a declaration has the wrong type (``per_head = "yes"``, ``backends = "tf"``).

    Examples
    --------
    >>> class Filters(Explainer):
    ...     model_level = True
    >>> capabilities(Filters)
    Capabilities(per_head=True, model_level=True, backends=())
    >>> capabilities(Filters).kind
    'model_level'
    """
    from multidigit.errors import ExplainerError

    cls = explainer if isinstance(explainer, type) else type(explainer)
    # the class's own declarations, found in its MRO; Explainer's where it has none
    found = {attr: next((vars(k)[attr] for k in cls.__mro__ if attr in vars(k)),
                        vars(Explainer)[attr]) for attr in _DECLARED}
    where = f"explainer class {cls.__module__}.{cls.__qualname__}"
    for attr in ("per_head", "model_level"):
        value = found[attr]
        if not isinstance(value, (bool, np.bool_)):
            raise ExplainerError(f"{where}: `{attr}` must be True or False (a class "
                                 f"attribute), got {value!r}.")
        found[attr] = bool(value)
    backends = found["backends"]
    if isinstance(backends, str) or not all(isinstance(b, str) for b in backends or ()):
        raise ExplainerError(f"{where}: `backends` must be a tuple of Keras backend names "
                             f"such as (\"tensorflow\",) (empty: any), got {backends!r}.")
    found["backends"] = tuple(backends or ())
    return Capabilities(**found)


def _keyword_names(func: Any) -> set[str] | None:
    """Keyword options ``func`` takes after the fixed arguments; ``None``: any (``**``)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: accept anything
        return None
    names = set()
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            return None
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in _FIXED:
            names.add(p.name)
    return names


def accepted_options(explainer: Any) -> set[str] | None:
    """The option names ``explainer`` (class or instance) accepts; ``None``: any.

    Read from the signatures with :func:`inspect.signature`: an explainer that keeps
    the base class's :meth:`Explainer.explain` accepts its ``common_options`` and the
    keyword arguments of its ``attribute``; one that overrides ``explain`` accepts
    that method's keyword arguments (anything, if it takes ``**options``).
    """
    cls = explainer if isinstance(explainer, type) else type(explainer)
    if issubclass(cls, Explainer) and cls.explain is Explainer.explain:
        own = _keyword_names(cls.attribute)
        return None if own is None else own | set(cls.common_options)
    return _keyword_names(cls.explain)
