"""multidigit.evaluation.measure: evaluate() and predict()."""

from __future__ import annotations

import json

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ParameterError


@pytest.fixture(scope="module")
def learned_model(small_ds):
    """Trained with md.train until it clearly reads digits.

    No batch norm: with Keras' default BN momentum (0.99) the moving variance has not
    converged after the few hundred steps a test can afford, so a BN model is still
    at chance in inference mode (the conftest ``trained_small_model`` is).
    """
    model = md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                           preset="small", batch_norm=False, seed=0)
    md.train(model, small_ds, epochs=5, batch_size=32, schedule="onecycle",
             early_stopping=False)
    return model


@pytest.fixture(scope="module")
def test_result(learned_model, small_ds):
    return md.evaluate(learned_model, small_ds.test)


# ------------------------------------------------------------------ evaluate
def test_trained_model_beats_chance_and_evaluate_is_consistent(learned_model, small_ds,
                                                                test_result):
    model, split, res = learned_model, small_ds.test, test_result
    assert res.mean_digit_accuracy > 0.25  # chance is 0.10, on unseen combinations
    # manual computation
    out = model.predict(split.images, verbose=0)
    pred = np.stack([out[f"digit_{i}"].argmax(1) for i in range(3)], axis=1)
    np.testing.assert_array_equal(res.predicted, pred)
    manual = (pred == split.labels).mean(axis=0)
    assert res.digit_accuracy == pytest.approx(manual.tolist())
    assert res.whole_accuracy == pytest.approx((pred == split.labels).all(1).mean())
    assert res.hamming_loss == pytest.approx((1 - res.mean_digit_accuracy) / 5)
    keras_eval = model.evaluate(split.images, split.one_hot(), verbose=0, return_dict=True)
    assert res.loss == pytest.approx(keras_eval["loss"], rel=1e-3)
    assert res.digit_accuracy[1] == pytest.approx(keras_eval["digit_1_accuracy"], abs=1e-6)
    assert res.confusion_matrices.shape == (3, 10, 10)
    assert res.confusion_matrices[0].sum() == len(split)
    assert np.trace(res.confusion_matrices[2]) == (pred[:, 2] == split.labels[:, 2]).sum()
    assert res.reports[0]["accuracy"] == pytest.approx(manual[0])
    d = json.loads(json.dumps(res.to_dict()))
    assert d["n_images"] == len(split) and len(d["confusion_matrices"]) == 3
    assert d["split"] == split.name and "predicted" not in d
    text = str(res)
    assert "whole-number accuracy" in text and f"{100 * res.whole_accuracy:.2f}" in text


def test_evaluate_reports_calibration(learned_model, small_ds, test_result):
    """Issue 12: Brier score and ECE (15 equal-width bins) per head, vs NumPy."""
    split, res = small_ds.test, test_result
    out = learned_model.predict(split.images, verbose=0)
    briers, eces = [], []
    for i in range(3):
        p, y = out[f"digit_{i}"].astype(np.float64), split.labels[:, i]
        briers.append(np.mean(np.sum((p - np.eye(10)[y]) ** 2, axis=1)))
        conf, hit = p.max(1), p.argmax(1) == y
        idx = np.minimum(np.ceil(conf * 15).astype(int) - 1, 14).clip(0)
        eces.append(sum(abs(hit[idx == b].mean() - conf[idx == b].mean()) * (idx == b).mean()
                        for b in range(15) if (idx == b).any()))
    assert res.brier_score == pytest.approx(briers, rel=1e-5)
    assert res.mean_brier_score == pytest.approx(np.mean(briers), rel=1e-5)
    assert res.ece == pytest.approx(eces, rel=1e-4, abs=1e-6)
    assert res.mean_ece == pytest.approx(np.mean(eces), rel=1e-4, abs=1e-6)
    d = res.to_dict()
    assert d["brier_score"] == pytest.approx(briers, rel=1e-5)
    assert d["mean_ece"] == pytest.approx(np.mean(eces), rel=1e-4, abs=1e-6)
    assert "Brier score" in str(res)


def test_evaluation_result_html_and_short_repr(test_result):
    """Issue 14: a compact notebook table with the numbers; the repr stays short."""
    res = test_result
    html = res._repr_html_()
    assert html.startswith("<table>") and "digit_2" in html
    for value in (res.whole_accuracy, res.digit_accuracy[1], res.mean_brier_score,
                  res.mean_ece):
        assert f"{value:.4f}" in html
    assert "Brier score" in html and "ECE" in html
    assert len(repr(res)) < 200 and "confusion" not in repr(res)


def test_evaluate_rejects_bad_arguments(learned_model, small_ds):
    with pytest.raises(ParameterError, match="ds.test"):
        md.evaluate(learned_model, small_ds)
    with pytest.raises(ParameterError, match="Split"):
        md.evaluate(learned_model, small_ds.test.images)
    with pytest.raises(ParameterError, match="batch_size"):
        md.evaluate(learned_model, small_ds.test, batch_size=0)


# ------------------------------------------------------------------ predict
def test_predict_arrays_and_png_files(tmp_path, learned_model, small_ds):
    from PIL import Image

    model, split = learned_model, small_ds.test.subset(np.arange(6))
    p = md.predict(model, split.images)
    assert len(p) == 6 and p.probabilities.shape == (6, 3, 10) and p.digits.shape == (6, 3)
    assert p.labels == ["".join(map(str, row)) for row in p.digits]
    ref = model.predict(split.images, verbose=0)
    np.testing.assert_allclose(p.probabilities[:, 1], ref["digit_1"], rtol=1e-5)
    assert md.predict(model, split.images[..., 0]).labels == p.labels  # (N, H, W)
    assert md.predict(model, split.images[0, ..., 0]).labels == p.labels[:1]  # one image
    assert md.predict(model, split.images[0]).labels == p.labels[:1]  # (H, W, 1)
    assert md.predict(model, split).labels == p.labels

    pixels = np.rint(split.images[..., 0] * 255).astype(np.uint8)
    assert md.predict(model, pixels).labels == p.labels  # 8-bit pixels are divided by 255
    folder = tmp_path / "imgs"
    folder.mkdir()
    paths = []
    for i, img in enumerate(pixels):
        path = folder / f"{i}.png"
        Image.fromarray(img, mode="L").save(path)
        paths.append(path)
    from_files = md.predict(model, paths)
    assert from_files.paths == [str(x) for x in paths]
    np.testing.assert_allclose(from_files.probabilities, p.probabilities, atol=0.02)
    assert md.predict(model, folder).labels == from_files.labels
    # a bigger PNG is resized to the model's input automatically
    big = tmp_path / "big.png"
    Image.fromarray(pixels[0], mode="L").resize((56, 56), Image.BICUBIC).save(big)
    assert md.predict(model, [big]).probabilities.shape == (1, 3, 10)
    d = json.loads(json.dumps(from_files.to_dict()))
    assert sorted(d) == ["digits", "labels", "paths", "probabilities"]
    with pytest.raises(md.DataError, match="does not exist"):
        md.predict(model, [tmp_path / "missing.png"])


def test_prediction_html_and_short_repr(learned_model, small_ds):
    pred = md.predict(learned_model, small_ds.test.images[:30])
    html = pred._repr_html_()
    assert html.startswith("<table>") and pred.labels[0] in html
    assert f"{float(pred.confidence[0]):.4f}" in html
    assert "30 images" in html and "first 20" in html
    assert html.count("<tr>") == 21  # header + 20 rows
    assert len(repr(pred)) < 120 and "30 images" in repr(pred)


def test_predict_rejects_one_rgb_image(learned_model, small_ds):
    """Issue 16: one (28, 28, 3) image was read as 28 images of 28 x 3 pixels."""
    rgb = np.repeat(small_ds.test.images[0], 3, axis=-1)
    with pytest.raises(md.DataError, match="RGB"):
        md.predict(learned_model, rgb)
    with pytest.raises(md.DataError, match="grey"):
        md.predict(learned_model, rgb[None])


@pytest.mark.parametrize("empty", [np.zeros((0, 28, 28, 1), np.float32),
                                   np.zeros((0, 28, 28)), []])
def test_predict_rejects_an_empty_batch(learned_model, empty):
    """Issue 16: an empty batch raised UnboundLocalError inside Keras."""
    with pytest.raises(md.DataError, match="empty"):
        md.predict(learned_model, empty)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -0.1, 1.5])
def test_predict_rejects_bad_pixels(learned_model, small_ds, bad):
    """Issue 16: an all-NaN batch was read as a number ('623')."""
    images = small_ds.test.images[:4].copy()
    images[1, 3, 3, 0] = bad
    with pytest.raises(md.DataError, match="pixels"):
        md.predict(learned_model, images)
    with pytest.raises(md.DataError, match="pixels"):
        md.predict(learned_model, np.full((2, 28, 28, 1), bad, np.float32))


# ------------------------------------------------------------------ issue 26
@pytest.fixture(scope="module")
def tiny_model():
    return md.build_model(input_shape=(28, 28, 1), preset="small", filters=(4,),
                          dense_units=8, seed=0)


def test_one_pixel_rule_for_splits_evaluate_and_predict(tiny_model, tiny_ds):
    """uint8 Splits were kept at 0-255 by evaluate (loss 107.8 against 6.75)."""
    split = tiny_ds.test.subset(np.arange(8))
    pixels = np.rint(split.images * 255).astype(np.uint8)
    as_uint8 = md.Split(pixels, split.labels, "test")
    assert as_uint8.images.dtype == np.float32 and as_uint8.images.max() <= 1.0
    a, b = md.evaluate(tiny_model, split), md.evaluate(tiny_model, as_uint8)
    assert a.loss == pytest.approx(b.loss, rel=1e-3)
    assert md.predict(tiny_model, pixels).labels == md.predict(tiny_model, split).labels


def test_masks_are_zero_one_and_other_integers_are_refused(tiny_model, tiny_ds):
    """Boolean masks and int64 0/1 arrays were divided by 255: every image read '423'."""
    mask = tiny_ds.test.images[:4] > 0.5
    ref = md.predict(tiny_model, mask.astype(np.float32)).labels
    assert md.predict(tiny_model, mask).labels == ref
    with pytest.raises(md.DataError, match="int64 pixels are ambiguous"):
        md.predict(tiny_model, mask.astype(np.int64))
    with pytest.raises(md.DataError, match="ambiguous"):
        md.Split(mask.astype(np.int64), tiny_ds.test.labels[:4])


def test_predict_refuses_an_image_of_another_size(tiny_model):
    """predict(model_28x28, one_84x84x1_image) returned 84 predictions."""
    with pytest.raises(md.DataError, match="84x84 pixels, the model reads 28x28"):
        md.predict(tiny_model, np.zeros((84, 84, 1), np.float32))
    pred = md.predict(tiny_model, np.zeros((84, 84, 1), np.float32), image_size=(84, 84))
    assert len(pred) == 1


@pytest.mark.parametrize("size", [(0, 0), "abc", (100000, 100000), (28,), -3])
def test_predict_checks_image_size(tiny_model, size):
    with pytest.raises(ParameterError, match="image_size"):
        md.predict(tiny_model, np.zeros((1, 28, 28, 1), np.float32), image_size=size)
    assert len(md.predict(tiny_model, np.zeros((1, 28, 28)), image_size=28)) == 1


def test_evaluate_checks_labels_changed_after_the_split_was_made(tiny_model, tiny_ds):
    split = tiny_ds.test.subset(np.arange(4))
    split.labels[0, 0] = -1
    with pytest.raises(md.DataError, match="labels must be digits 0-9"):
        md.evaluate(tiny_model, split)
    split.labels[0, 0] = 1
    split.images = split.images * 255  # in place, after it was checked
    with pytest.raises(md.DataError, match=r"float pixels must lie in \[0, 1\]"):
        md.evaluate(tiny_model, split)
