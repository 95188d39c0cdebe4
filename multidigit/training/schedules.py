"""Learning-rate schedules for :func:`multidigit.train`: step, cosine, one-cycle, constant.

A schedule is a function of the (fractional) epoch ``t``; :func:`schedule_function`
builds it from a name or wraps Keras' ``f(epoch, lr)`` callable.

Examples
--------
>>> f = schedule_function("cosine", epochs=10, learning_rate=1e-3)
>>> f(0), round(f(10), 12)
(0.001, 0.0)
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from multidigit._param_validation import Body, Int, Number, fail, validate_params

__all__ = [
    "ONECYCLE_PEAK",
    "ONECYCLE_WARMUP",
    "PER_BATCH",
    "SCHEDULES",
    "STEP_EPOCH",
    "STEP_FACTOR",
    "ScheduleLike",
    "schedule_function",
]

#: Named learning-rate schedules accepted by :func:`multidigit.train`.
SCHEDULES = ("step", "cosine", "onecycle", "constant")
#: Schedules updated every batch (smooth); the others change once per epoch.
PER_BATCH = ("cosine", "onecycle")
#: The study's step schedule: the base rate for epochs 0-9, then x0.1.
STEP_EPOCH = 10
STEP_FACTOR = 0.1
#: One-cycle: peak = ONECYCLE_PEAK x base rate, reached after ONECYCLE_WARMUP of the run.
ONECYCLE_PEAK = 3.0
ONECYCLE_WARMUP = 0.25

ScheduleLike = str | Callable[[int, float], float]


def _onecycle(base: float, epochs: int) -> Callable[[float], float]:
    """Linear warm-up to the peak, then cosine decay to ``base / 1000``."""
    peak, start, end = ONECYCLE_PEAK * base, base / 10.0, base / 1000.0
    warm = ONECYCLE_WARMUP * epochs

    def onecycle(t: float) -> float:
        if t < warm:
            return start + (peak - start) * t / warm
        frac = min((t - warm) / max(epochs - warm, 1e-9), 1.0)
        return end + (peak - end) * 0.5 * (1.0 + math.cos(math.pi * frac))

    return onecycle


def _checked_callable(schedule: Callable[..., Any], base: float) -> Callable[[float], float]:
    """A user's ``f(epoch, lr)``, checked: two arguments, a finite rate > 0 each epoch."""
    try:
        inspect.signature(schedule).bind(0, base)
    except TypeError:
        raise fail("schedule", "a callable f(epoch, lr) -> lr taking two arguments",
                   repr(schedule), "train") from None
    except ValueError:  # no signature (some builtins): checked by the call below
        pass

    def lr_at(t: float) -> float:
        value = schedule(int(t), base)
        try:
            lr = float(value)
        except (TypeError, ValueError):
            lr = math.nan
        if not (math.isfinite(lr) and lr > 0):
            raise fail("schedule", "a callable returning a finite learning rate > 0",
                       f"{value!r} at epoch {int(t)}", "train")
        return lr

    return lr_at


@validate_params({
    "schedule": Body("one of SCHEDULES or a callable f(epoch, lr) -> lr"),
    "epochs": Int(min=1),
    "learning_rate": Number(min=0),
})
def schedule_function(
    schedule: ScheduleLike, *, epochs: int, learning_rate: float
) -> Callable[[float], float]:
    """The learning rate as a function of the (fractional) epoch ``t`` in ``[0, epochs)``.

    Parameters
    ----------
    schedule : {"step", "cosine", "onecycle", "constant"} or callable
        ``"step"``: the study's recipe, ``learning_rate`` for epochs 0-9 then x0.1.
        ``"cosine"``: cosine decay from ``learning_rate`` to 0 over the run.
        ``"onecycle"``: linear warm-up from ``learning_rate / 10`` to
        ``3 x learning_rate`` over the first 25 % of the run, then cosine decay to
        ``learning_rate / 1000``.  ``"constant"``: ``learning_rate`` throughout.
        A callable is Keras' ``LearningRateScheduler`` signature ``f(epoch, lr)``.
    epochs : int
        Length of the run (cosine and one-cycle stretch over it).
    learning_rate : float
        The base rate (the optimizer's rate at the start of :func:`multidigit.train`).

    Raises
    ------
    ParameterError
        An unknown schedule name.

    Examples
    --------
    >>> f = schedule_function("step", epochs=20, learning_rate=1e-3)
    >>> f(9), round(f(10), 6)
    (0.001, 0.0001)
    """
    base = float(learning_rate)
    if callable(schedule):
        return _checked_callable(schedule, base)
    if schedule == "constant":
        return lambda t: base
    if schedule == "step":
        return lambda t: base if int(t) < STEP_EPOCH else base * STEP_FACTOR
    if schedule == "cosine":
        return lambda t: base * 0.5 * (1.0 + math.cos(math.pi * min(t / epochs, 1.0)))
    if schedule == "onecycle":
        return _onecycle(base, epochs)
    raise fail("schedule", "one of " + ", ".join(map(repr, SCHEDULES))
               + " or a callable f(epoch, lr) -> lr", schedule, "train")
