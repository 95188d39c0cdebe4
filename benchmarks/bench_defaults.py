"""The default model and recipe against the study's (issue 13): accuracy, time, curve.

Run by hand (it is not a test); one recipe per call, results to a JSON file, then one
``--report`` call that compares the files of one session::

    python benchmarks/bench_defaults.py --recipe study   --size 28 --out study_28.json
    python benchmarks/bench_defaults.py --recipe default --size 28 --out default_28.json
    python benchmarks/bench_defaults.py --recipe default --size 84 --out default_84.json
    python benchmarks/bench_defaults.py --recipe default --size 84 --batch-size 128 --out b128.json
    python benchmarks/bench_defaults.py --recipe default --data mini --out default_mini.json
    python benchmarks/bench_defaults.py --report study_28.json default_28.json

Recipes:

* ``study``: the study's recipe, ``build_model(preset="tuned")`` and
  ``train(batch_size=32, schedule="step", epochs=20, early_stopping=False)``.
* ``default``: ``build_model()`` and ``train()`` with no recipe argument at all (only
  the data and the seed): whatever multidigit's defaults are.  ``--epochs`` and
  ``--batch-size`` override one setting of either recipe.

After every epoch the callback evaluates the test split (its time is *not* counted)
and records the training wall time so far (training batches + Keras' own validation),
the process CPU time so far (``time.process_time``: robust to other jobs on the
machine, which the wall time is not), the load average, and the validation and test
accuracies: the best-so-far curve.  ``--report`` prints markdown tables and the time
each recipe needs to reach the first recipe's final test accuracy.

Data: ``--data real`` builds real-scale Triple MNIST from ``../shared/data/mnist_digits.npz``
(``--images-per-class 100`` = 64,000 / 16,000 / 20,000; train and validation digits
from its train pool, validation digits held out, test digits from the test pool);
``--data mini`` is the package's offline default set (``load_dataset()``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
from _common import SHARED as DATA  # noqa: E402
from _common import build_dataset  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work"
STUDY = dict(batch_size=32, schedule="step", epochs=20, early_stopping=False, augment=False,
             learning_rate=1e-3)


def curve_callback(test):
    """A Keras callback that records, after every epoch, times and accuracies."""
    import keras

    from multidigit.model.heads import predict_heads

    labels = np.asarray(test.labels)

    class Curve(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.rows, self.skip_wall, self.skip_cpu = [], 0.0, 0.0
            self.t0, self.c0 = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            t, c = time.perf_counter(), time.process_time()
            wall, cpu = t - self.t0 - self.skip_wall, c - self.c0 - self.skip_cpu
            pred = predict_heads(self.model, test.images).argmax(-1)  # (n, heads)
            correct = pred == labels
            logs = logs or {}
            val = [v for k, v in logs.items()
                   if k.startswith("val_digit_") and k.endswith("_accuracy")]
            trn = [v for k, v in logs.items()
                   if k.startswith("digit_") and k.endswith("_accuracy")]
            r = {
                "epoch": epoch + 1, "wall": wall, "cpu": cpu, "load": os.getloadavg()[0],
                "train_digit": float(np.mean(trn)) if trn else None,
                "val_digit": float(np.mean(val)) if val else None,
                "test_digits": [float(v) for v in correct.mean(0)],
                "test_digit": float(correct.mean()),
                "test_whole": float(correct.all(1).mean()),
            }
            self.rows.append(r)
            print(f"  epoch {epoch + 1}: {wall:7.1f} s wall, {cpu:7.1f} s cpu, load "
                  f"{r['load']:.1f}, train {r['train_digit'] or 0:.4f}, val "
                  f"{r['val_digit'] or 0:.4f}, test {r['test_digit']:.4f} / "
                  f"{r['test_whole']:.4f}", file=sys.stderr, flush=True)
            # the test evaluation is not part of the recipe: leave its time out
            self.skip_wall += time.perf_counter() - t
            self.skip_cpu += time.process_time() - c

    return Curve()


def run(args) -> dict:
    import keras

    import multidigit as md

    t = time.perf_counter()
    if args.data == "mini":
        ds = md.load_dataset(image_size=args.size)
    else:
        ds = build_dataset(DATA, args.images_per_class, args.size or 84)
    build_s = time.perf_counter() - t
    print(f"data: {ds} ({build_s:.0f} s)", file=sys.stderr, flush=True)
    curve = curve_callback(ds.test)
    if args.recipe == "study":
        model = md.build_model(input_shape=ds.image_shape, preset="tuned", seed=args.seed,
                               learning_rate=1e-3)
        kwargs = dict(STUDY)
    else:
        model = md.build_model(input_shape=ds.image_shape, seed=args.seed)
        kwargs = {}
    if args.epochs:
        kwargs["epochs"] = args.epochs
    if args.batch_size:
        kwargs["batch_size"] = args.batch_size
    data = ds
    if args.final:
        # the study's final retraining: train + val (every digit of the train pool), no
        # validation, so no early stopping; the test split is still only evaluated
        data = md.Split(np.concatenate([ds.train.images, ds.val.images]),
                        np.concatenate([ds.train.labels, ds.val.labels]), "train+val")
        kwargs.update(validation=None, early_stopping=False)
    hist = md.train(model, data, seed=args.seed, callbacks=[curve], **kwargs)
    res = md.evaluate(model, ds.test)
    if args.save_model:  # for benchmarks that read the trained model (bench_robustness.py)
        md.save_model(model, args.save_model)
    rows = curve.rows
    return {
        "recipe": args.recipe, "seed": args.seed, "final": bool(args.final), "data": args.data, "images_per_class": args.images_per_class,
        "image_shape": list(ds.image_shape), "n_train": len(data) if args.final else len(ds.train),
        "n_val": 0 if args.final else len(ds.val),
        "n_test": len(ds.test), "model": model.name, "params": model.count_params(),
        "train_params": hist.params, "epochs": hist.epochs,
        "images_per_second": hist.images_per_second, "train_time": hist.train_time,
        "wall": rows[-1]["wall"], "cpu": rows[-1]["cpu"], "curve": rows,
        "test_digits": res.digit_accuracy, "test_digit": res.mean_digit_accuracy,
        "test_whole": res.whole_accuracy, "keras": keras.__version__,
        "backend": keras.backend.backend(), "python": platform.python_version(),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
        "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def _hit(curve: list[dict], key: str, target: float, clock: str) -> float | None:
    return next((r[clock] for r in curve if r[key] >= target - 1e-9), None)


def _label(r: dict) -> str:
    """``recipe, batch B, seed S``: what tells two runs of one recipe apart."""
    return (f"{r['recipe']}, batch {r['train_params'].get('batch_size', '?')}, "
            f"seed {r.get('seed', 0)}")


def report(paths: list[str]) -> None:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    print("| recipe | data | input | epochs | train wall | CPU | images/s | load | test per digit "
          "(0 / 1 / 2) | mean | whole number |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for r in runs:
        load = np.mean([c["load"] for c in r["curve"]])
        per = " / ".join(f"{100 * v:.2f}" for v in r["test_digits"])
        print(f"| {_label(r)} | {r['data']} ({r['n_train']:,} train) | "
              f"{r['image_shape'][0]}x{r['image_shape'][1]} | {r['epochs']} | "
              f"{r['wall']:.0f} s | {r['cpu']:.0f} s | {r['images_per_second']:.0f} | {load:.1f} | "
              f"{per} | **{100 * r['test_digit']:.2f} %** | **{100 * r['test_whole']:.2f} %** |")
    base = runs[0]
    for key in ("test_digit", "test_whole"):
        target = base["curve"][-1][key]
        print(f"\nTime to reach {base['recipe']}'s final {key.replace('_', ' ')} accuracy "
              f"({100 * target:.2f} %):\n")
        print(f"| recipe | input | wall | vs {base['recipe']}'s whole run ({base['wall']:.0f} s) | "
              f"CPU | vs its whole run ({base['cpu']:.0f} s) |\n| --- | --- | ---: | ---: | ---: | ---: |")
        bw, bc = base["wall"], base["cpu"]
        for r in runs:
            w, c = _hit(r["curve"], key, target, "wall"), _hit(r["curve"], key, target, "cpu")
            print(f"| {_label(r)} | {r['image_shape'][0]}x{r['image_shape'][1]} | "
                  f"{'not reached' if w is None else f'{w:.0f} s'} | "
                  f"{'-' if w is None else f'{w / bw:.3f}'} | "
                  f"{'-' if c is None else f'{c:.0f} s'} | "
                  f"{'-' if c is None else f'{c / bc:.3f}'} |")
    for r in runs:
        print(f"\nBest-so-far curve, {_label(r)} ({r['data']}, {r['image_shape'][0]}x"
              f"{r['image_shape'][1]}):\n")
        print("| epoch | wall | CPU | load | train | val | test per digit | best so far | "
              "test whole |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        best = 0.0
        for c in r["curve"]:
            best = max(best, c["test_digit"])
            print(f"| {c['epoch']} | {c['wall']:.0f} s | {c['cpu']:.0f} s | {c['load']:.1f} | "
                  f"{100 * (c['train_digit'] or 0):.2f} | {100 * (c['val_digit'] or 0):.2f} | "
                  f"{100 * c['test_digit']:.2f} | {100 * best:.2f} | {100 * c['test_whole']:.2f} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--recipe", choices=("study", "default"), default="default")
    p.add_argument("--data", choices=("real", "mini"), default="real")
    p.add_argument("--images-per-class", type=int, default=100)
    p.add_argument("--size", type=int, default=None, help="input size (default: 84 / mini's)")
    p.add_argument("--seed", type=int, default=0,
                   help="model and training seed (the data set is the same for every seed)")
    p.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    p.add_argument("--batch-size", type=int, default=None,
                   help="override the recipe's batch size")
    p.add_argument("--final", action="store_true",
                   help="train on train + val (the study's final retraining), no validation")
    p.add_argument("--save-model", default=None, help="save the trained model (.keras)")
    p.add_argument("--out", default=None, help="JSON file name (in benchmarks/_work/)")
    p.add_argument("--report", nargs="+", default=None, help="JSON files to compare")
    args = p.parse_args(argv)
    if args.report:
        report([str(WORK / f) if not Path(f).exists() else f for f in args.report])
        return 0
    if args.data == "real" and not DATA.exists():
        print(f"real-scale digits not found at {DATA.resolve()}; see shared/README.md. "
              "Nothing to benchmark.")
        return 0
    result = run(args)
    WORK.mkdir(exist_ok=True)
    out = WORK / (args.out or f"defaults_{args.recipe}_{args.data}_{args.size}.json")
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
