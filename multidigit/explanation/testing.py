"""Test kit for explainer authors, in the spirit of scikit-learn's ``check_estimator``.

:func:`check_explainer` runs every check and reports all that failed at once.

Examples
--------
>>> from multidigit.explanation.testing import check_explainer
>>> from multidigit.explanation.methods import GradCAMExplainer
>>> check_explainer(GradCAMExplainer)          # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from multidigit._param_validation import Body, Free, validate_params
from multidigit.errors import ExplainerError
from multidigit.explanation.methods.base import capabilities

__all__ = ["check_explainer"]


def _tiny_model() -> Any:
    from multidigit.model.build import build_model

    # 2 heads and 20x20 inputs, on purpose not the usual 3 x 28x28: an explainer must
    # not hard-code either.
    return build_model(
        "softmax",
        "categorical_crossentropy",
        input_shape=(20, 20, 1),
        preset="small",
        filters=(4, 6),
        dense_units=12,
        n_digits=2,
        seed=0,
        compile=False,
    )


def _snapshot(
    model: Any, x: np.ndarray
) -> tuple[list[np.ndarray], list[Any], dict[str, np.ndarray]]:
    import keras

    weights = [np.array(w, copy=True) for w in model.get_weights()]
    attrs = [
        (l.name, getattr(l, "activation", None), l.trainable, getattr(l, "rate", None))
        for l in model.layers
    ]
    probe = keras.Model(model.inputs[0], {l.name: l.output for l in model.layers[1:]})
    acts = {k: np.asarray(v) for k, v in probe(x, training=False).items()}
    return weights, attrs, acts


class _Failures(list):
    """The failed checks, collected so that one run reports all of them."""

    def check(self, ok: Any, message: str) -> bool:
        if not ok:
            self.append(message)
        return bool(ok)


def _run(inst: Any, label: str, failures: _Failures, model: Any, x: np.ndarray,
         t: np.ndarray | None, h: int | None, options: dict[str, Any]) -> np.ndarray | None:
    """One explain() call; a crash or a non-finite / non-float result is a failure."""
    try:
        out = inst.explain(model, x.copy(), None if t is None else t.copy(), h, **options)
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        failures.append(f"{label}: explain() raised {type(exc).__name__}: {exc} "
                        f"(batch of {len(x)}, head_index={h}).")
        return None
    if not failures.check(isinstance(out, np.ndarray),
                          f"{label}: explain() must return a numpy array, got "
                          f"{type(out).__name__}."):
        return None
    ok = failures.check(np.issubdtype(out.dtype, np.floating),
                        f"{label}: explain() must return floats, got dtype {out.dtype}.")
    ok = failures.check(ok and np.all(np.isfinite(out)),
                        f"{label}: explain() returned NaN or inf values.") and ok
    return out if ok else None


def _check_head(inst: Any, kind: str, label: str, failures: _Failures, model: Any,
                x3: np.ndarray, t3: np.ndarray | None, h: int | None,
                options: dict[str, Any]) -> None:
    """Shape, determinism and batch independence for one head."""
    out3 = _run(inst, label, failures, model, x3, t3, h, options)
    if kind == "model_level":
        again = _run(inst, label, failures, model, x3[:1], None, h, options)
        if out3 is not None and again is not None:
            failures.check(again.shape == out3.shape and np.allclose(again, out3),
                           f"{label}: model_level explainer depends on the images.")
        return
    again = _run(inst, label, failures, model, x3, t3, h, options)
    out1 = _run(inst, label, failures, model, x3[:1], None if t3 is None else t3[:1], h,
                options)
    if out3 is None:
        return
    if again is not None:
        failures.check(
            again.shape == out3.shape and np.allclose(again, out3, rtol=1e-5, atol=1e-6),
            f"{label}: not deterministic: two identical calls gave different results "
            f"(head_index={h}); seed any randomness.")
    if out1 is None:
        return
    if kind == "per_head":
        ok = all(failures.check(
            out.shape == (n, 20, 20),
            f"{label}: per-head maps must have shape (n, H, W) = ({n}, 20, 20) for "
            f"head_index={h}, got {out.shape}.") for n, out in ((3, out3), (1, out1)))
    else:
        ok = failures.check(
            out3.shape[0] == 3 and out1.shape[0] == 1 and out1.shape[1:] == out3.shape[1:],
            f"{label}: per-image results must have shape (n, ...) with n = batch size; "
            f"got {out1.shape} for 1 image and {out3.shape} for 3.")
    if ok:
        failures.check(
            np.allclose(out1[0], out3[0], rtol=1e-4, atol=1e-5),
            f"{label}: the result for an image changes with the rest of the batch "
            f"(head_index={h}); explain each image independently.")


def _check_unchanged(label: str, failures: _Failures, before: Any, after: Any) -> None:
    """The model's weights, layer attributes and activations are as before."""
    failures.check(len(before[0]) == len(after[0]) and all(
        np.array_equal(a, b) for a, b in zip(before[0], after[0])),
        f"{label}: explain() changed the model's weights; work on a clone or sub-model.")
    for (n0, a0, t0, r0), (_, a1, t1, r1) in zip(before[1], after[1]):
        failures.check(
            a0 is a1 and t0 == t1 and r0 == r1,
            f"{label}: explain() changed layer {n0!r} of the model (activation, trainable "
            "or dropout rate); modify a clone (keras.models.clone_model) instead.")
    for k, v in before[2].items():
        failures.check(
            np.array_equal(v, after[2][k]),
            f"{label}: the model computes different activations at layer {k!r} after "
            "explain(); the model must not be modified.")


@validate_params({
    "explainer": Body("an explainer class or instance (every broken rule is listed)"),
    "options": Free("None or keyword options for explain(); failures are listed"),
})
def check_explainer(explainer: Any, *, options: dict[str, Any] | None = None) -> None:
    """Check that an explainer class honours the :class:`~multidigit.Explainer` contract.

    Builds a tiny untrained 2-head model itself and checks that the explainer

    * has a non-empty ``name`` and an ``explain`` method, and can be instantiated
      without arguments;
    * declares its kind of result with well-typed class attributes ``per_head``,
      ``model_level`` and ``backends`` (see :class:`~multidigit.Explainer` and
      :func:`~multidigit.explanation.methods.base.capabilities`);
    * returns finite float arrays of the documented shape for batches of 1 and 3
      images and every head (``(n, H, W)`` for per-head explainers, ``(n, ...)`` for
      per-image ones);
    * explains each image independently of the rest of the batch;
    * is deterministic (same call, same result);
    * does not change the model: weights, layer attributes (activations...) and every
      layer's activations are identical before and after.

    Every check runs; the error lists all that failed, not only the first.

    Parameters
    ----------
    explainer : class (or instance)
        The explainer to check.
    options : dict, optional
        Keyword options passed to every ``explain`` call (e.g. fewer steps).

    Raises
    ------
    AssertionError
        If any rule is violated; the message has one line per failed check.

    Examples
    --------
    >>> from multidigit.explanation.testing import check_explainer
    >>> from multidigit.explanation.methods import GradCAMExplainer
    >>> check_explainer(GradCAMExplainer)          # doctest: +SKIP
    """
    cls = explainer if isinstance(explainer, type) else type(explainer)
    name = getattr(cls, "name", None)  # any class may be checked, even one without name
    label = f"explainer {name!r} ({cls.__module__}.{cls.__qualname__})"
    failures = _Failures()
    failures.check(isinstance(name, str) and name,
                   f"{label}: `name` must be a non-empty str, got {name!r}.")
    try:
        kind = capabilities(cls).kind
    except ExplainerError as exc:
        failures.append(f"{label}: {exc}")
        kind = None
    inst = None
    if failures.check(callable(getattr(cls, "explain", None)),
                      f"{label}: has no explain() method."):
        try:
            inst = cls()
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            failures.append(f"{label}: cannot be instantiated without arguments: {exc!r}")
    if inst is not None and kind is not None:
        _check_calls(inst, kind, label, failures, dict(options or {}))
    if failures:
        raise AssertionError(f"{len(failures)} check(s) failed:\n- " + "\n- ".join(failures))


def _check_calls(inst: Any, kind: str, label: str, failures: _Failures,
                 options: dict[str, Any]) -> None:
    model = _tiny_model()
    rng = np.random.default_rng(0)
    x3 = rng.random((3, 20, 20, 1)).astype(np.float32)
    before = _snapshot(model, x3)
    targets = rng.integers(0, 10, size=3)
    for h in (range(2) if kind == "per_head" else [None]):
        _check_head(inst, kind, label, failures, model, x3,
                    targets if h is not None else None, h, options)
    _check_unchanged(label, failures, before, _snapshot(model, x3))
