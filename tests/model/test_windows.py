"""multidigit.model.windows: one window per digit, centred on its ink, and back."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.model.windows import DigitWindows, windows_layer


def _blob_image(rows_per_strip, height=84, width=84):
    """Blank images with a 10-row blob at the given first row of each strip."""
    x = np.zeros((1, height, width, 1), np.float32)
    s = width // 3
    for k, top in enumerate(rows_per_strip):
        if top is not None:
            x[0, top:top + 10, k * s + 5:k * s + 15] = 1.0
    return x


def test_windows_are_centred_on_the_ink_and_blank_strips_take_the_middle():
    layer = DigitWindows(3)
    x = _blob_image([50, None, 0])
    # blob rows 50-59: centre 54.5, window of 28 rows from round(54.5 - 13.5) = 41;
    # blank strip: the middle (rows 28-55); blob at the top: clipped to row 0
    assert np.asarray(layer.tops(x)).tolist() == [[41, 28, 0]]
    out = np.asarray(layer(x))
    assert out.shape == (1, 28, 84, 1)
    assert out[0, :, :28].sum() == x[0, :, :28].sum()  # the whole blob is in its window
    np.testing.assert_array_equal(out[0, 9:19, 5:15, 0], 1.0)  # centred: rows 50-59 -> 9-18


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_bad_number_of_digits_is_one_clear_error(bad):
    with pytest.raises(md.ParameterError, match="n_digits"):
        DigitWindows(bad)


def test_windows_keep_every_digit_of_triple_mnist():
    ds = md.load_dataset("mini", images_per_class=1, seed=0)
    x = ds.test.images[:64]
    out = np.asarray(DigitWindows(3)(x))
    assert out.shape == (64, 28, 84, 1)
    kept = out.reshape(64, -1).sum(1) / x.reshape(64, -1).sum(1)
    assert kept.min() > 0.99  # MNIST digits are centred on their mass in 28x28


def test_restore_puts_windows_back_where_they_came_from():
    ds = md.load_dataset("mini", images_per_class=1, seed=0)
    x = ds.test.images[:16]
    layer = DigitWindows(3)
    back = np.asarray(layer.restore(np.asarray(layer(x))[..., 0], layer.tops(x), 84, 84))
    assert back.shape == (16, 84, 84)
    tops = np.asarray(layer.tops(x))
    inside = np.zeros_like(back, bool)
    for i in range(16):
        for k in range(3):
            inside[i, tops[i, k]:tops[i, k] + 28, 28 * k:28 * k + 28] = True
    np.testing.assert_array_equal(back[inside], x[..., 0][inside])
    assert np.abs(back[~inside]).max() == 0


def test_restore_leaves_columns_between_strips_empty():
    """28 columns, 3 digits: 9-column strips at 0, 10 and 19; column 9 is in no window."""
    layer = DigitWindows(3)
    assert layer.strip_starts(28) == [0, 10, 19]
    x = np.ones((2, 28, 28, 1), np.float32)
    out = np.asarray(layer(x))
    assert out.shape == (2, 9, 27, 1)
    back = np.asarray(layer.restore(out[..., 0], layer.tops(x), 28, 28))
    # an even image: every window is the middle rows, 10-18 (centre 13.5 - 4, rounded)
    expected = np.zeros((2, 28, 28), np.float32)
    expected[:, 10:19] = 1.0
    expected[:, :, 9] = 0.0
    np.testing.assert_array_equal(back, expected)


def test_gradients_reach_only_the_pixels_in_the_windows():
    import tensorflow as tf

    model = md.build_model(seed=0)
    x = tf.constant(_blob_image([50, 10, 30]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(model(x, training=False)["digit_0"] ** 2)
    g = np.abs(tape.gradient(y, x).numpy()[0, ..., 0])
    assert g[41:69, :28].sum() > 0
    assert g[:41, :28].max() == 0 and g[69:, :28].max() == 0  # outside digit 0's window
    # head 0 reads its own window, and the edge of the next one its convolutions
    # overlap (receptive field 18 pixels), nothing further
    assert g[:, 40:].max() == 0


def test_windows_layer_is_saved_and_found(tmp_path):
    model = md.build_model(seed=0)
    again = md.load_model(md.save_model(model, tmp_path / "w.keras"))
    assert isinstance(windows_layer(again), DigitWindows)
    assert windows_layer(md.build_model(preset="small", input_shape=(28, 28, 1))) is None


def test_windows_work_on_the_jax_backend(tmp_path):
    """Backend-agnostic Keras ops: the same windows on JAX (subprocess)."""
    import os
    import subprocess
    import sys

    pytest.importorskip("jax")
    script = (
        "import numpy as np, keras\n"
        "assert keras.config.backend() == 'jax'\n"
        "from multidigit.model.windows import DigitWindows\n"
        "x = np.zeros((1, 84, 84, 1), 'float32'); x[0, 50:60, 5:15] = 1\n"
        "print(np.asarray(DigitWindows(3).tops(x)).tolist(),"
        " np.asarray(DigitWindows(3)(x)).sum())\n")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("]]")[0] + "]]" == "[[41, 28, 28]]"
    assert float(out.stdout.split("]]")[1]) == 100.0


def test_training_and_explaining_through_the_windows_log_nothing():
    """One training epoch and an input-gradient explanation of the default model in a
    fresh process, with multidigit's own log level: no TensorFlow error line (a
    gather's gradient logged "oneDNN supports DT_INT64 only ..." on every training
    run, a boolean mask "... DT_BOOL ..." on every saliency map)."""
    import os
    import subprocess
    import sys

    script = (
        "import numpy as np, multidigit as md\n"
        "x = np.random.default_rng(0).random((16, 84, 84, 1), dtype=np.float32)\n"
        "y = {f'digit_{k}': np.eye(10, dtype='float32')[np.arange(16) % 10]"
        " for k in range(3)}\n"
        "model = md.build_model(seed=0)\n"
        "model.fit(x, y, epochs=1, batch_size=8, verbose=0)\n"
        "md.explain(model, x[:2], 'saliency')\n"
        "print('trained')\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=1800)
    assert out.returncode == 0 and "trained" in out.stdout, out.stderr[-2000:]
    assert "DT_INT64" not in out.stderr and "E0000" not in out.stderr, out.stderr[-2000:]


# ------------------------------------------------ explainers on a windowed model
@pytest.fixture(scope="module")
def windowed():
    model = md.build_model(seed=0)
    ds = md.load_dataset("mini", images_per_class=1, seed=0)
    return model, ds.test.images[:4]


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "layercam", "scorecam"])
def test_cam_maps_are_in_image_coordinates(windowed, method):
    """A CAM is computed on the windowed image and put back: zero outside the
    windows, and equal to the same method run on the windowed image, restored."""
    from multidigit.explanation.methods._common import windowed_model
    from multidigit.explanation.methods.helpers import window_view

    model, x = windowed
    kw = {"max_n": 8} if method == "scorecam" else {}
    kw["restrict_to_head"] = False  # the whole map (the default keeps head 1's window)
    maps = md.explain(model, x, method, head=1, normalize=False, **kw).maps
    assert maps.shape == (4, 84, 84)
    layer = windows_layer(model)
    tops, lefts = (np.asarray(t) for t in layer.origins(x))
    inside = np.zeros((4, 84, 84), bool)
    for i in range(4):
        for k in range(3):
            left = max(lefts[i, k], 0)
            inside[i, tops[i, k]:tops[i, k] + 28, left:lefts[i, k] + 28] = True
    assert np.abs(maps[~inside]).max() == 0
    assert maps[inside].max() > 0
    view = window_view(model)
    cut = np.asarray(view.cut(x))
    targets = np.argmax(model.predict(x, verbose=0)["digit_1"], axis=1)
    on_windows = md.explain(windowed_model(model), cut, method, head=1, target=targets,
                            normalize=False, **kw).maps
    assert on_windows.shape == (4, 28, 84)
    np.testing.assert_allclose(maps, np.asarray(view.to_image(x, on_windows)), atol=1e-5)


def test_windowed_copy_predicts_like_the_model_and_follows_training(windowed):
    from multidigit.explanation.methods._common import windowed_model
    from multidigit.explanation.methods.helpers import window_view

    model, x = windowed
    cut = np.asarray(window_view(model).cut(x))
    copy = windowed_model(model)
    np.testing.assert_allclose(copy.predict(cut, verbose=0)["digit_2"],
                               model.predict(x, verbose=0)["digit_2"], rtol=1e-5, atol=1e-6)
    kernel = model.get_layer("conv_1").kernel
    kernel.assign(kernel * 0.5)  # "further training"
    copy = windowed_model(model)
    np.testing.assert_allclose(np.asarray(copy.get_layer("conv_1").kernel), np.asarray(kernel))


@pytest.mark.parametrize("method", ["saliency", "guided_backprop", "activation_maximization",
                                    "deepdream"])
def test_input_space_explainers_keep_the_image_size(windowed, method):
    model, x = windowed
    maps = md.explain(model, x[:2], method).maps
    assert maps.shape[-2:] == (84, 84)


# ----------------------------------------------------------------- windows that follow the ink


def _blobs_at(columns, height=84, width=84):
    """One 10x10 blob per digit, first column given, rows 30-39."""
    x = np.zeros((1, height, width, 1), np.float32)
    for c in columns:
        x[0, 30:40, c:c + 10] = 1.0
    return x


def test_windows_follow_digits_that_left_their_thirds():
    # digit 0 moved right by 12, digit 1 stays, digit 2 moved left by 12 (strips at
    # 0/28/56 cut digits 0 and 2 in two)
    x = _blobs_at([9 + 12, 37, 65 - 12])
    fixed, follow = DigitWindows(3), DigitWindows(3, follow_columns=True)
    assert np.asarray(fixed.lefts(x)).tolist() == [[0, 28, 56]]
    lefts = np.asarray(follow.lefts(x))[0]
    assert lefts.tolist() == [c - 9 for c in (21, 37, 53)]  # blob centre c + 4.5
    out = np.asarray(follow(x))
    for k in range(3):  # each window holds its whole blob, centred (and bits of the
        window = out[0, :, 28 * k:28 * (k + 1), 0]  # neighbours, 6 columns away)
        np.testing.assert_array_equal(window[9:19, 9:19], 1.0)
    assert np.asarray(fixed(x))[0, :, :28].sum() < 100.0  # the fixed strip cut it


def test_following_windows_keep_the_thirds_on_triple_mnist_and_a_blank_image():
    ds = md.load_dataset("mini", images_per_class=1, seed=0)
    x = ds.test.images[:64]
    lefts = np.asarray(DigitWindows(3, follow_columns=True).lefts(x))
    assert np.abs(lefts - np.array([0, 28, 56])).max() <= 6
    blank = np.zeros((2, 84, 84, 1), np.float32)
    assert np.asarray(DigitWindows(3, follow_columns=True).lefts(blank)).tolist() == \
        [[0, 28, 56]] * 2


def test_restore_with_lefts_puts_following_windows_back():
    x = _blobs_at([17, 37, 57])
    layer = DigitWindows(3, follow_columns=True)
    tops, lefts = layer.origins(x)
    back = np.asarray(layer.restore(np.asarray(layer(x))[..., 0], tops, 84, 84, lefts))
    np.testing.assert_array_equal(back, x[..., 0])
    with pytest.raises(ValueError, match="lefts"):
        layer.restore(np.asarray(layer(x))[..., 0], tops, 84, 84)


def test_follow_columns_is_saved_with_the_layer():
    layer = DigitWindows(3, follow_columns=True)
    again = DigitWindows.from_config(layer.get_config())
    assert again.follow_columns is True
    with pytest.raises(md.ParameterError, match="follow_columns"):
        DigitWindows(3, follow_columns="yes")


# ----------------------------------------------------------------- layout augmentation


def _layout_model(**fields):
    from dataclasses import replace

    import keras

    from multidigit.model._blocks import _layout
    from multidigit.model.presets import PRESETS

    arch = replace(PRESETS["shared"], **fields)
    image = keras.Input((84, 84, 1))
    return keras.Model(image, _layout(image, arch, seed=0, n_digits=3))


def test_layout_augmentation_passes_images_through_outside_training():
    ds = md.load_dataset("mini", images_per_class=1, seed=0)
    x = ds.test.images[:8]
    model = _layout_model(layout_shift=0.1, layout_scale=(0.7, 1.4))
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), x)


def test_layout_augmentation_moves_each_digit_on_its_own_while_training():
    x = _blobs_at([9, 37, 65])
    model = _layout_model(layout_shift=0.1, layout_scale=None, layout_fraction=1.0)
    moved = np.asarray(model(np.repeat(x, 32, axis=0), training=True))[..., 0]
    firsts = np.array([[np.flatnonzero(m[35, 28 * k - (3 if k else 0):28 * k + 40]
                                       > 0.5)[0] for k in range(3)] for m in moved])
    assert len({tuple(f) for f in firsts}) > 16  # the three digits move independently
    assert np.abs(moved.sum((1, 2)) - 300).max() < 1e-3 * 300 + 30  # ink kept (edges aside)


def test_layout_fraction_leaves_the_other_images_as_they_are():
    x = np.repeat(_blobs_at([9, 37, 65]), 64, axis=0)
    half = np.asarray(_layout_model(layout_shift=0.1, layout_scale=(0.7, 1.4),
                                    layout_fraction=0.5)(x, training=True))
    kept = np.array([np.allclose(h, x[0], atol=1e-5) for h in half])
    assert 16 < kept.sum() < 48  # about half the images kept, the others moved
    every = np.asarray(_layout_model(layout_shift=0.1, layout_scale=(0.7, 1.4),
                                     layout_fraction=1.0)(x, training=True))
    assert not any(np.allclose(e, x[0], atol=1e-5) for e in every)
    from multidigit.model.layout import DigitLayout

    assert DigitLayout.from_config(DigitLayout(3, 0.1, fraction=0.25).get_config()).fraction == 0.25
    with pytest.raises(md.ParameterError, match="fraction"):
        DigitLayout(3, 0.1, fraction=1.5)
