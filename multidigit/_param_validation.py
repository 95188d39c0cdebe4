"""One place for argument checks: every bad argument raises :class:`ParameterError`.

Each helper names the function and the parameter, says what is allowed and shows the
value received, so a message reads like::

    build_model(): dropout must be a number in [0, 1); got 1.5.

Written by hand rather than with a schema library: the checks are a handful of
one-liners and a dependency would be heavier than the code it replaces.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from .errors import ParameterError

__all__ = [
    "check_choice",
    "check_int",
    "check_number",
    "check_bool",
    "check_shape",
    "fail",
]


def _where(func: str | None, name: str) -> str:
    return f"{func}(): {name}" if func else name


def fail(name: str, allowed: str, value: Any, func: str | None = None,
         hint: str = "") -> ParameterError:
    """The error for ``name`` (which must be ``allowed``) given ``value``; raise it.

    Examples
    --------
    >>> fail("k", "an integer >= 2", 1, "make_folds")
    ParameterError('make_folds(): k must be an integer >= 2; got 1.')
    """
    msg = f"{_where(func, name)} must be {allowed}; got {value!r}."
    if hint:
        msg += f" {hint}"
    return ParameterError(msg)


def check_choice(name: str, value: Any, choices: Iterable[Any], func: str | None = None,
                 hint: str = "") -> Any:
    """Check that ``value`` is one of ``choices``; return it.

    Examples
    --------
    >>> check_choice("activation", "softmax", ("softmax", "sigmoid"))
    'softmax'
    >>> check_choice("activation", "relu", ("softmax", "sigmoid"))
    Traceback (most recent call last):
    ...
    multidigit.errors.ParameterError: activation must be one of 'softmax', 'sigmoid'; got 'relu'.
    """
    choices = tuple(choices)
    try:
        ok = value in choices
    except TypeError:  # unhashable value against a set-like
        ok = False
    if not ok:
        raise fail(name, "one of " + ", ".join(map(repr, choices)), value, func, hint)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: Any, *, min: int | None = None, max: int | None = None,
              none_ok: bool = False, func: str | None = None, hint: str = "") -> Any:
    """Check that ``value`` is an integer in ``[min, max]`` (``None`` if ``none_ok``).

    Examples
    --------
    >>> check_int("k", 5, min=2)
    5
    >>> check_int("n_digits", 2.5, min=1)
    Traceback (most recent call last):
    ...
    multidigit.errors.ParameterError: n_digits must be an integer >= 1; got 2.5.
    """
    if value is None and none_ok:
        return None
    ok = _is_int(value) and (min is None or value >= min) and (max is None or value <= max)
    if not ok:
        raise fail(name, "an integer" + _range_text(min, max, True, True)
                   + (" or None" if none_ok else ""), value, func, hint)
    return int(value)


def _range_text(lo: Any, hi: Any, lo_inc: bool, hi_inc: bool) -> str:
    if lo is not None and hi is not None:
        return f" in {'[' if lo_inc else '('}{lo}, {hi}{']' if hi_inc else ')'}"
    if lo is not None:
        return f" {'>=' if lo_inc else '>'} {lo}"
    if hi is not None:
        return f" {'<=' if hi_inc else '<'} {hi}"
    return ""


def check_number(name: str, value: Any, *, min: float | None = None,
                 max: float | None = None, min_inclusive: bool = True,
                 max_inclusive: bool = True, none_ok: bool = False,
                 func: str | None = None, hint: str = "") -> Any:
    """Check that ``value`` is a finite real number in the given range; return it.

    Examples
    --------
    >>> check_number("dropout", 0.25, min=0, max=1, max_inclusive=False)
    0.25
    >>> check_number("learning_rate", -1, min=0, min_inclusive=False, func="build_model")
    Traceback (most recent call last):
    ...
    multidigit.errors.ParameterError: build_model(): learning_rate must be a number > 0; got -1.
    """
    if value is None and none_ok:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = math.isfinite(v)
        if ok and min is not None:
            ok = v >= min if min_inclusive else v > min
        if ok and max is not None:
            ok = v <= max if max_inclusive else v < max
    if not ok:
        raise fail(name, "a number" + _range_text(min, max, min_inclusive, max_inclusive)
                   + (" or None" if none_ok else ""), value, func, hint)
    return value


def check_bool(name: str, value: Any, func: str | None = None) -> bool:
    """Check that ``value`` is ``True`` or ``False``.

    Examples
    --------
    >>> check_bool("progress", True)
    True
    """
    if not isinstance(value, bool):
        raise fail(name, "True or False", value, func)
    return value


def check_shape(name: str, value: Any, length: int, *, min: int = 1,
                func: str | None = None, hint: str = "") -> tuple[int, ...]:
    """Check that ``value`` is a sequence of ``length`` integers >= ``min``.

    Examples
    --------
    >>> check_shape("input_shape", (28, 84, 1), 3)
    (28, 84, 1)
    >>> check_shape("input_shape", (0, 28, 1), 3)
    Traceback (most recent call last):
    ...
    multidigit.errors.ParameterError: input_shape must be a tuple of 3 integers >= 1; got (0, 28, 1).
    """
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) == length
    ok = ok and all(_is_int(v) and v >= min for v in value)
    if not ok:
        raise fail(name, f"a tuple of {length} integers >= {min}", value, func, hint)
    return tuple(int(v) for v in value)
