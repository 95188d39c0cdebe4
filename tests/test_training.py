"""train / evaluate / predict / make_folds / cross_validate / compare."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import multidigit as md
from multidigit.training import schedule_function

TINY = dict(preset="small", filters=(8,), dense_units=16)


def _tiny_model(seed=0, activation="softmax", loss="categorical_crossentropy", **kw):
    return md.build_model(activation, loss, input_shape=(28, 28, 1), seed=seed, **{**TINY, **kw})


@pytest.fixture(scope="module")
def tiny_train(tiny_ds):
    return tiny_ds.train.subset(np.arange(0, 640, 2), "train")  # 320 images


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
def tiny_val(tiny_ds):
    return tiny_ds.val.subset(np.arange(96), "val")


# ------------------------------------------------------------------ schedules
def test_schedule_functions():
    step = schedule_function("step", epochs=20, learning_rate=1e-3)
    assert [step(e) for e in (0, 9)] == [1e-3, 1e-3]
    assert step(10) == pytest.approx(1e-4) and step(19) == pytest.approx(1e-4)
    cos = schedule_function("cosine", epochs=10, learning_rate=1e-3)
    vals = [cos(t) for t in np.linspace(0, 10, 11)]
    assert vals[0] == pytest.approx(1e-3) and vals[-1] == pytest.approx(0, abs=1e-12)
    assert all(a >= b for a, b in zip(vals, vals[1:]))
    one = schedule_function("onecycle", epochs=8, learning_rate=1e-3)
    assert one(0) < one(2) and one(2) == pytest.approx(3e-3) and one(7.99) < one(0)
    with pytest.raises(md.ModelError, match="step"):
        schedule_function("linear", epochs=3, learning_rate=1e-3)


# ------------------------------------------------------------------ train
def test_train_history_schedule_checkpoint_csv(tmp_path, tiny_train, tiny_val):
    model = _tiny_model()
    ckpt, csv = tmp_path / "ck" / "best.keras", tmp_path / "log.csv"
    hist = md.train(
        model, tiny_train, validation=tiny_val, epochs=2, batch_size=64,
        schedule=lambda epoch, lr: 1e-3 * (epoch + 1), early_stopping=False,
        checkpoint=ckpt, log_csv=csv,
    )
    assert isinstance(hist, md.TrainingHistory)
    assert hist.epochs == 2 and len(hist["loss"]) == 2 and len(hist["val_loss"]) == 2
    assert hist["learning_rate"] == pytest.approx([1e-3, 2e-3])
    for k in ("digit_0_accuracy", "val_digit_2_accuracy"):
        assert k in hist.history
    assert hist.best_epoch == int(np.argmin(hist["val_loss"]))
    assert hist.images_per_second > 0 and hist.wall_time >= hist.train_time > 0
    # the optimizer's rate is restored, so a second call runs the same schedule
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(1e-3)
    assert ckpt.exists() and csv.exists()
    assert "val_loss" in csv.read_text().splitlines()[0]
    loaded = md.load_model(ckpt)
    assert sorted(loaded.output_names) == sorted(model.output_names)
    json.dumps(hist.to_dict())


def test_train_cosine_per_batch_and_split_without_validation(tiny_train):
    model = _tiny_model()
    hist = md.train(model, tiny_train, epochs=2, batch_size=64, schedule="cosine")
    assert hist.monitor == "loss" and "val_loss" not in hist.history
    # logged at the last batch of each epoch: 2 epochs x 5 batches
    lr = hist["learning_rate"]
    assert lr[0] == pytest.approx(1e-3 * 0.5 * (1 + np.cos(np.pi * 4 / 5 / 2)), rel=1e-4)
    assert lr[1] < lr[0]


def test_early_stopping_restores_best_weights(tiny_train, tiny_val):
    model = _tiny_model()
    # a sane first epoch, then a rate that wrecks the weights
    hist = md.train(
        model, tiny_train, validation=tiny_val, epochs=4, batch_size=64, patience=1,
        schedule=lambda epoch, lr: 1e-3 if epoch == 0 else 5.0,
    )
    assert hist.stopped_early and hist.epochs < 4
    assert hist.best_epoch == 0
    res = md.evaluate(model, tiny_val)
    assert res.loss == pytest.approx(hist["val_loss"][0], rel=1e-4)
    assert not np.isclose(hist["val_loss"][-1], hist["val_loss"][0])


def test_train_errors(tiny_ds, tmp_path):
    with pytest.raises(md.ModelError, match="not compiled"):
        md.train(md.build_model(input_shape=(28, 28, 1), preset="small", compile=False), tiny_ds)
    with pytest.raises(md.ModelError, match="input_shape"):
        md.train(md.build_model(input_shape=(32, 32, 1), preset="small"), tiny_ds)
    with pytest.raises(md.ModelError, match="n_digits=3"):
        md.train(_tiny_model(n_digits=2), tiny_ds)
    with pytest.raises(md.ModelError, match=".keras"):
        md.train(_tiny_model(), tiny_ds, checkpoint=tmp_path / "x.h5")
    with pytest.raises(md.DataError, match="Split"):
        md.train(_tiny_model(), (tiny_ds.train.images, tiny_ds.train.labels))
    with pytest.raises(md.DataError, match="test"):
        md.train(_tiny_model(), tiny_ds, validation="test")


def test_determinism_same_seed_same_metrics(tiny_train, tiny_val):
    runs, data = [], tiny_train.subset(np.arange(128))
    for _ in range(2):
        model = _tiny_model(seed=3)
        hist = md.train(model, data, validation=tiny_val, epochs=1, seed=5)
        runs.append((hist["loss"], md.evaluate(model, tiny_val).to_dict()))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] == runs[1][1]


# ------------------------------------------------------------------ evaluate
def test_trained_model_beats_chance_and_evaluate_is_consistent(learned_model, small_ds):
    model, split = learned_model, small_ds.test
    res = md.evaluate(model, split)
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
    text = str(res)
    assert "whole-number accuracy" in text and f"{100 * res.whole_accuracy:.2f}" in text


def test_evaluate_rejects_dataset(learned_model, small_ds):
    with pytest.raises(md.DataError, match="ds.test"):
        md.evaluate(learned_model, small_ds)


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

    pixels = np.rint(split.images[..., 0] * 255).astype(np.uint8)
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
    json.dumps(from_files.to_dict())
    with pytest.raises(md.DataError, match="does not exist"):
        md.predict(model, [tmp_path / "missing.png"])


# ------------------------------------------------------------------ folds
def test_grouped_folds_share_no_combination(small_ds):
    split = small_ds.train
    folds = md.make_folds(split, k=4, seed=0)
    assert len(folds) == 4
    all_val = np.sort(np.concatenate([v for _, v in folds]))
    np.testing.assert_array_equal(all_val, np.arange(len(split)))
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(split)
        assert not set(split.label_ids[tr]) & set(split.label_ids[va])
    # deterministic, and the seed matters
    again = md.make_folds(split.labels, k=4, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    other = md.make_folds(split, k=4, seed=1)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


def test_plain_folds_leak_combinations(small_ds):
    split = small_ds.train
    folds = md.make_folds(split, k=4, grouped=False, seed=0)
    shared = [len(set(split.label_ids[tr]) & set(split.label_ids[va])) for tr, va in folds]
    assert all(s > 0 for s in shared)


def test_fold_errors():
    labels = np.array([[0, 0, 1]] * 4 + [[0, 0, 2]] * 4)
    with pytest.raises(md.DataError, match="label combinations"):
        md.make_folds(labels, k=3)
    with pytest.raises(md.DataError, match="k must be"):
        md.make_folds(labels, k=1)
    assert len(md.make_folds(labels, k=3, grouped=False)) == 3


# ------------------------------------------------------------------ cross-validate / compare
def test_compare_and_cross_validate(tiny_train):
    # compare runs cross_validate for each combination: one run tests both (CPU budget)
    data = tiny_train.subset(np.arange(200))
    res = md.compare(
        data, activations=("softmax", "sigmoid"), losses=("categorical_crossentropy",),
        k=2, epochs=1, model_params=TINY, seed=0,
    )
    assert isinstance(res, md.ComparisonResult)
    rows = res.table()
    assert len(rows) == 2 and rows[0]["mean"] >= rows[1]["mean"]
    for r in rows:
        assert r["n"] == 2 and r["ci_low"] <= r["mean"] <= r["ci_high"]
        assert r["mean"] == pytest.approx(np.mean(res.scores[r["key"]]))
    best = f"{rows[0]['activation']} + {rows[0]['loss']}"
    assert res.verdict.startswith(f"Best by mean_digit_accuracy: {best}")
    assert "noise" in res.verdict
    json.dumps(res.to_dict())

    # the same folds for every combination
    val_sizes = {k: [f["n_val"] for c in v for f in c.folds] for k, v in res.cv.items()}
    assert len({tuple(v) for v in val_sizes.values()}) == 1
    cv = res.cv["softmax+categorical_crossentropy"][0]
    assert isinstance(cv, md.CrossValidationResult)
    assert len(cv.folds) == 2 and len(cv.histories) == 2
    assert sum(f["n_val"] for f in cv.folds) == len(data)
    for f, h in zip(cv.folds, cv.histories):
        assert 0 <= f["whole_accuracy"] <= f["mean_digit_accuracy"] <= 1
        assert len(f["digit_accuracy"]) == 3 and h.epochs == 1
        assert "val_loss" in h.history
    s = cv.summary()
    assert s["mean_digit_accuracy"]["mean"] == pytest.approx(
        np.mean([f["mean_digit_accuracy"] for f in cv.folds])
    )
    json.dumps(cv.to_dict())
    assert "2-fold grouped" in str(cv)


def test_cross_validate_and_compare_errors(tiny_train):
    with pytest.raises(md.ModelError, match="input_shape"):
        md.cross_validate(tiny_train, k=2, model_params={"input_shape": (28, 28, 1)})
    with pytest.raises(md.ModelError, match="epochs"):
        md.cross_validate(tiny_train, k=2, train_params={"epochs": 3})
    with pytest.raises(md.ModelError, match="not comparable"):
        md.compare(tiny_train, metric="loss")
    with pytest.raises(md.ModelError, match="activations="):
        md.compare(tiny_train, model_params={"activation": "softmax"})


def test_activation_note_explains_identical_activations():
    from multidigit.training import _activation_note

    combos = [("softmax", "categorical_crossentropy"), ("sigmoid", "categorical_crossentropy"),
              ("softmax", "binary_crossentropy"), ("sigmoid", "binary_crossentropy")]
    scores = {"softmax+categorical_crossentropy": [0.8, 0.82],
              "sigmoid+categorical_crossentropy": [0.8, 0.82],
              "softmax+binary_crossentropy": [0.6, 0.7],
              "sigmoid+binary_crossentropy": [0.61, 0.7]}
    note = _activation_note(combos, scores)
    assert "softmax and sigmoid with categorical_crossentropy" in note
    assert "binary_crossentropy gave" not in note.replace("categorical_crossentropy gave", "")
    scores["sigmoid+categorical_crossentropy"] = [0.79, 0.82]
    assert _activation_note(combos, scores) == ""


JAX_SCRIPT = r"""
import json, os, sys, tempfile
os.environ["KERAS_BACKEND"] = "jax"
import numpy as np
import keras
import multidigit as md

assert keras.config.backend() == "jax"
ds = md.load_dataset(images_per_class=1, image_size=(28, 28))
out = {}
runs = []
for _ in range(2):
    model = md.build_model(input_shape=ds.image_shape, preset="small", seed=0)
    hist = md.train(model, ds, epochs=2, batch_size=64, seed=0)
    runs.append(model.predict(ds.test.images[:16], verbose=0)["digit_0"])
out["deterministic"] = bool(np.array_equal(runs[0], runs[1]))
out["epochs"] = len(hist.history["loss"])
res = md.evaluate(model, ds.test)
out["accuracy"] = res.mean_digit_accuracy
out["labels"] = md.predict(model, ds.test.images[:2]).labels
with tempfile.TemporaryDirectory() as d:
    md.save_model(model, os.path.join(d, "m.keras"))
    again = md.load_model(os.path.join(d, "m.keras"))
    out["round_trip"] = bool(np.array_equal(
        again.predict(ds.test.images[:8], verbose=0)["digit_1"],
        model.predict(ds.test.images[:8], verbose=0)["digit_1"]))
    cv = md.cross_validate(ds, k=2, epochs=1, model_params={"preset": "small"})
    out["folds"] = len(cv.folds)
    tr = md.tune(ds, search_space="tiny", tuner="random", max_trials=2, epochs=1,
                 directory=d, seed=0)
    out["trials"] = len(tr.trials)
out["feature_maps"] = list(md.explain(model, ds.test.images[:2], method="feature_maps").maps.shape)
try:
    md.explain(model, ds.test.images[:2], method="saliency")
except md.ExplainerError as exc:
    out["saliency_error"] = str(exc)
print("RESULT " + json.dumps(out))
"""


@pytest.mark.slow
def test_training_is_backend_agnostic_on_jax(tmp_path):
    """build / train / evaluate / predict / save / cross-validate / tune on Keras' JAX
    backend (the GPU benchmarks run there, without TensorFlow)."""
    import subprocess
    import sys

    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", JAX_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    out = json.loads(line[len("RESULT "):])
    assert out["deterministic"] and out["round_trip"]
    assert out["epochs"] == 2 and 0.0 <= out["accuracy"] <= 1.0
    assert len(out["labels"]) == 2 and all(len(s) == 3 for s in out["labels"])
    assert out["folds"] == 2 and out["trials"] == 2
    assert out["feature_maps"][0] == 2
    assert "KERAS_BACKEND=tensorflow" in out["saliency_error"]
