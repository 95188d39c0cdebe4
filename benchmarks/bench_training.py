"""Training benchmarks: input-pipeline cost, time-to-accuracy, 28x28 vs 84x84.

Run by hand (it is not a test)::

    python benchmarks/bench_training.py --images-per-class 3 --epochs 6        # minutes on CPU
    python benchmarks/bench_training.py --images-per-class 100 --epochs 20     # real scale, GPU

(a) images/s of ``multidigit.train`` (arrays and tf.data pipelines) vs a bare
    ``model.fit`` on in-memory arrays: same model, same run, best of ``--repeats``.
(b) time-to-accuracy: the study's recipe (tuned preset, batch 32, step schedule,
    ``--epochs`` epochs) vs multidigit's default recipe (``wide`` preset, batch 128,
    one-cycle, 12 epochs) and the other candidates in ``RECIPES``: when each first
    reaches the study recipe's final validation accuracy, as a fraction of the study
    recipe's wall time (target <= 0.5).
(c) test accuracy of the default recipe at 28x28 and 84x84.

Data: real-scale Triple MNIST built from ``../shared/data/mnist_digits.npz`` (10,000
train-pool and 10,000 test-pool MNIST digits) the way the original generator does;
``--images-per-class`` scales it (100 = the real 64,000 / 16,000 / 20,000 images).
Results are printed as markdown tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
from _common import SHARED as DATA  # noqa: E402
from _common import build_dataset  # noqa: E402


class EpochClock:
    """Per-epoch wall-clock timestamps (for time-to-accuracy)."""

    def __new__(cls):
        import keras

        class _Clock(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.t0, self.times = time.perf_counter(), []

            def on_epoch_end(self, epoch, logs=None):
                self.times.append(time.perf_counter() - self.t0)

        return _Clock()


def val_acc_curve(hist) -> list[float]:
    keys = [k for k in hist.history if k.startswith("val_digit_") and k.endswith("_accuracy")]
    return list(np.mean([hist.history[k] for k in keys], axis=0))


def bench_pipeline(ds, args) -> None:
    import multidigit as md

    model = md.build_model(input_shape=ds.image_shape, preset=args.preset, seed=0)
    x, y = ds.train.images, ds.train.one_hot()
    bs, n = args.batch_size, len(ds.train)
    model.fit(x, y, batch_size=bs, epochs=1, verbose=0)  # warm-up: trace once
    best = {"model.fit (arrays)": 0.0, "train (arrays)": 0.0, "train (tf.data)": 0.0}
    for _ in range(args.repeats):
        t = time.perf_counter()
        model.fit(x, y, batch_size=bs, epochs=args.pipeline_epochs, verbose=0, shuffle=True)
        best["model.fit (arrays)"] = max(best["model.fit (arrays)"],
                                         n * args.pipeline_epochs / (time.perf_counter() - t))
        for pipe in ("arrays", "tf.data"):
            t = time.perf_counter()
            md.train(model, ds.train, validation=None, epochs=args.pipeline_epochs,
                     batch_size=bs, schedule="constant", early_stopping=False, pipeline=pipe)
            best[f"train ({pipe})"] = max(best[f"train ({pipe})"],
                                          n * args.pipeline_epochs / (time.perf_counter() - t))
    base = best["model.fit (arrays)"]
    print(f"\n### (a) input pipeline: preset {args.preset}, batch {bs}, {n} images, "
          f"{args.pipeline_epochs} epochs, best of {args.repeats}\n")
    print("| feeder | images/s | vs model.fit |\n| --- | ---: | ---: |")
    for k, v in best.items():
        print(f"| {k} | {v:.0f} | {v / base:.2f}x |")


#: name -> (model arguments, train() arguments).
#: The first one is the baseline: the study's recipe (tuned preset, batch 32, step
#: schedule, fixed epochs).  The others are the candidates measured in
#: benchmarks/README.md (``--recipes`` picks them by substring; ``--epochs`` overrides
#: their epoch counts when given).
_OC = dict(batch_size=128, schedule="onecycle", early_stopping=False)
_WIDE = dict(preset="wide", l2=0.0)  # = fast 64/128/128 dense 256
DEFAULT_RECIPE = "default: wide preset, batch 128, onecycle 12"
RECIPES: dict[str, tuple[dict, dict]] = {
    "study: tuned preset, batch 32, step": (dict(preset="tuned"), dict(
        batch_size=32, schedule="step", early_stopping=False)),
    DEFAULT_RECIPE: (dict(preset="wide"), dict(_OC, epochs=12)),
    "wide preset, batch 128, onecycle 14": (dict(preset="wide"), dict(_OC, epochs=14)),
    "old default: fast preset, train() defaults": (dict(preset="fast"), {}),
    "fast, batch 128, onecycle 30": (dict(preset="fast"), dict(_OC, epochs=30)),
    "fast + augment, batch 128, onecycle 30": (dict(preset="fast"), dict(
        _OC, epochs=30, augment=True)),
    "fast 64/128/128 dense 256, batch 128, onecycle 12": (_WIDE, dict(_OC, epochs=12)),
    "fast 64/128/128 dense 256 dropout .25/.5, batch 128, onecycle 14": (
        dict(_WIDE, dropout=0.25, dense_dropout=0.5), dict(_OC, epochs=14)),
    "fast 32/64/128 dense 256 dropout .25/.5 L2 1e-3, batch 128, onecycle 20": (
        dict(preset="fast", filters=(32, 64, 128), dense_units=256, dropout=0.25,
             dense_dropout=0.5, l2=1e-3), dict(_OC, epochs=20)),
}


def _recipe(name: str, args) -> tuple[dict, dict]:
    """Model and train() arguments of a recipe, with ``--epochs`` applied."""
    model_params, params = RECIPES[name]
    params = {"epochs": args.epochs, **params}
    if args.epochs_override:
        params["epochs"] = args.epochs
    return model_params, params


def bench_recipes(ds, args) -> None:
    import multidigit as md

    rows = {}
    for i, name in enumerate(RECIPES):
        if i and args.recipes and not any(r in name for r in args.recipes.split(",")):
            continue
        model_params, params = _recipe(name, args)
        model = md.build_model(input_shape=ds.image_shape, seed=0, **model_params)
        clock = EpochClock()
        hist = md.train(model, ds, seed=0, callbacks=[clock], **params)
        res = md.evaluate(model, ds.test)
        rows[name] = (clock.times, val_acc_curve(hist), res, hist)
        print(f"  {name}: {clock.times[-1]:.0f} s, val {val_acc_curve(hist)[-1]:.4f}, "
              f"test {res.mean_digit_accuracy:.4f}", file=sys.stderr, flush=True)
    study = next(iter(rows.values()))
    target = study[1][-1]  # the study recipe's final validation digit accuracy
    t_study = study[0][-1]
    print(f"\n### (b) time-to-accuracy: {len(ds.train)} train images, up to {args.epochs} "
          f"epochs, {ds.image_shape[0]}x{ds.image_shape[1]}; target = the study recipe's "
          f"final val digit accuracy = {target:.4f}, reached by it in {t_study:.0f} s\n")
    print("| recipe | epochs | wall s | images/s | final val digit acc | test digit acc | "
          "test whole acc | time to target s | vs the study's wall time |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (times, accs, res, hist) in rows.items():
        # a tie in digit counts can differ in the last float32 bit of the mean: compare
        # to 1e-6 (one validation digit is 1/12,000 here)
        hit = next((t for t, a in zip(times, accs) if a >= target - 1e-6), None)
        ratio = f"{hit / t_study:.2f}" if hit else "-"
        print(f"| {name} | {len(times)} | {times[-1]:.0f} | {hist.images_per_second:.0f} | "
              f"{accs[-1]:.4f} | {res.mean_digit_accuracy:.4f} | {res.whole_accuracy:.4f} | "
              f"{'not reached' if hit is None else f'{hit:.0f}'} | {ratio} |")


def bench_sizes(args) -> None:
    import multidigit as md

    model_params, params = _recipe(DEFAULT_RECIPE, args)
    print(f"\n### (c) the default recipe ({DEFAULT_RECIPE}) at input sizes {args.sizes}, "
          f"{args.size_images_per_class} images/class\n")
    print("| input | train images | epochs | wall s | test digit acc | test whole acc |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for size in (int(v) for v in args.sizes.split(",")):
        ds = build_dataset(DATA, args.size_images_per_class, size)
        model = md.build_model(input_shape=ds.image_shape, seed=0, **model_params)
        hist = md.train(model, ds, seed=0, **params)
        res = md.evaluate(model, ds.test)
        print(f"| {size}x{size} | {len(ds.train)} | {hist.epochs} | {hist.wall_time:.0f} | "
              f"{res.mean_digit_accuracy:.4f} | {res.whole_accuracy:.4f} |", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images-per-class", type=int, default=3,
                   help="images per label combination (100 = real scale)")
    p.add_argument("--size-images-per-class", type=int, default=1, help="for part (c)")
    p.add_argument("--sizes", default="28,84", help="input sizes of part (c)")
    p.add_argument("--image-size", type=int, default=28)
    p.add_argument("--epochs", type=int, default=6,
                   help="epochs of the study recipe and of recipes without their own count")
    p.add_argument("--epochs-override", action="store_true",
                   help="use --epochs for every recipe")
    p.add_argument("--pipeline-epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="for part (a)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--preset", default="wide", help="model of part (a)")
    p.add_argument("--recipes", default="", help="comma list of recipe substrings")
    p.add_argument("--parts", default="abc")
    args = p.parse_args(argv)
    if not DATA.exists():
        print(f"real-scale digits not found at {DATA.resolve()}; see shared/README.md. "
              "Nothing to benchmark.")
        return 0
    import multidigit  # noqa: F401

    t = time.perf_counter()
    ds = build_dataset(DATA, args.images_per_class, args.image_size)
    print(f"data: {ds} built in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if "a" in args.parts:
        bench_pipeline(ds, args)
    if "b" in args.parts:
        bench_recipes(ds, args)
    if "c" in args.parts:
        bench_sizes(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
