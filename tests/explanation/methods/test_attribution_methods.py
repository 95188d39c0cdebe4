"""The sampling and perturbation explainers against NumPy references and their axioms.

A tiny dense model (image -> ReLU layer -> 2 softmax heads) has analytic gradients:
d logit_t / d x = W1 diag(relu'(W1^T x + b1)) W2[:, t], computed here in NumPy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import multidigit as md
from multidigit.explanation.methods.integrated import make_baseline
from multidigit.explanation.methods.perturbation import patch_positions, rise_masks
from multidigit.explanation.testing import check_explainer
from multidigit.model.heads import predict_heads

H = W = 6
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def dense():
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((H, W, 1))
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(keras.layers.Flatten()(inp))
    outs = {f"digit_{k}": keras.layers.Dense(10, activation="softmax", name=f"digit_{k}")(hidden)
            for k in range(2)}
    model = keras.Model(inp, outs)
    w1, b1 = model.get_layer("hidden").get_weights()
    heads = [model.get_layer(f"digit_{k}").get_weights() for k in range(2)]
    return model, w1, b1, heads


def _np_logits(ref, x, head):
    _, w1, b1, heads = ref
    a = x.reshape(len(x), -1) @ w1 + b1
    w2, b2 = heads[head]
    return np.maximum(a, 0) @ w2 + b2, a


def _np_grad(ref, x, head, t):
    _, w1, _, heads = ref
    _, a = _np_logits(ref, x, head)
    w2 = heads[head][0]
    g = ((a > 0) * w2[:, t].T) @ w1.T  # (n, pixels)
    return g.reshape(x.shape)


def _np_probs(ref, x, head):
    z, _ = _np_logits(ref, x, head)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.random((3, H, W, 1)).astype(np.float32), np.array([1, 4, 7])


def test_integrated_gradients_matches_numpy_and_is_complete(dense, data):
    model, x, t = dense[0], *data
    for baseline in ("black", "blur", "uniform", 0.3):
        ig = md.explain(model, x, "integrated_gradients", head=1, target=t,
                        baseline=baseline, steps=64, batch_size=50, absolute=False,
                        normalize=False).maps
        base = make_baseline(x, baseline)
        alphas = np.linspace(0, 1, 65)
        grads = np.stack([_np_grad(dense, base + a * (x - base), 1, t) for a in alphas])
        ref = (x - base) * np.trapezoid(grads, alphas, axis=0)
        np.testing.assert_allclose(ig, ref[..., 0], rtol=1e-3, atol=1e-5)
        # completeness: the attributions sum to f(x) - f(baseline), within 1 %
        zx = _np_logits(dense, x, 1)[0][np.arange(3), t]
        zb = _np_logits(dense, base, 1)[0][np.arange(3), t]
        np.testing.assert_allclose(ig.sum(axis=(1, 2)), zx - zb, rtol=0.01,
                                   atol=0.01 * np.abs(zx - zb).max())


def test_integrated_gradients_completeness_on_a_conv_model(trained_small_model, tiny_ds):
    x, t = tiny_ds.test.images[:3], tiny_ds.test.labels[:3, 0]
    ig = md.explain(trained_small_model, x, "integrated_gradients", head=0, target=t,
                    steps=128, absolute=False, normalize=False, score="probability").maps
    p = predict_heads(trained_small_model, x)[np.arange(3), 0, t]
    p0 = predict_heads(trained_small_model, np.zeros_like(x))[np.arange(3), 0, t]
    np.testing.assert_allclose(ig.sum(axis=(1, 2)), p - p0, rtol=0.01, atol=2e-3)


def test_smoothgrad_squared_and_vargrad_match_numpy(dense, data):
    model, x, t = dense[0], *data
    samples, noise = 7, 0.3
    draws = np.random.default_rng(5).standard_normal((samples, H, W, 1), dtype=np.float32)
    sigma = noise * (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3)))[:, None, None, None]
    g = np.stack([_np_grad(dense, x + d * sigma, 0, t) for d in draws])
    opts = dict(head=0, target=t, samples=samples, noise=noise, seed=5, normalize=False,
                batch_size=4)  # 21 noisy images in calls of at most 4
    sg2 = md.explain(model, x, "smoothgrad_squared", **opts).maps
    var = md.explain(model, x, "vargrad", **opts).maps
    np.testing.assert_allclose(sg2, (g**2).mean(0)[..., 0], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(var, g.var(0)[..., 0], rtol=1e-3, atol=1e-6)
    assert var.max() > 0  # the ReLU pattern changes with the noise


def test_occlusion_matches_numpy_and_the_plugin(dense, data):
    model, x, t = dense[0], *data
    occ = md.explain(model, x, "occlusion", head=1, target=t, size=3, stride=2,
                     normalize=False, batch_size=5).maps
    base = _np_probs(dense, x, 1)[np.arange(3), t]
    total, count = np.zeros((3, H, W)), np.zeros((H, W))
    for r, c in patch_positions(H, W, 3, 2):
        xo = x.copy()
        xo[:, r:r + 3, c:c + 3] = 0.0
        drop = base - _np_probs(dense, xo, 1)[np.arange(3), t]
        total[:, r:r + 3, c:c + 3] += drop[:, None, None]
        count[r:r + 3, c:c + 3] += 1
    np.testing.assert_allclose(occ, total / count, rtol=1e-4, atol=1e-6)
    # loaded under another name, so the installed-plugin test (tests/explanation/test_plugins.py)
    # still imports `multidigit_occlusion` from the plugin's own installation
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_occlusion_plugin_source",
        ROOT / "examples" / "occlusion_plugin" / "multidigit_occlusion" / "__init__.py")
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    Plugin = source.OcclusionExplainer  # noqa: N806
    plugin = Plugin().explain(model, x, t, 1, size=3, stride=2)
    np.testing.assert_allclose(occ, plugin, rtol=1e-4, atol=1e-6)


def test_rise_matches_numpy(dense, data):
    model, x, t = dense[0], *data
    maps = md.explain(model, x, "rise", head=0, target=t, n_masks=40, grid=3, p=0.4,
                      seed=2, normalize=False, batch_size=7).maps
    masks = rise_masks(40, H, W, grid=3, p=0.4, seed=2)
    probs = np.stack([_np_probs(dense, x * m[None, :, :, None], 0)[np.arange(3), t]
                      for m in masks])
    ref = np.einsum("mn,mhw->nhw", probs, masks) / masks.sum(axis=0)
    np.testing.assert_allclose(maps, ref, rtol=1e-4, atol=1e-6)
    assert masks.min() >= 0 and masks.max() <= 1 and 0.2 < masks.mean() < 0.6


def test_rise_masks_cover_every_pixel_alike():
    """Each pixel is kept with probability p, edges included (found by the xplique peer
    check: padding the grid with zeros faded the masks to ~0.03 at the bottom right)."""
    masks = rise_masks(2000, 28, 84, grid=7, p=0.5, seed=0)
    mean = masks.mean(axis=0)
    assert np.abs(mean - 0.5).max() < 0.06, (mean.min(), mean.max())
    assert masks.reshape(2000, -1).std(axis=1).mean() > 0.2  # smooth but not constant


def test_rise_maps_do_not_depend_on_the_mask_seed(dense, data):
    """Two mask seeds give the same map (divided by the summed masks, not n_masks * p,
    whose mask-density noise made them correlate -0.1 to 0.8 here)."""
    model, x, t = dense[0], *data
    a, b = (md.explain(model, x, "rise", head=0, target=t, n_masks=200, grid=3, seed=s,
                       normalize=False).maps for s in (0, 1))
    corr = [np.corrcoef(u.ravel(), v.ravel())[0, 1] for u, v in zip(a, b)]
    assert min(corr) > 0.9, corr


@pytest.mark.parametrize("method, options", [
    ("integrated_gradients", {"steps": 4, "baseline": "blur"}),
    ("smoothgrad_squared", {"samples": 3}),
    ("vargrad", {"samples": 3}),
    ("occlusion", {"size": 5, "stride": 5}),
    ("rise", {"n_masks": 8}),
])
def test_new_explainers_honour_the_contract(method, options):
    check_explainer(md.get_explainer(method), options=options)


def test_bad_options_are_clear(dense, data):
    model, x = dense[0], data[0]
    with pytest.raises(md.ParameterError, match="baseline"):
        md.explain(model, x, "integrated_gradients", head=0, baseline="grey")
    with pytest.raises(md.ParameterError, match="n_masks"):
        md.explain(model, x, "rise", head=0, n_masks=0)
    with pytest.raises(md.ParameterError, match="size"):
        md.explain(model, x, "occlusion", head=0, size=99)
