"""multidigit.model.losses: the four activation x loss objectives, stable, on TF and on JAX."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ParameterError
from multidigit.model.losses import (
    HeadCrossEntropy,
    cross_entropy_from_logits,
    logits_from_probabilities,
)
from multidigit.model.outputs import MultiDigitModel

COMBOS = [("softmax", "categorical_crossentropy"), ("softmax", "binary_crossentropy"),
          ("sigmoid", "categorical_crossentropy"), ("sigmoid", "binary_crossentropy")]


def _lse(a, axis=-1, keepdims=False):
    m = a.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
    return out if keepdims else out.squeeze(axis)


def reference_loss(y, z, activation, loss):
    """NumPy float64 reference in log space (huge logits too): the named loss of the
    activation's outputs, per image."""
    z = np.asarray(z, np.float64)
    n = z.shape[-1]
    if activation == "softmax":
        log_p = z - _lse(z, keepdims=True)
        others = np.where(np.eye(n, dtype=bool), -np.inf, z[..., None, :])
        log_q = _lse(others) - _lse(z, keepdims=True)  # log(1 - p_i)
    else:
        log_p, log_q = -np.logaddexp(0, -z), -np.logaddexp(0, z)
    if loss == "categorical_crossentropy":
        log_p = log_p - _lse(log_p, keepdims=True)  # Keras' reading: rescale to sum to one
        return -(y * log_p).sum(axis=-1)
    return -(y * log_p + (1 - y) * log_q).mean(axis=-1)


def naive_loss(y, z, activation, loss):
    """The textbook formulas on probabilities (fine for moderate logits)."""
    z = np.asarray(z, np.float64)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True) if activation == "softmax" else 1 / (
        1 + np.exp(-z))
    if loss == "categorical_crossentropy":
        return -(y * np.log(p / p.sum(-1, keepdims=True))).sum(-1)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def _batch(seed=0, n=8, scale=3.0):
    rng = np.random.default_rng(seed)
    z = (scale * rng.standard_normal((n, 10))).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return y, z


@pytest.mark.parametrize("activation, loss", COMBOS)
def test_formulas_match_numpy(activation, loss):
    y, z = _batch()
    got = np.asarray(cross_entropy_from_logits(y, z, activation, loss))
    np.testing.assert_allclose(got, reference_loss(y, z, activation, loss), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(got, naive_loss(y, z, activation, loss), rtol=1e-5, atol=1e-5)


def test_the_four_objectives_differ():
    y, z = _batch()
    values = {c: float(np.mean(cross_entropy_from_logits(y, z, *c))) for c in COMBOS}
    assert len({round(v, 4) for v in values.values()}) == 4, values


@pytest.mark.parametrize("activation, loss", COMBOS)
def test_extreme_logits_give_finite_loss_and_gradient(activation, loss):
    import tensorflow as tf

    y = np.eye(10, dtype=np.float32)[[0, 3]]
    z = tf.Variable(np.array([[1e4, -1e4] + [0.0] * 8, [-1e4] * 5 + [1e4] * 5], np.float32))
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(cross_entropy_from_logits(y, z, activation, loss))
    grad = tape.gradient(value, z)
    assert np.isfinite(float(value)) and np.all(np.isfinite(grad.numpy()))
    # the confident right answer costs ~nothing, the confident wrong one ~1e4 (not inf)
    per_image = np.asarray(cross_entropy_from_logits(y, z.numpy(), activation, loss))
    assert per_image[1] > 100


def test_logits_from_probabilities_round_trip():
    _, z = _batch()
    for act in ("softmax", "sigmoid"):
        p = 1 / (1 + np.exp(-z)) if act == "sigmoid" else np.exp(z) / np.exp(z).sum(1, keepdims=True)
        back = np.asarray(logits_from_probabilities(p.astype(np.float32), act))
        if act == "softmax":  # up to a constant per row
            back = back - back[:, :1] + z[:, :1]
        np.testing.assert_allclose(back, z, atol=2e-3)


def _head_model(activation, loss, objective="exact", bias=None):
    """Features (16) -> one 10-way head per digit, fixed weights: the issue's set-up."""
    model = md.build_model(activation, loss, input_shape=(28, 28, 1), preset="small",
                           filters=(2,), dense_units=16, dropout=0.0, dense_dropout=0.0,
                           batch_norm=False, n_digits=2, seed=3, objective=objective)
    if bias is not None:
        for name in ("digit_0", "digit_1"):
            layer = model.get_layer(name)
            layer.bias.assign(np.asarray(bias, np.float32))
    return model


def _model_reference(model, x, y, activation, loss):
    import keras

    feats = keras.Model(model.get_layer("image").output,
                        model.get_layer("digit_0").input)(x, training=False)
    total = 0.0
    for name, target in y.items():
        head = model.get_layer(name)
        z = np.asarray(feats, np.float64) @ np.asarray(head.kernel) + np.asarray(head.bias)
        total += reference_loss(target, z, activation, loss).mean()
    return total


def _xy(n=8):
    rng = np.random.default_rng(1)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = {f"digit_{k}": np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)] for k in range(2)}
    return x, y


@pytest.mark.parametrize("activation, loss", COMBOS)
def test_model_loss_equals_numpy_reference(activation, loss):
    model = _head_model(activation, loss)
    assert isinstance(model, MultiDigitModel)
    x, y = _xy()
    expected = _model_reference(model, x, y, activation, loss)
    from_call = float(model.compute_loss(x, y, model(x, training=False), training=False))
    evaluated = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)["loss"]
    # predictions stored earlier (no logits remembered): recovered from probabilities
    stored = {k: np.asarray(v) for k, v in model.predict(x, verbose=0).items()}
    from_stored = float(model.compute_loss(x, y, stored, training=False))
    for value in (from_call, evaluated, from_stored):
        assert value == pytest.approx(expected, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("activation, loss", COMBOS)
def test_model_with_huge_logits_stays_finite(activation, loss):
    """A bias of +-1e4: the compiled loss uses the logits, not clipped probabilities,
    and a training step keeps every weight finite."""
    bias = [1e4, -1e4, 0, 0, 0, 0, 0, 0, 0, 5e3]
    model = _head_model(activation, loss, bias=bias)
    x, y = _xy()
    expected = _model_reference(model, x, y, activation, loss)
    value = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)["loss"]
    assert np.isfinite(value) and value == pytest.approx(expected, rel=1e-5)
    hist = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_keras_shortcut_reproduces_the_issue_table():
    """objective="keras" on TensorFlow: the compiled loss of softmax + BCE is sigmoid +
    BCE's and sigmoid + CE is softmax + CE's (the cached logits); "exact" tells the
    four apart."""
    import keras

    if keras.config.backend() != "tensorflow":  # pragma: no cover
        pytest.skip("the logits shortcut is TensorFlow's")
    x, y = _xy()

    def compiled(activation, loss, objective):
        model = _head_model(activation, loss, objective)
        return model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)["loss"]

    def on_outputs(activation, loss):  # Keras' loss on plain arrays: no cached logits
        model = _head_model(activation, loss)
        probs = model.predict(x, verbose=0)
        return sum(float(keras.losses.get(loss)(y[n], np.asarray(probs[n])).numpy().mean())
                   for n in y)

    keras_ = {c: compiled(*c, "keras") for c in COMBOS}
    exact = {c: compiled(*c, "exact") for c in COMBOS}
    s, g = "softmax", "sigmoid"
    cce, bce = "categorical_crossentropy", "binary_crossentropy"
    # the shortcut: the activation changes nothing under one loss
    assert keras_[(s, bce)] == pytest.approx(keras_[(g, bce)], rel=1e-6)
    assert keras_[(g, cce)] == pytest.approx(keras_[(s, cce)], rel=1e-6)
    for c in COMBOS:  # exact: the loss of the activation's outputs, four objectives
        assert exact[c] == pytest.approx(on_outputs(*c), rel=1e-4)
    for c in [(s, cce), (g, bce)]:  # the standard pairs agree
        assert exact[c] == pytest.approx(keras_[c], rel=1e-5)
    for c in [(s, bce), (g, cce)]:  # the mixed pairs do not
        assert abs(exact[c] - keras_[c]) > 0.01 * keras_[c]
    assert len({round(v, 4) for v in exact.values()}) == 4


def test_save_load_keeps_the_loss_in_safe_mode(tmp_path):
    model = _head_model("softmax", "binary_crossentropy")
    x, y = _xy()
    before = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)["loss"]
    path = md.save_model(model, tmp_path / "m.keras")
    loaded = md.load_model(path, safe_mode=True)
    assert isinstance(loaded, MultiDigitModel)
    assert isinstance(loaded.loss["digit_0"], HeadCrossEntropy)
    assert loaded.loss["digit_0"].get_config()["activation"] == "softmax"
    after = loaded.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)["loss"]
    assert after == pytest.approx(before, rel=1e-6)


def test_head_cross_entropy_checks_its_arguments():
    with pytest.raises(ParameterError, match="activation"):
        HeadCrossEntropy("relu", "binary_crossentropy")
    with pytest.raises(ParameterError, match="'categorical_crossentropy'"):
        cross_entropy_from_logits(np.zeros((1, 2)), np.zeros((1, 2)), "softmax", "mse")


JAX_SCRIPT = r"""
import json, os, sys, tempfile
os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, os.environ["TESTS_DIR"])
import numpy as np
import keras
import multidigit as md
from multidigit.errors import ParameterError
import test_losses as t

assert keras.config.backend() == "jax"
out = {"formulas": [], "model": [], "huge": []}
y, z = t._batch()
x, yy = t._xy()
for act, loss in t.COMBOS:
    got = np.asarray(t.cross_entropy_from_logits(y, z, act, loss))
    out["formulas"].append(float(np.max(np.abs(got - t.reference_loss(y, z, act, loss)))))
    model = t._head_model(act, loss)
    expected = t._model_reference(model, x, yy, act, loss)
    value = model.evaluate(x, yy, batch_size=8, verbose=0, return_dict=True)["loss"]
    out["model"].append([value, expected])
    model = t._head_model(act, loss, bias=[1e4, -1e4, 0, 0, 0, 0, 0, 0, 0, 5e3])
    out["huge_eval"] = out.get("huge_eval", []) + [[
        model.evaluate(x, yy, batch_size=8, verbose=0, return_dict=True)["loss"],
        t._model_reference(model, x, yy, act, loss)]]
    hist = model.fit(x, yy, batch_size=8, epochs=1, verbose=0)
    out["huge"].append(bool(np.isfinite(hist.history["loss"][0]) and all(
        np.all(np.isfinite(w)) for w in model.get_weights())))
with tempfile.TemporaryDirectory() as d:
    model = t._head_model("sigmoid", "categorical_crossentropy")
    before = model.evaluate(x, yy, batch_size=8, verbose=0)
    again = md.load_model(md.save_model(model, os.path.join(d, "m.keras")), safe_mode=True)
    out["round_trip"] = [before, again.evaluate(x, yy, batch_size=8, verbose=0)]
print("RESULT " + json.dumps(out))
"""


@pytest.mark.slow
def test_the_objectives_are_the_same_on_jax(tmp_path):
    """Same formulas, same model losses (within 1e-5 of NumPy), finite training steps
    and a safe-mode round trip with KERAS_BACKEND=jax."""
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "TESTS_DIR": os.path.dirname(__file__)}
    proc = subprocess.run([sys.executable, "-c", JAX_SCRIPT], env=env, capture_output=True,
                          check=False, text=True, timeout=1800, cwd=tmp_path)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    out = json.loads(line[len("RESULT "):])
    assert max(out["formulas"]) < 1e-5
    for value, expected in out["model"]:
        assert value == pytest.approx(expected, rel=1e-5, abs=1e-5)
    assert all(out["huge"])
    for value, expected in out["huge_eval"]:  # the logits, not clipped probabilities
        assert value == pytest.approx(expected, rel=1e-5)
    assert out["round_trip"][0] == pytest.approx(out["round_trip"][1], rel=1e-6)
