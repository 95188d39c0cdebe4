"""Tuning benchmarks: the cost of the study's search, and a budget-limited search.

Run by hand (it is not a test)::

    python benchmarks/bench_tuning.py --images-per-class 3 --budget-minutes 2   # minutes, CPU
    python benchmarks/bench_tuning.py --images-per-class 100 --budget-minutes 60  # GPU

(a) The study's search (RandomSearch, 20 trials x 20 epochs over the "study" space,
    batch 32, 64,000 train + 16,000 val images) estimated on this machine: the
    seconds per training step (batch 32) and per validation image are measured for
    ``--estimate-trials`` configurations drawn from the space, then extrapolated to
    the real-scale set and 20 x 20 epochs.  The study took 5 h 47 on a cloud GPU.
(b) A budget-limited search: ``multidigit.tune`` (random search, "study" space,
    ``--trial-epochs`` epochs a trial) resumed one trial at a time until
    ``--budget-minutes`` are spent; then the best configuration and the study's
    configuration (conv 96/128/128, dense 256) are both retrained the same way
    (``--retrain-epochs``, same seed) and evaluated on the test split.

Data: Triple MNIST built from ``../shared/data/mnist_digits.npz`` the way the
original generator does (``--images-per-class`` 100 = the real 64,000 / 16,000 /
20,000 images), resized to ``--image-size`` (the study used 28x28).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
from _common import SHARED as DATA  # noqa: E402
from _common import build_dataset  # noqa: E402

STUDY_BEST = {"conv_1": 96, "conv_2": 128, "conv_3": 128, "dense_units": 256}
REAL_TRAIN, REAL_VAL, STUDY_TRIALS, STUDY_EPOCHS, STUDY_BATCH = 64_000, 16_000, 20, 20, 32


def sample_study_configs(n: int, seed: int) -> list[dict[str, int]]:
    from multidigit.tuning import SEARCH_SPACES

    rs = np.random.RandomState(seed)
    out = []
    for _ in range(n):
        cfg = {}
        for name, spec in SEARCH_SPACES["study"].items():
            cfg[name] = int(rs.choice(np.arange(spec["min"], spec["max"] + 1, spec["step"])))
        out.append(cfg)
    return out


def measure_config(cfg, ds, steps: int, seed: int) -> tuple[float, float]:
    """(seconds per batch-32 training step, seconds per validation image)."""
    import keras

    import multidigit as md
    from multidigit.tuning import model_kwargs

    keras.backend.clear_session()
    model = md.build_model("softmax", "categorical_crossentropy",
                           input_shape=ds.train.image_shape, seed=seed, **model_kwargs(cfg))
    n = min(len(ds.train), steps * STUDY_BATCH)
    x, y = ds.train.images[:n], {k: v[:n] for k, v in ds.train.one_hot().items()}
    model.fit(x, y, batch_size=STUDY_BATCH, epochs=1, verbose=0)  # warm-up: tracing
    t = time.perf_counter()
    model.fit(x, y, batch_size=STUDY_BATCH, epochs=1, verbose=0)
    per_step = (time.perf_counter() - t) / int(np.ceil(n / STUDY_BATCH))
    v = ds.val.images[: 4 * STUDY_BATCH * 4]
    model.predict(v, batch_size=STUDY_BATCH, verbose=0)
    t = time.perf_counter()
    model.predict(v, batch_size=STUDY_BATCH, verbose=0)
    per_val_image = (time.perf_counter() - t) / len(v)
    return per_step, per_val_image


def accuracy(model, split) -> tuple[float, float]:
    """(whole-number accuracy, mean per-digit accuracy) on a split."""
    pred = model.predict(split.images, batch_size=256, verbose=0)
    hits = np.stack([pred[f"digit_{i}"].argmax(1) == split.labels[:, i]
                     for i in range(split.n_digits)], axis=1)
    return float(hits.all(1).mean()), float(hits.mean())


def retrain(cfg, ds, epochs: int, seed: int) -> tuple[float, float, float]:
    import keras

    import multidigit as md
    from multidigit.tuning import model_kwargs

    keras.backend.clear_session()
    model = md.build_model("softmax", "categorical_crossentropy",
                           input_shape=ds.train.image_shape, seed=seed, **model_kwargs(cfg))
    t = time.perf_counter()
    model.fit(ds.train.images, ds.train.one_hot(), batch_size=STUDY_BATCH, epochs=epochs,
              verbose=0)
    secs = time.perf_counter() - t
    return (*accuracy(model, ds.test), secs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images-per-class", type=int, default=3)
    p.add_argument("--image-size", type=int, default=28)
    p.add_argument("--estimate-trials", type=int, default=3)
    p.add_argument("--estimate-steps", type=int, default=20)
    p.add_argument("--budget-minutes", type=float, default=2.0)
    p.add_argument("--trial-epochs", type=int, default=2)
    p.add_argument("--retrain-epochs", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    if not DATA.exists():
        print(f"real MNIST digits not found at {DATA.resolve()}; nothing to benchmark "
              "(see shared/README.md).")
        return 0
    import multidigit as md
    from multidigit.tuning import model_kwargs  # noqa: F401

    t0 = time.perf_counter()
    ds = build_dataset(DATA, args.images_per_class, args.image_size, args.seed)
    print(f"data: {len(ds.train)}/{len(ds.val)}/{len(ds.test)} images at "
          f"{args.image_size}x{args.image_size} ({args.images_per_class}/class), "
          f"built in {time.perf_counter() - t0:.1f}s\n")

    # (a) ---------------------------------------------------------------- estimate
    print("## (a) the study's search (20 trials x 20 epochs, batch 32), estimated\n")
    print("| conv_1 | conv_2 | conv_3 | dense | s/step (b32) | ms/val image | "
          "epoch at real scale (s) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    epoch_secs = []
    for cfg in sample_study_configs(args.estimate_trials, args.seed):
        per_step, per_img = measure_config(cfg, ds, args.estimate_steps, args.seed)
        e = per_step * np.ceil(REAL_TRAIN / STUDY_BATCH) + per_img * REAL_VAL
        epoch_secs.append(e)
        print(f"| {cfg['conv_1']} | {cfg['conv_2']} | {cfg['conv_3']} | {cfg['dense_units']} | "
              f"{per_step:.4f} | {1000 * per_img:.3f} | {e:.0f} |")
    total = float(np.mean(epoch_secs)) * STUDY_TRIALS * STUDY_EPOCHS
    print(f"\nestimated study search on this machine: {total / 3600:.1f} h "
          f"(mean {np.mean(epoch_secs):.0f} s/epoch x {STUDY_EPOCHS} epochs x "
          f"{STUDY_TRIALS} trials); the study: 5.8 h on a cloud GPU\n")

    # (b) ---------------------------------------------------------------- budget
    print(f"## (b) random search within {args.budget_minutes:g} min, then retrain "
          f"{args.retrain_epochs} epochs and test\n")
    budget = 60 * args.budget_minutes
    start = time.perf_counter()
    result = None
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        while time.perf_counter() - start < budget:
            n += 1  # one more trial, resuming the same project: none is lost or rerun
            result = md.tune(ds, search_space="study", tuner="random", max_trials=n,
                             epochs=args.trial_epochs, batch_size=STUDY_BATCH,
                             directory=tmp, seed=args.seed, retrain=False)
    spent = time.perf_counter() - start
    assert result is not None
    print(f"{len(result.trials)} trials in {spent:.0f}s "
          f"(mean {np.mean([r['seconds'] for r in result.trials]):.1f}s a trial)\n")
    print("| trial | conv_1 | conv_2 | conv_3 | dense | val_loss | s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in result.trials:
        h = r["hyperparameters"]
        print(f"| {r['trial_id']} | {h['conv_1']} | {h['conv_2']} | {h['conv_3']} | "
              f"{h['dense_units']} | {r['score']:.4f} | {r['seconds']:.1f} |")
    best = {k: result.best_hyperparameters[k] for k in STUDY_BEST}
    print("\n| configuration | test whole-number acc | test digit acc | retrain s |")
    print("| --- | ---: | ---: | ---: |")
    for name, cfg in (("budget search best " + "/".join(map(str, best.values())), best),
                      ("study best 96/128/128/256", STUDY_BEST)):
        whole, digit, secs = retrain(cfg, ds, args.retrain_epochs, args.seed)
        print(f"| {name} | {whole:.3f} | {digit:.3f} | {secs:.0f} |")
    print(f"\ntotal {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
