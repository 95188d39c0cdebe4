"""Issue 16 fixes: one-output models, Grad-CAM++ with huge logits."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md

GRADIENT_METHODS = [("saliency", {}), ("saliency", {"smooth": 2}), ("guided_backprop", {}),
                    ("gradcam", {}), ("gradcam++", {}), ("layercam", {}),
                    ("scorecam", {"max_n": 2}), ("activation_maximization", {"steps": 2})]


def _sequential():
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv_1"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])


def _one_head_builds():
    import keras

    yield "sequential", _sequential()
    yield "n_digits=1", md.build_model("softmax", "categorical_crossentropy",
                                       input_shape=(28, 28, 1), preset="small",
                                       filters=(4, 8), dense_units=16, n_digits=1, seed=0)
    full = md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                          preset="small", filters=(4, 8), dense_units=16, seed=0)
    yield "head sub-model", keras.Model(full.inputs[0], full.get_layer("digit_1").output)


@pytest.fixture(scope="module")
def one_output_models():
    return dict(_one_head_builds())


@pytest.mark.parametrize("kind", ["sequential", "n_digits=1", "head sub-model"])
@pytest.mark.parametrize("method, options", GRADIENT_METHODS)
def test_gradient_explainers_on_one_output_models(one_output_models, kind, method, options):
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    ex = md.explain(one_output_models[kind], x, method, **options)
    assert ex.maps.shape == (2, 1, 28, 28)
    assert np.all(np.isfinite(ex.maps))


def test_gradcam_plus_plus_huge_logits():
    """Logits far above 88.7 (exp overflows float32) still give finite, sensible maps."""
    import keras

    model = md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                           preset="small", filters=(4, 8), dense_units=16, seed=0)
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    ref = md.explain(model, x, "gradcam++", head=0, target=3).maps
    head = model.get_layer("digit_0")
    head.bias.assign(head.bias + 500.0)  # logits ~500: exp() overflows; gradients unchanged
    feats = keras.Model(model.inputs[0], head.input)(x)
    logits = np.asarray(feats) @ np.asarray(head.kernel) + np.asarray(head.bias)
    assert logits[:, 3].max() > 100
    big = md.explain(model, x, "gradcam++", head=0, target=3).maps
    assert np.all(np.isfinite(big))
    np.testing.assert_allclose(big, ref, atol=1e-5)  # a bias does not move Grad-CAM++
