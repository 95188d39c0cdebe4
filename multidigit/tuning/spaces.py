"""Search spaces as plain data: the named ones, their check, and the model they describe.

A search space is a dict ``{hyperparameter: spec}``; :func:`check_search_space`
validates it up front (a bad space is a bad argument: :class:`~multidigit.ParameterError`)
and :func:`model_kwargs` turns one trial's values into :func:`multidigit.build_model`
arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from multidigit._param_validation import Body, check_choice, fail, validate_params
from multidigit.errors import ParameterError

__all__ = ["SEARCH_SPACES", "check_search_space", "model_kwargs"]

#: Search spaces, as plain data.  Keys name what is tuned; each value says how:
#:
#: ``{"type": "int", "min": a, "max": b, "step": s, "sampling": "linear"|"log"}``,
#: ``{"type": "float", "min": a, "max": b, "step": None, "sampling": "linear"|"log"}``,
#: ``{"type": "bool"}``, ``{"type": "choice", "values": [...]}`` or
#: ``{"type": "fixed", "value": v}``.
#:
#: Keys: ``conv_1 .. conv_n`` (filters of each conv block; their number is the
#: number of blocks), ``dense_units``, ``dropout``, ``dense_dropout``, ``l2``,
#: ``batch_norm``, ``learning_rate``, ``batch_size`` and ``preset`` (the
#: architecture the other keys override, default ``"tuned"``; see
#: :data:`multidigit.model.build.PRESETS`).
#:
#: * ``"shared"``: around multidigit's default model (``shared`` preset): filters,
#:   dense width, block and dense dropout and learning rate;
#: * ``"study"``: the study's search (conv 32-128/64-256/128-512, dense 128-512);
#: * ``"wide"``: the study's plus learning rate, dropouts, L2, batch norm, batch size;
#: * ``"tiny"``: one small conv block, for tests and examples.
SEARCH_SPACES: dict[str, dict[str, dict[str, Any]]] = {
    "shared": {
        "preset": {"type": "fixed", "value": "shared"},
        "conv_1": {"type": "choice", "values": [16, 32, 48]},
        "conv_2": {"type": "choice", "values": [32, 64, 96]},
        "conv_3": {"type": "choice", "values": [64, 128, 192]},
        "dense_units": {"type": "choice", "values": [128, 256, 384]},
        "dropout": {"type": "choice", "values": [0.0, 0.25, 0.4]},
        "dense_dropout": {"type": "choice", "values": [0.3, 0.5]},
        "learning_rate": {"type": "choice", "values": [5e-4, 1e-3, 2e-3]},
    },
    "study": {
        "conv_1": {"type": "int", "min": 32, "max": 128, "step": 32},
        "conv_2": {"type": "int", "min": 64, "max": 256, "step": 64},
        "conv_3": {"type": "int", "min": 128, "max": 512, "step": 128},
        "dense_units": {"type": "int", "min": 128, "max": 512, "step": 128},
    },
    "wide": {
        "conv_1": {"type": "int", "min": 32, "max": 128, "step": 32},
        "conv_2": {"type": "int", "min": 64, "max": 256, "step": 64},
        "conv_3": {"type": "int", "min": 128, "max": 512, "step": 128},
        "dense_units": {"type": "int", "min": 128, "max": 512, "step": 128},
        "learning_rate": {"type": "float", "min": 1e-4, "max": 1e-2, "sampling": "log"},
        "dropout": {"type": "choice", "values": [0.0, 0.1, 0.25, 0.4]},
        "dense_dropout": {"type": "choice", "values": [0.0, 0.25, 0.5]},
        "l2": {"type": "choice", "values": [0.0, 1e-4, 1e-3]},
        "batch_norm": {"type": "bool"},
        "batch_size": {"type": "choice", "values": [32, 64, 128]},
    },
    "tiny": {
        "preset": {"type": "fixed", "value": "small"},
        "conv_1": {"type": "int", "min": 4, "max": 8, "step": 4},
        "dense_units": {"type": "choice", "values": [8, 16]},
    },
}

_MODEL_KEYS = ("dense_units", "dropout", "dense_dropout", "l2", "batch_norm", "learning_rate")
_OTHER_KEYS = ("batch_size", "preset")
_FIELDS = {
    "int": ({"type", "min", "max"}, {"step", "sampling", "default"}),
    "float": ({"type", "min", "max"}, {"step", "sampling", "default"}),
    "bool": ({"type"}, {"default"}),
    "choice": ({"type", "values"}, {"default"}),
    "fixed": ({"type", "value"}, set()),
}
_SAMPLINGS = ("linear", "log", "reverse_log")
_CONV = re.compile(r"^conv_([1-9][0-9]*)$")


def _bad(key: str, problem: str) -> ParameterError:
    return ParameterError(f"search_space entry {key!r}: {problem}")


@validate_params({"space": Body("a name of SEARCH_SPACES or a dict of hyperparameters")})
def check_search_space(space: str | Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Validate a search space (a name of :data:`SEARCH_SPACES` or a dict).

    Returns a normalised copy; raises :class:`~multidigit.ParameterError` naming the
    bad key and the fix.

    Examples
    --------
    >>> check_search_space({"conv_1": {"type": "int", "min": 8, "max": 32, "step": 8}})
    {'conv_1': {'type': 'int', 'min': 8, 'max': 32, 'step': 8}}
    """
    if isinstance(space, str):
        space = SEARCH_SPACES[check_choice(
            "search_space", space, SEARCH_SPACES, hint="Or pass a dict in the same format."
        )]
    if not isinstance(space, Mapping) or not space:
        raise fail("search_space", "a non-empty dict {name: {'type': ...}} or one of "
                   + ", ".join(map(repr, SEARCH_SPACES)), space)
    out = {str(key): _check_entry(str(key), spec) for key, spec in space.items()}
    convs = sorted(int(m.group(1)) for m in map(_CONV.match, out) if m)
    if convs and convs != list(range(1, len(convs) + 1)):
        raise ParameterError(
            f"search_space: conv blocks must be numbered conv_1..conv_n without gaps, got "
            f"{[f'conv_{i}' for i in convs]}."
        )
    return out


def _check_entry(key: str, spec: Any) -> dict[str, Any]:
    """One entry ``key: spec``: a known key, a known type, the right fields and values."""
    is_conv = bool(_CONV.match(key))
    if not is_conv and key not in _MODEL_KEYS + _OTHER_KEYS:
        raise ParameterError(
            f"search_space: unknown hyperparameter {key!r}; use conv_1..conv_n, "
            f"{', '.join(_MODEL_KEYS + _OTHER_KEYS)}."
        )
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise _bad(key, f"must be a dict with a 'type' ({', '.join(_FIELDS)}), got {spec!r}.")
    kind = spec["type"]
    if kind not in _FIELDS:
        raise _bad(key, f"unknown type {kind!r}; use one of {', '.join(map(repr, _FIELDS))}.")
    _check_fields(key, kind, spec)
    spec = dict(spec)
    if kind in ("int", "float"):
        _check_range(key, kind, spec)
    if kind == "choice":
        spec["values"] = _check_values(key, spec["values"])
    if is_conv and kind in ("float", "bool"):
        raise _bad(key, f"{key!r} is a number of filters: use type 'int' or 'choice'.")
    return spec


def _check_fields(key: str, kind: str, spec: Mapping[str, Any]) -> None:
    required, optional = _FIELDS[kind]
    missing = required - set(spec)
    extra = set(spec) - required - optional
    if missing or extra:
        raise _bad(
            key,
            f"type {kind!r}: "
            + (f"missing {sorted(missing)}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unknown field(s) {sorted(extra)}" if extra else "")
            + f"; allowed fields: {sorted(required | optional)}.",
        )


def _check_range(key: str, kind: str, spec: Mapping[str, Any]) -> None:
    num = int if kind == "int" else float
    try:
        lo, hi = num(spec["min"]), num(spec["max"])
    except (TypeError, ValueError):
        raise _bad(key, "min and max must be numbers.") from None
    if lo > hi:
        raise _bad(key, f"min={lo} > max={hi}.")
    if spec.get("sampling", "linear") not in _SAMPLINGS:
        raise _bad(key, f"sampling must be one of {_SAMPLINGS}.")
    if spec.get("sampling") in ("log", "reverse_log") and lo <= 0:
        raise _bad(key, "log sampling needs min > 0.")


def _check_values(key: str, vals: Any) -> list[Any]:
    if not isinstance(vals, (list, tuple)) or not vals:
        raise _bad(key, "'values' must be a non-empty list.")
    kinds = {type(v) for v in vals}
    if len(kinds) > 1 and not kinds <= {int, float}:
        raise _bad(key, f"all 'values' must have one type, got "
                        f"{sorted(k.__name__ for k in kinds)}.")
    return list(vals)


def declare(hp: Any, name: str, spec: Mapping[str, Any]) -> Any:
    """Declare ``name`` on keras-tuner's ``hp`` as ``spec`` says; return its value."""
    kind = spec["type"]
    if kind == "int":
        return hp.Int(name, int(spec["min"]), int(spec["max"]), step=spec.get("step"),
                      sampling=spec.get("sampling", "linear"), default=spec.get("default"))
    if kind == "float":
        return hp.Float(name, float(spec["min"]), float(spec["max"]), step=spec.get("step"),
                        sampling=spec.get("sampling", "linear"), default=spec.get("default"))
    if kind == "bool":
        return hp.Boolean(name, default=spec.get("default", False))
    if kind == "choice":
        return hp.Choice(name, spec["values"], default=spec.get("default"))
    return hp.Fixed(name, spec["value"])


def public_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Hyperparameter values without keras-tuner's bookkeeping (``tuner/...``)."""
    return {k: plain(v) for k, v in values.items() if not k.startswith("tuner/")}


def plain(v: Any) -> Any:
    """A numpy scalar as a Python one (keras-tuner hands out numpy values)."""
    if isinstance(v, np.generic):
        return v.item()
    return v


@validate_params({"values": Body("a dict of hyperparameter values")})
def model_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Translate hyperparameter values into :func:`multidigit.build_model` arguments.

    Examples
    --------
    >>> model_kwargs({"conv_1": 96, "conv_2": 128, "dense_units": 256})
    {'filters': [96, 128], 'dense_units': 256, 'preset': 'tuned'}
    """
    if not isinstance(values, Mapping):
        raise fail("values", "a dict of hyperparameter values such as "
                   "TuneResult.best_hyperparameters", values)
    kw: dict[str, Any] = {}
    n_conv = sum(1 for k in values if _CONV.match(k))
    if n_conv:
        kw["filters"] = [int(values[f"conv_{i}"]) for i in range(1, n_conv + 1)]
    for key in _MODEL_KEYS:
        if key in values:
            kw[key] = values[key]
    kw["preset"] = values.get("preset", "tuned")
    return kw
