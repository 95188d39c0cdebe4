"""multidigit.training.fit: train() and TrainingHistory (schedules, callbacks, progress)."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ParameterError

TINY = {"preset": "small", "filters": (8,), "dense_units": 16}


def _tiny_model(seed=0, activation="softmax", loss="categorical_crossentropy", **kw):
    return md.build_model(activation, loss, input_shape=(28, 28, 1), seed=seed, **{**TINY, **kw})


@pytest.fixture(scope="module")
def tiny_train(tiny_ds):
    return tiny_ds.train.subset(np.arange(0, 640, 2), "train")  # 320 images


@pytest.fixture(scope="module")
def tiny_val(tiny_ds):
    return tiny_ds.val.subset(np.arange(96), "val")


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
    d = json.loads(json.dumps(hist.to_dict()))
    assert d["epochs"] == 2 and d["params"]["schedule"].startswith("<function")


def test_train_cosine_per_batch_and_split_without_validation(tiny_train):
    model = _tiny_model()
    hist = md.train(model, tiny_train, epochs=2, batch_size=64, schedule="cosine")
    assert hist.monitor == "loss" and "val_loss" not in hist.history
    # logged at the last batch of each epoch: 2 epochs x 5 batches
    lr = hist["learning_rate"]
    assert lr[0] == pytest.approx(1e-3 * 0.5 * (1 + np.cos(np.pi * 4 / 5 / 2)), rel=1e-4)
    assert lr[1] < lr[0]


def test_recipe_defaults_batch_64_onecycle(tiny_train):
    # multidigit's recipe (issue 13): batch 64, one-cycle, about 7,000 steps
    hist = md.train(_tiny_model(), tiny_train, epochs=1)
    assert hist.params["batch_size"] == 64 and hist.params["schedule"] == "onecycle"
    assert md.default_epochs(64_000) == 7 and md.default_epochs(6_400) == 20
    assert md.default_epochs(64_000, batch_size=128) == 14


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
    with pytest.raises(ParameterError, match=".keras"):
        md.train(_tiny_model(), tiny_ds, checkpoint=tmp_path / "x.h5")
    with pytest.raises(ParameterError, match="Split"):
        md.train(_tiny_model(), (tiny_ds.train.images, tiny_ds.train.labels))
    with pytest.raises(ParameterError, match="test"):
        md.train(_tiny_model(), tiny_ds, validation="test")
    with pytest.raises(ParameterError, match="epochs"):
        md.train(_tiny_model(), tiny_ds, epochs=0)
    with pytest.raises(ParameterError, match="schedule"):
        md.train(_tiny_model(), tiny_ds, schedule="linear")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -0.5, 2.0])
def test_train_and_evaluate_reject_bad_pixels(tiny_train, bad):
    """Issue 16: NaN / inf / negative pixels were trained on without a word.  A Split
    refuses them when it is made; train / evaluate check again, for a split whose
    images were changed in place afterwards."""
    images = tiny_train.images[:8].copy()
    images[3, 5, 5, 0] = bad
    with pytest.raises(md.DataError, match="pixels"):
        md.Split(images, tiny_train.labels[:8], name="bad")
    split = md.Split(tiny_train.images[:8].copy(), tiny_train.labels[:8], name="bad")
    split.images[3, 5, 5, 0] = bad
    model = _tiny_model()
    with pytest.raises(md.DataError, match="pixels"):
        md.train(model, split, epochs=1)
    with pytest.raises(md.DataError, match="pixels"):
        md.evaluate(model, split)
    with pytest.raises(md.DataError, match="pixels"):
        md.train(model, tiny_train, validation=split, epochs=1)


def test_determinism_same_seed_same_metrics(tiny_train, tiny_val):
    runs, data = [], tiny_train.subset(np.arange(128))
    for _ in range(2):
        model = _tiny_model(seed=3)
        hist = md.train(model, data, validation=tiny_val, epochs=1, seed=5)
        runs.append((hist["loss"], md.evaluate(model, tiny_val).to_dict()))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] == runs[1][1]


def test_determinism_with_augmentation(tiny_train):
    """The random augmentation layers draw in a fixed order (a parallel map did not)."""
    data = tiny_train.subset(np.arange(256))
    weights = []
    for _ in range(2):
        model = _tiny_model(seed=3)
        md.train(model, data, validation=None, epochs=2, seed=5, augment=True,
                 batch_size=32)
        weights.append(np.concatenate([np.ravel(w) for w in model.get_weights()]))
    np.testing.assert_array_equal(weights[0], weights[1])


# ------------------------------------------------------------------ progress
def test_progress_draws_without_a_terminal(tiny_train):
    """Issue 14: the rich display needs no TTY (a file, a pipe, or Jupyter)."""
    from rich.console import Console

    from multidigit.training.callbacks import make_callbacks

    model = _tiny_model()
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, force_jupyter=False, width=100)
    progress = make_callbacks()["RichProgress"](2, console=console)
    md.train(model, tiny_train.subset(np.arange(64)), epochs=2, batch_size=32,
             callbacks=[progress])
    text = buf.getvalue()
    assert "epochs" in text and "2/2" in text
    # and progress=True itself under pytest's captured (non-TTY) stdout
    md.train(model, tiny_train.subset(np.arange(64)), epochs=1, batch_size=32, progress=True)


def test_progress_in_jupyter(tiny_train, monkeypatch):
    """In a notebook rich draws live through ipywidgets; without it, one line per epoch
    (rich alone would warn and show nothing until the end)."""
    import importlib.util
    import warnings

    from rich.console import Console

    from multidigit.training import callbacks

    buf = io.StringIO()
    console = Console(file=buf, force_jupyter=True, width=100)
    assert console.is_jupyter
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    assert not callbacks._live_display_works(console)
    progress = callbacks.make_callbacks()["RichProgress"](2, console=console)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*ipywidgets")  # rich's warning
        with console.capture() as captured:  # in Jupyter rich prints through IPython
            md.train(_tiny_model(), tiny_train.subset(np.arange(32)), epochs=2,
                     batch_size=32, callbacks=[progress])
    assert progress._progress is None
    assert "epoch 1/2" in captured.get() and "epoch 2/2" in captured.get()
    assert callbacks._live_display_works(Console(file=io.StringIO(), force_terminal=False))


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
# the default model (shared preset: resize, augmentation, strips) on JAX
shared = [md.build_model(input_shape=ds.image_shape, seed=0) for _ in range(2)]
for m in shared:
    md.train(m, ds, epochs=1, seed=0)
out["shared_deterministic"] = bool(np.array_equal(
    shared[0].predict(ds.test.images[:8], verbose=0)["digit_2"],
    shared[1].predict(ds.test.images[:8], verbose=0)["digit_2"]))
with tempfile.TemporaryDirectory() as d:
    md.save_model(shared[0], os.path.join(d, "s.keras"))
    again = md.load_model(os.path.join(d, "s.keras"))
    out["shared_round_trip"] = bool(np.allclose(
        again.predict(ds.test.images[:8], verbose=0)["digit_2"],
        shared[0].predict(ds.test.images[:8], verbose=0)["digit_2"], atol=1e-6))
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
    proc = subprocess.run([sys.executable, "-c", JAX_SCRIPT], env=env, capture_output=True, check=False,
                          text=True, timeout=1800, cwd=tmp_path)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    out = json.loads(line[len("RESULT "):])
    assert out["deterministic"] and out["round_trip"]
    assert out["epochs"] == 2 and 0.0 <= out["accuracy"] <= 1.0
    assert len(out["labels"]) == 2 and all(len(s) == 3 for s in out["labels"])
    assert out["folds"] == 2 and out["trials"] == 2
    assert out["feature_maps"][0] == 2
    assert out["shared_deterministic"] and out["shared_round_trip"]
    assert "KERAS_BACKEND=tensorflow" in out["saliency_error"]


# ------------------------------------------------------------------ issue 26
_TRAIN_KILLED = (
    "import os, signal, sys\n"
    "import numpy as np\n"
    "import multidigit as md\n"
    "from multidigit import _io\n"
    "_io._step = lambda n: n == 'written' and os.kill(os.getpid(), signal.SIGKILL)\n"
    "rng = np.random.default_rng(0)\n"
    "s = md.Split(rng.random((16, 28, 28, 1), dtype='float32'),\n"
    "             rng.integers(0, 10, (16, 3)), 'train')\n"
    "m = md.build_model(input_shape=(28, 28, 1), preset='small', filters=(4,),\n"
    "                   dense_units=8, seed=0)\n"
    "md.train(m, s, validation=s, epochs=1, batch_size=8, checkpoint=sys.argv[1],\n"
    "         early_stopping=False)\n"
)


def test_checkpoint_killed_while_saving_keeps_the_old_one(tmp_path):
    """Keras' ModelCheckpoint wrote in place: a kill truncated the last good file."""
    import subprocess
    import sys

    ckpt = tmp_path / "ck.keras"
    ckpt.write_bytes(b"the previous checkpoint")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    rc = subprocess.run([sys.executable, "-c", _TRAIN_KILLED, str(ckpt)], env=env).returncode
    assert rc == -9
    assert ckpt.read_bytes() == b"the previous checkpoint"
    assert [n for n in os.listdir(tmp_path) if not n.startswith(".md-")] == ["ck.keras"]


@pytest.mark.parametrize("what", ["checkpoint", "log_csv"])
def test_full_disk_while_training_is_one_clear_error(tmp_path, monkeypatch, tiny_train, what):
    import errno

    from multidigit import _io

    target = tmp_path / ("ck.keras" if what == "checkpoint" else "log.csv")
    target.write_text("old")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io, "_new_temp", full)
    with pytest.raises(md.StorageError, match="disk is full"):
        md.train(_tiny_model(), tiny_train, epochs=1, batch_size=64, early_stopping=False,
                 **{what: target})
    assert target.read_text() == "old"


def test_read_only_folder_for_the_checkpoint_is_one_clear_error(tmp_path, monkeypatch,
                                                                tiny_train):
    import errno
    from pathlib import Path

    def read_only(self, *a, **k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(md.StorageError, match="read-only"):
        md.train(_tiny_model(), tiny_train, epochs=1, checkpoint=tmp_path / "a" / "c.keras")


@pytest.mark.parametrize("kwargs, message", [
    ({"schedule": lambda e, lr: -1.0}, "finite learning rate > 0"),
    ({"schedule": lambda e, lr: float("nan")}, "finite learning rate > 0"),
    ({"schedule": lambda e: 1e-3}, "taking two arguments"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**40}, "seed"),
    ({"callbacks": [object()]}, "callbacks"),
    ({"callbacks": "early"}, "callbacks"),
])
def test_train_refuses_bad_rates_seeds_and_callbacks(tiny_train, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        md.train(_tiny_model(), tiny_train, epochs=1, **kwargs)


def test_train_on_uint8_split_equals_float_split(tiny_train):
    as_uint8 = md.Split(np.rint(tiny_train.images * 255).astype(np.uint8), tiny_train.labels)
    a = md.train(_tiny_model(), tiny_train, epochs=1, batch_size=64, pipeline="arrays",
                 augment=False)
    b = md.train(_tiny_model(), as_uint8, epochs=1, batch_size=64, pipeline="arrays",
                 augment=False)
    assert as_uint8.images.dtype == np.float32 and as_uint8.images.max() <= 1.0
    assert b["loss"][0] == pytest.approx(a["loss"][0], rel=1e-5)  # the same pixels
