"""One place for argument checks: every bad argument raises :class:`ParameterError`.

Each helper names the function and the parameter, says what is allowed and shows the
value received, so a message reads like::

    build_model(): dropout must be a number in [0, 1); got 1.5.

Every public function declares the rule of each of its parameters once, with
:func:`validate_params` (as scikit-learn's ``@validate_params`` does): the rules are
checked before the body runs, the function's name in the messages is taken from the
function itself (``__qualname__``), and ``tests/test_param_validation.py`` reads the
declarations, so a new parameter cannot go unchecked.  Checks that need several
arguments together stay in the body (declared as :class:`Body`); inside a call to a
declared function, :func:`fail` and the ``check_*`` helpers name the function the user
called without being told.

Written by hand rather than with a schema library: the checks are a handful of
one-liners and a dependency would be heavier than the code it replaces.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from multidigit.errors import ParameterError

__all__ = [
    "Body",
    "Bool",
    "Check",
    "Choice",
    "Free",
    "Int",
    "Number",
    "Rule",
    "Shape",
    "validate_params",
    "caller",
    "calling",
    "check_choice",
    "check_int",
    "check_number",
    "check_bool",
    "check_shape",
    "fail",
]


#: the public function the user called (set by :func:`validate_params`), for messages
_CALLER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "multidigit_caller", default=None)


@contextlib.contextmanager
def calling(name: str) -> Iterator[None]:
    """Name ``name`` in the messages of the checks run inside the ``with`` block.

    For the few places whose name is not a declared function's: an explainer's options
    (``explain(method='rise')``), read where the explainer is called.

    Examples
    --------
    >>> with calling("explain(method='rise')"):
    ...     check_int("n_masks", 0, min=1)
    Traceback (most recent call last):
    ...
    multidigit.errors.ParameterError: explain(method='rise')(): n_masks must be an integer >= 1; got 0.
    """
    token = _CALLER.set(name)
    try:
        yield
    finally:
        _CALLER.reset(token)


def caller() -> str | None:
    """The name of the declared function being called (``None`` outside one).

    Examples
    --------
    >>> caller() is None
    True
    """
    return _CALLER.get()


def _where(func: str | None, name: str) -> str:
    func = func or _CALLER.get()
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
    >>> with calling("build_model"):
    ...     check_number("learning_rate", -1, min=0, min_inclusive=False)
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


# =========================================================================== declarations
class Rule:
    """What one parameter accepts; :meth:`check` raises :class:`ParameterError` if not.

    ``invalid`` is a value the rule refuses (``None`` where no single value is refused,
    as for :class:`Body` and :class:`Free`): the table-driven test calls every declared
    function with it.
    """

    invalid: Any = None

    def check(self, name: str, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Int(Rule):
    """An integer in ``[min, max]`` (or ``None`` if ``none_ok``)."""

    min: int | None = None
    max: int | None = None
    none_ok: bool = False
    hint: str = ""
    invalid: Any = 1.5

    def check(self, name: str, value: Any) -> None:
        check_int(name, value, min=self.min, max=self.max, none_ok=self.none_ok,
                  hint=self.hint)


@dataclass(frozen=True)
class Number(Rule):
    """A finite real number in the given range (or ``None`` if ``none_ok``)."""

    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    none_ok: bool = False
    invalid: Any = "a string"

    def check(self, name: str, value: Any) -> None:
        check_number(name, value, min=self.min, max=self.max,
                     min_inclusive=self.min_inclusive, max_inclusive=self.max_inclusive,
                     none_ok=self.none_ok)


@dataclass(frozen=True)
class Bool(Rule):
    """``True`` or ``False``."""

    invalid: Any = "yes"

    def check(self, name: str, value: Any) -> None:
        check_bool(name, value)


@dataclass(frozen=True)
class Choice(Rule):
    """One of ``choices`` (a tuple, or a callable returning one, read at call time)."""

    choices: Any
    hint: str = ""
    invalid: Any = "not-a-choice"

    def check(self, name: str, value: Any) -> None:
        choices = self.choices() if callable(self.choices) else self.choices
        check_choice(name, value, choices, hint=self.hint)


@dataclass(frozen=True)
class Shape(Rule):
    """A sequence of ``length`` integers >= ``min``."""

    length: int
    min: int = 1
    hint: str = ""

    @property
    def invalid(self) -> Any:  # type: ignore[override]
        return (self.min - 1,) * self.length

    def check(self, name: str, value: Any) -> None:
        check_shape(name, value, self.length, min=self.min, hint=self.hint)


@dataclass(frozen=True)
class Check(Rule):
    """Checked by ``func(value)``, a helper several functions share (it raises)."""

    func: Callable[[Any], Any]
    invalid: Any = None

    def check(self, name: str, value: Any) -> None:
        self.func(value)


@dataclass(frozen=True)
class Body(Rule):
    """Checked in the function's body (the check needs other arguments or the data);
    ``what`` says what is accepted.  ``tests/param_cases_*.py`` holds its bad-argument
    row."""

    what: str

    def check(self, name: str, value: Any) -> None:
        return None


@dataclass(frozen=True)
class Free(Rule):
    """Any value is accepted (a name, a title, a path the OS checks); ``why`` says so."""

    why: str

    def check(self, name: str, value: Any) -> None:
        return None


F = TypeVar("F", bound=Callable[..., Any])


def caller_name(func: Callable[..., Any]) -> str:
    """The name messages give ``func``: its ``__qualname__`` (a class for ``__init__``).

    Examples
    --------
    >>> caller_name(check_int), caller_name(Int.__init__)
    ('check_int', 'Int')
    """
    name = func.__qualname__
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def validate_params(rules: Mapping[str, Rule]) -> Callable[[F], F]:
    """Declare the rule of every parameter of a public function; check them per call.

    The rules run in the order of the signature, on the arguments given (defaults are
    valid by construction), before the body.  While the call runs, :func:`fail` and the
    ``check_*`` helpers name the function the user called (the outermost declared one)
    unless told another name.  The rules are kept on the function as
    ``__param_rules__`` for the tests.

    Examples
    --------
    >>> @validate_params({"k": Int(min=2), "grouped": Bool()})
    ... def folds(k=5, grouped=True):
    ...     return k
    >>> folds(3)
    3
    >>> folds(1)
    Traceback (most recent call last):
    ...
    multidigit.errors.ParameterError: folds(): k must be an integer >= 2; got 1.
    """
    rules = dict(rules)

    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        unknown = sorted(set(rules) - set(sig.parameters))
        if unknown:
            raise TypeError(f"validate_params: {func.__qualname__} has no parameter {unknown}")
        name = caller_name(func)
        order = [p for p in sig.parameters if p in rules]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _CALLER.set(name) if _CALLER.get() is None else None
            try:
                given = sig.bind(*args, **kwargs).arguments
                for pname in order:
                    if pname in given:
                        rules[pname].check(pname, given[pname])
                return func(*args, **kwargs)
            finally:
                if token is not None:
                    _CALLER.reset(token)

        # the signature for inspect.getfullargspec too (it does not follow __wrapped__):
        # Keras reads a layer's __init__ with it to record the layer's config
        wrapper.__signature__ = sig  # type: ignore[attr-defined]
        wrapper.__param_rules__ = rules  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
