"""build_model: layer names, presets, overrides, errors, save / load round trip."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ParameterError
from multidigit.model.build import PRESETS, conv_layer_names, last_conv_layer_name
from multidigit.model.losses import HeadCrossEntropy
from multidigit.model.outputs import MultiDigitModel, ProbabilityHead


def _small(**kw):
    params = dict(input_shape=(28, 28, 1), preset="small", seed=0)
    params.update(kw)
    return md.build_model("softmax", "categorical_crossentropy", **params)


def test_heads_and_layer_names():
    model = _small()
    names = [l.name for l in model.layers]
    assert sorted(model.output_names) == ["digit_0", "digit_1", "digit_2"]
    for expected in ("image", "conv_1", "bn_1", "pool_1", "conv_2", "flatten", "dense",
                     "dense_bn", "dense_drop", "digit_0", "digit_2"):
        assert expected in names
    assert conv_layer_names(model) == ["conv_1", "conv_2"]
    assert last_conv_layer_name(model) == "conv_2"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_conv_filters(preset):
    model = md.build_model(input_shape=(28, 28, 1), preset=preset, compile=False)
    filters = [model.get_layer(n).filters for n in conv_layer_names(model)]
    assert tuple(filters) == PRESETS[preset].filters
    assert model.get_layer("dense").units == PRESETS[preset].dense_units


def test_overrides():
    model = _small(filters=(4, 8, 8), dense_units=12, batch_norm=False, dropout=0.0,
                   dense_dropout=0.0, n_digits=2)
    names = [l.name for l in model.layers]
    assert [model.get_layer(n).filters for n in conv_layer_names(model)] == [4, 8, 8]
    assert model.get_layer("dense").units == 12
    assert not any(n.startswith("bn_") or n.startswith("drop_") for n in names)
    assert "dense_drop" not in names
    assert sorted(model.output_names) == ["digit_0", "digit_1"]


def test_output_shapes_and_activation():
    model = md.build_model("sigmoid", "binary_crossentropy", input_shape=(28, 28, 1),
                           preset="small", seed=0)
    out = model.predict(np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32),
                        verbose=0)
    assert set(out) == {"digit_0", "digit_1", "digit_2"}
    for v in out.values():
        assert v.shape == (5, 10)
        assert not np.allclose(v.sum(axis=1), 1.0)  # sigmoid: not a distribution
    soft = _small().predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0)
    np.testing.assert_allclose(soft["digit_1"].sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, choice",
    [
        ({"activation": "relu"}, "'softmax', 'sigmoid'"),
        ({"loss": "mse"}, "'categorical_crossentropy', 'binary_crossentropy'"),
        ({"preset": "huge"}, "'baseline', 'tuned', 'fast', 'wide', 'small'"),
        ({"objective": "logits"}, "'exact', 'keras'"),
    ],
)
def test_bad_choices_list_the_options(kwargs, choice):
    with pytest.raises(ParameterError, match="one of") as info:
        md.build_model(input_shape=(28, 28, 1), **kwargs)
    assert choice in str(info.value)
    assert "build_model()" in str(info.value)


def test_bad_shapes():
    with pytest.raises(ParameterError, match="input_shape"):
        md.build_model(input_shape=(28, 28, 3))
    with pytest.raises(ParameterError, match="filters"):
        md.build_model(input_shape=(28, 28, 1), filters=())


@pytest.mark.parametrize(
    "kwargs, name, allowed",
    [  # issue 16: each of these gave a raw Keras / TensorFlow traceback
        ({"dropout": 1.5}, "dropout", "[0, 1)"),
        ({"dense_dropout": -0.1}, "dense_dropout", "[0, 1)"),
        ({"dense_units": 0}, "dense_units", ">= 1"),
        ({"learning_rate": -1}, "learning_rate", "> 0"),
        ({"n_digits": 2.5}, "n_digits", "integer >= 1"),
        ({"n_digits": 0}, "n_digits", "integer >= 1"),
        ({"input_shape": (0, 28, 1)}, "input_shape", "integers >= 1"),
        ({"filters": (8, 0)}, "filters", "integers >= 1"),
        ({"l2": -1e-3}, "l2", ">= 0"),
        ({"batch_norm": "yes"}, "batch_norm", "True or False"),
        ({"seed": -1}, "seed", ">= 0"),
    ],
)
def test_bad_numbers_raise_parameter_error(kwargs, name, allowed):
    params = {"input_shape": (28, 28, 1), "preset": "small", **kwargs}
    with pytest.raises(ParameterError) as info:
        md.build_model(**params)
    message = str(info.value)
    assert f"build_model(): {name}" in message and allowed in message
    assert isinstance(info.value, ValueError)  # like scikit-learn's InvalidParameterError


def test_objective_exact_and_keras():
    exact = _small()
    assert isinstance(exact, MultiDigitModel)
    assert all(isinstance(exact.get_layer(n), ProbabilityHead) for n in exact.output_names)
    assert isinstance(exact.loss["digit_0"], HeadCrossEntropy)
    shortcut = _small(objective="keras")
    assert not isinstance(shortcut, MultiDigitModel)
    assert shortcut.loss["digit_0"] == "categorical_crossentropy"
    # same seed, same weights: only the objective differs
    assert all(np.array_equal(a, b) for a, b in zip(exact.get_weights(), shortcut.get_weights()))


def test_same_seed_same_weights():
    a, b, c = _small(seed=1), _small(seed=1), _small(seed=2)
    wa, wb, wc = a.get_weights(), b.get_weights(), c.get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))
    assert not all(np.array_equal(x, y) for x, y in zip(wa, wc))


def test_save_load_round_trip(tmp_path, tiny_ds):
    model = _small()
    model.fit(tiny_ds.train.images[:128], tiny_ds.train.subset(range(128)).one_hot(),
              epochs=1, batch_size=64, verbose=0)
    path = md.save_model(model, tmp_path / "m.keras")
    loaded = md.load_model(path)
    x = tiny_ds.test.images[:16]
    p1, p2 = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    for name in p1:
        np.testing.assert_array_equal(p1[name], p2[name])
    with pytest.raises(ParameterError, match=".keras"):
        md.save_model(model, tmp_path / "m.h5")
    with pytest.raises(md.ModelError, match="does not exist"):
        md.load_model(tmp_path / "missing.keras")


@pytest.mark.parametrize("damage", ["truncated", "text", "folder", "zip without config"])
def test_load_damaged_model_file_names_the_file(tmp_path, damage):
    """Issue 16: Keras says "File not found" for an existing file that is not a model."""
    import zipfile

    path = tmp_path / "m.keras"
    if damage == "truncated":
        md.save_model(_small(compile=False), path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "text":
        path.write_text("not a model\n")
    elif damage == "folder":
        path.mkdir()
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "hello")
    with pytest.raises(md.ModelError) as info:
        md.load_model(path)
    message = str(info.value)
    assert str(path) in message
    assert "not found" not in message.lower()


def test_fast_preset_pools_over_the_height():
    model = md.build_model(input_shape=(28, 28, 1), preset="fast", seed=0)
    vpool = model.get_layer("vpool")
    assert vpool.output.shape[1] == 1  # one row left: the height is pooled away
    assert vpool.output.shape[2] > 1  # columns (digit positions) are kept
    plain = md.build_model(input_shape=(28, 28, 1), preset="tuned", seed=0)
    assert "vpool" not in [layer.name for layer in plain.layers]
    off = md.build_model(input_shape=(28, 28, 1), preset="fast", vertical_pool=False, seed=0)
    assert "vpool" not in [layer.name for layer in off.layers]


def test_wide_preset_is_fast_with_wider_blocks_and_l2():
    """The default recipe's model (benchmarks/README.md): fast's height pooling,
    64/128/128 filters, Dense 256, L2 1e-3 on every conv and the dense layer."""
    model = md.build_model(input_shape=(84, 84, 1), preset="wide", seed=0)
    assert [model.get_layer(n).filters for n in conv_layer_names(model)] == [64, 128, 128]
    assert model.get_layer("vpool").output.shape[1:] == (1, 10, 128)  # 84 -> 42 -> 21 -> 10
    assert model.get_layer("dense").units == 256
    for name in ("conv_1", "conv_2", "conv_3", "dense"):
        reg = model.get_layer(name).kernel_regularizer
        assert reg is not None and float(reg.get_config()["l2"]) == pytest.approx(1e-3)
    assert model.get_layer("conv_1").padding == "same"
    assert [l.name for l in model.layers if l.name.startswith("bn_")] == ["bn_1", "bn_2", "bn_3"]


# ------------------------------------------------------------- the default: "shared"
def test_default_model_is_the_shared_preset():
    model = md.build_model(seed=0)  # no preset, no input shape: Triple MNIST's 84x84
    assert "shared" in model.name
    names = [l.name for l in model.layers]
    for expected in ("image", "digit_windows", "digit_strip_0", "augment_rotate_0",
                     "augment_shift_2", "join", "conv_1", "pool_1", "conv_2", "pool_2",
                     "conv_3", "column_0", "column_1", "column_2", "flatten", "dense",
                     "dense_bn", "dense_drop"):
        assert expected in names, expected
    # 84x84 is read at full resolution: no resize, no max over the height
    assert "resize" not in names and "vpool" not in names and "pool_3" not in names
    assert [model.get_layer(n).filters for n in conv_layer_names(model)] == [32, 64, 128]
    assert last_conv_layer_name(model) == "conv_3"
    # three 28x28 windows side by side; 28 -> 14 -> 7 by pool_1 and pool_2
    assert tuple(model.get_layer("digit_windows").output.shape[1:]) == (28, 84, 1)
    assert tuple(model.get_layer("conv_3").output.shape[1:]) == (7, 21, 128)
    # three 7x7 strips, one per digit, read by ONE dense layer (three calls, one kernel)
    for k in range(3):
        assert tuple(model.get_layer(f"column_{k}").output.shape[1:]) == (7, 7, 128)
    dense = model.get_layer("dense")
    assert len(dense._inbound_nodes) == 3
    assert tuple(dense.kernel.shape) == (7 * 7 * 128, 256)
    assert sorted(model.output_names) == ["digit_0", "digit_1", "digit_2"]


def test_shared_model_reads_each_digit_from_its_own_strip():
    """Head k only sees the k-th third of the image: changing the last third leaves
    digit_0 unchanged and changes digit_2."""
    model = md.build_model(seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((4, 84, 84, 1), dtype=np.float32)
    y = x.copy()
    y[:, :, 56:] = rng.random((4, 84, 28, 1), dtype=np.float32)
    a, b = model(x, training=False), model(y, training=False)
    np.testing.assert_array_equal(np.asarray(a["digit_0"]), np.asarray(b["digit_0"]))
    assert not np.allclose(np.asarray(a["digit_2"]), np.asarray(b["digit_2"]))


@pytest.mark.parametrize("shape, layer, windows, digit", [
    ((28, 28, 1), None, (9, 27), 16), ((42, 42, 1), None, (14, 42), 16),
    ((56, 56, 1), None, (18, 54), 18),
    ((84, 84, 1), None, (28, 84), 28), ((168, 168, 1), "AveragePooling2D", (28, 84), 28),
    ((126, 126, 1), "Resizing", (28, 84), 28), ((84, 140, 1), None, (46, 138), 28),
    ((100, 60, 1), "Resizing", (16, 48), 16)])
def test_shared_model_takes_any_input_size(shape, layer, windows, digit):
    """Taller than 84: brought down to height 84 inside the model; smaller: as it is;
    then one square window per digit, a third of the width wide, resized into
    16..28 pixels a side when it is outside (``window_resize``): never pooled below
    a 4x4 map, never larger than MNIST's 28x28 digits."""
    model = md.build_model(input_shape=shape, seed=0)
    names = {l.name: type(l).__name__ for l in model.layers}
    assert names.get("resize") == layer
    assert tuple(model.get_layer("digit_windows").output.shape[1:3]) == windows
    assert ("window_resize" in names) == (windows[0] != digit)
    assert tuple(model.get_layer("conv_1").output.shape[1:3]) == (digit, 3 * digit)
    assert tuple(model.get_layer("column_2").output.shape[1:3]) == (digit // 4, digit // 4)
    out = model.predict(np.zeros((2, *shape), np.float32), verbose=0)
    assert out["digit_1"].shape == (2, 10)


def test_shared_model_augments_only_while_training():
    model = md.build_model(input_shape=(42, 42, 1), seed=0, dense_dropout=0.0)
    x = np.random.default_rng(1).random((4, 42, 42, 1), dtype=np.float32)
    first = np.asarray(model(x, training=False)["digit_0"])
    np.testing.assert_array_equal(first, np.asarray(model(x, training=False)["digit_0"]))
    # training mode moves the image (rotation, shift); BatchNorm alone would not
    # differ between two calls on the same batch
    a = np.asarray(model(x, training=True)["digit_0"])
    b = np.asarray(model(x, training=True)["digit_0"])
    assert not np.allclose(a, b)


def _join(model):
    """The model up to ``join`` (the image after the per-digit augmentation)."""
    import keras
    return keras.Model(model.input, model.get_layer("join").output)


def _augmented(model, x):
    return np.asarray(_join(model)(x, training=True))


def test_shared_model_augments_each_digit_on_its_own(monkeypatch):
    """Each digit's window gets its own draw: what is in one window never moves into
    another, and three identical digits come out moved differently.  (The layout
    augmentation before the windows moves digits into each other on purpose; it is
    switched off here and tested in tests/test_windows.py.)"""
    from dataclasses import replace

    from multidigit.model import presets

    monkeypatch.setitem(presets.PRESETS, "shared_no_layout", replace(
        presets.PRESETS["shared"], layout_shift=0.0, layout_scale=None))
    model = md.build_model(preset="shared_no_layout", seed=0)
    digit = np.zeros((84, 28), np.float32)
    digit[30:52, 8:20] = 1.0
    middle_only = np.zeros((8, 84, 84, 1), np.float32)
    middle_only[:, :, 28:56, 0] = digit
    out = _augmented(model, middle_only)
    assert out.shape == (8, 28, 84, 1)  # the windowed image
    assert np.abs(out[:, :, 28:56]).sum() > 0
    assert np.abs(out[:, :, :28]).max() == 0 and np.abs(out[:, :, 56:]).max() == 0
    three = np.tile(digit, (1, 3))[None, :, :, None].repeat(8, axis=0)
    out = _augmented(model, three)
    assert not np.allclose(out[:, :, :28], out[:, :, 28:56])
    assert not np.allclose(out[:, :, 28:56], out[:, :, 56:])
    # not training: the windows are joined back unchanged
    windows = np.asarray(model.get_layer("digit_windows")(three))
    np.testing.assert_array_equal(np.asarray(_join(model)(three, training=False)), windows)


def test_whole_image_augmentation_moves_content_across_strips():
    """The control for the test above: one draw for the whole image (a preset with
    ``augment_per_digit=False``) shifts the middle digit into its neighbours."""
    from dataclasses import replace

    md.PRESETS["_whole"] = replace(md.PRESETS["shared"], augment_per_digit=False,
                                          augment_shift=0.3)
    try:
        model = md.build_model(preset="_whole", seed=0)
    finally:
        del md.PRESETS["_whole"]
    assert "join" not in [l.name for l in model.layers]
    import keras
    sub = keras.Model(model.input, model.get_layer("augment_shift").output)
    x = np.zeros((16, 84, 84, 1), np.float32)
    x[:, 30:52, 36:48, 0] = 1.0
    out = np.asarray(sub(x, training=True))
    assert np.abs(out[:, :, :28]).sum() + np.abs(out[:, :, 56:]).sum() > 0


def test_shared_model_too_narrow_for_the_digits():
    with pytest.raises(md.ModelError, match="too narrow"):
        md.build_model(input_shape=(42, 2, 1), n_digits=3, seed=0)


def test_shared_model_learns(small_ds):
    """A few epochs on 1,920 tiny images: far above chance (10 %) on unseen digits."""
    model = md.build_model(input_shape=small_ds.image_shape, seed=0)
    md.train(model, small_ds, epochs=4, seed=0)
    assert md.evaluate(model, small_ds.test).mean_digit_accuracy > 0.5


def test_shared_model_save_load_round_trip(tmp_path):
    model = md.build_model(seed=0)
    x = np.random.default_rng(2).random((3, 84, 84, 1), dtype=np.float32)
    path = md.save_model(model, tmp_path / "shared.keras")
    again = md.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0)["digit_2"],
                               model.predict(x, verbose=0)["digit_2"], rtol=1e-6)
    assert [l.name for l in again.layers] == [l.name for l in model.layers]


def test_study_presets_are_unchanged():
    """baseline and tuned reproduce the study: no resize, no strips, no augmentation."""
    for preset, filters in (("baseline", [32, 64]), ("tuned", [96, 128, 128])):
        model = md.build_model(input_shape=(28, 28, 1), preset=preset, seed=0)
        names = [l.name for l in model.layers]
        assert [model.get_layer(n).filters for n in conv_layer_names(model)] == filters
        assert not any(n.startswith(("resize", "augment", "column", "vpool")) for n in names)
        assert len(model.get_layer("dense")._inbound_nodes) == 1


# ---------------------------------------------------------------- issue 26
def _tiny(filters=(4,)):
    return md.build_model(input_shape=(28, 28, 1), preset="small", filters=filters,
                          dense_units=8, seed=0)


def _rewrite(src, dst, config=None, drop_weights=False, weights_from=None):
    import json
    import zipfile

    with zipfile.ZipFile(src) as z:
        items = {n: z.read(n) for n in z.namelist()}
    if config is not None:
        items["config.json"] = json.dumps(config(json.loads(items["config.json"]))).encode()
    if drop_weights:
        items.pop("model.weights.h5")
    if weights_from is not None:
        with zipfile.ZipFile(weights_from) as z:
            items["model.weights.h5"] = z.read("model.weights.h5")
    with zipfile.ZipFile(dst, "w") as z:
        for n, b in items.items():
            z.writestr(n, b)
    return dst


def _names(module, cls):
    def edit(cfg):
        cfg.update(module=module, class_name=cls)
        cfg.pop("registered_name", None)
        return cfg
    return edit


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    import keras

    d = tmp_path_factory.mktemp("hostile")
    good = md.save_model(_tiny(), d / "good.keras")
    other = md.save_model(_tiny(filters=(6,)), d / "other.keras")
    inp = keras.Input((28, 28, 1))
    keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp)).save(d / "lambda.keras")
    return {
        "lambda": (d / "lambda.keras", "Lambda layer"),
        "evilpkg": (_rewrite(good, d / "e.keras", _names("evilpkg", "Evil")), "'Evil'"),
        "os.system": (_rewrite(good, d / "o.keras", _names("os", "system")), "'system'"),
        "unknown": (_rewrite(good, d / "u.keras", _names("keras.src.models.functional",
                                                         "Nope")), "Nope"),
        "no weights": (_rewrite(good, d / "n.keras", drop_weights=True), "no weights"),
        "other weights": (_rewrite(good, d / "w.keras", weights_from=other),
                          "another model's weights"),
    }


@pytest.mark.parametrize("case", ["lambda", "evilpkg", "os.system", "unknown", "no weights",
                                  "other weights"])
def test_load_model_refuses_hostile_files_with_one_clear_error(hostile_files, case):
    path, message = hostile_files[case]
    with pytest.raises(md.ModelError, match=message) as info:
        md.load_model(path)
    assert "from_config" not in str(info.value) and "decorated" not in str(info.value)


def test_save_model_long_name_and_full_disk(tmp_path, monkeypatch):
    import errno
    import os

    from multidigit import _io

    model = _tiny()
    long = tmp_path / ("m" * 234 + ".keras")  # 240 characters: legal, temp name was not
    md.save_model(model, long)
    assert md.load_model(long).count_params() == model.count_params()
    before = long.read_bytes()

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io, "_new_temp", full)
    with pytest.raises(md.StorageError, match="disk is full"):
        md.save_model(model, long)
    assert long.read_bytes() == before


@pytest.mark.parametrize("kwargs", [{"input_shape": (2, 2, 1), "preset": "baseline"},
                                    {"input_shape": (28, 28, 1), "filters": [10**9]}])
def test_build_model_refuses_impossible_shapes_and_sizes(kwargs):
    with pytest.raises(ParameterError, match="input_shape|filters"):
        md.build_model(**kwargs)
