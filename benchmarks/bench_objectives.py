"""The activation x loss experiment (issue 12), re-run with intervals and calibration.

Run by hand, once per backend (it is not a test)::

    KERAS_BACKEND=tensorflow python benchmarks/bench_objectives.py --out objectives_tf.json
    KERAS_BACKEND=jax        python benchmarks/bench_objectives.py --out objectives_jax.json
    # toy size, to see that it works (a minute on CPU):
    python benchmarks/bench_objectives.py --folds 2 --seeds 1 --epochs-short 1 \\
        --epochs-long 2 --images-per-class 1 --preset small --out /tmp/objectives.json

The protocol is :func:`multidigit.compare`'s: every combination is trained on the
*same* grouped folds (``make_folds(split, k, seed=seed + r)`` for seed ``r``) from the
*same* initial weights (``seed + 1000 r + fold``), and scored on the held-out fold.  It
is re-implemented here (with the public API) so that one training run serves both
budgets (scored after ``--epochs-short`` inside the ``--epochs-long`` run);
``compare`` trains each budget separately.  Two budgets:
``--epochs-short`` (the study's short cross-validation budget) and ``--epochs-long``
("to convergence": binary CE may learn more slowly without being worse).

Reported per combination and budget: per-digit accuracy, whole-number accuracy, the
Brier score (sum over the ten outputs of a head of ``(p - y)^2``, mean over images and
heads) and the expected calibration error (15 equal-width bins of the confidence the
head gives its arg-max answer; for sigmoid heads that output is not normalised, and an
over-confident one shows up here).  Intervals and p-values use the corrected resampled
t-test of Nadeau and Bengio (2003): the folds share training images, so a plain paired
t-test over folds under-estimates the variance; the correction multiplies it by
``1/J + n_val/n_train`` (``J`` runs).  Each combination is compared with the best one
of its budget.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from itertools import product
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

COMBOS = list(product(("softmax", "sigmoid"),
                      ("categorical_crossentropy", "binary_crossentropy")))
METRICS = ("mean_digit_accuracy", "whole_accuracy", "brier_score", "ece")
LOWER_IS_BETTER = {"brier_score", "ece"}


def corrected_t(values: np.ndarray, ratio: float) -> tuple[float, float, float]:
    """Mean, 95 % half-width and two-sided p (vs 0) with multidigit's corrected test."""
    from multidigit.experiments.comparison import corrected_interval, corrected_ttest

    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    lo, hi = corrected_interval(values, ratio)
    p = corrected_ttest(values, ratio)[1] if np.any(values != values[0]) else (
        1.0 if mean == 0 else 0.0)
    return mean, (hi - lo) / 2, p


def load_data(args):
    import multidigit as md

    if args.dataset == "mini":
        ds = md.load_dataset("mini", images_per_class=args.images_per_class,
                             image_size=(args.image_size, args.image_size), seed=0)
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        from _common import SHARED, build_dataset

        ds = build_dataset(SHARED, args.images_per_class, args.image_size)
    return ds.train


def _scores(res, act, loss, epochs, seed, n_tr, n_va, seconds) -> dict:
    return {"activation": act, "loss": loss, "epochs": epochs, "seed": seed,
            "n_train": n_tr, "n_val": n_va, "seconds": seconds,
            "digit_accuracy": list(res.digit_accuracy),
            "mean_digit_accuracy": res.mean_digit_accuracy,
            "whole_accuracy": res.whole_accuracy,
            "brier_score": res.mean_brier_score, "ece": res.mean_ece}


def run_one(split, tr, va, act, loss, seed, args) -> dict[int, dict]:
    """Train one combination on one fold to ``--epochs-long``; score the held-out part
    after ``--epochs-short`` epochs too.

    One run serves both budgets because the study's step schedule only lowers the
    learning rate at epoch 10: the first ``epochs_short <= 10`` epochs of the long run
    are exactly a short run (same seed, same batches, same learning rate).
    """
    import keras

    import multidigit as md
    from multidigit.training.schedules import STEP_EPOCH

    if args.epochs_short > STEP_EPOCH:
        raise SystemExit(f"--epochs-short must be <= {STEP_EPOCH} (the step schedule)")
    tr_split, va_split = split.subset(tr, "train"), split.subset(va, "val")
    model = md.build_model(act, loss, input_shape=split.image_shape, n_digits=split.n_digits,
                           preset=args.preset, filters=args.filters,
                           dense_units=args.dense_units, seed=seed, objective=args.objective)
    out: dict[int, dict] = {}
    t0 = time.perf_counter()

    class ScoreShort(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == args.epochs_short:
                res = md.evaluate(self.model, va_split)
                out[args.epochs_short] = _scores(res, act, loss, args.epochs_short, seed,
                                                 len(tr), len(va), time.perf_counter() - t0)

    md.train(model, tr_split, validation=None, epochs=args.epochs_long,
             batch_size=args.batch_size, seed=seed, early_stopping=False, schedule="step",
             callbacks=[ScoreShort()])
    res = md.evaluate(model, va_split)
    out[args.epochs_long] = _scores(res, act, loss, args.epochs_long, seed, len(tr), len(va),
                                    time.perf_counter() - t0)
    return out


def summarise(runs: list[dict]) -> list[dict]:
    """Per combination: means, corrected intervals and p-values against the best."""
    by = {c: [r for r in runs if (r["activation"], r["loss"]) == c] for c in COMBOS}
    by = {c: rs for c, rs in by.items() if rs}
    ratio = float(np.mean([r["n_val"] for r in runs]) / np.mean([r["n_train"] for r in runs]))
    rows = []
    for c, rs in by.items():
        row = {"activation": c[0], "loss": c[1], "runs": len(rs),
               "digit_accuracy": np.mean([r["digit_accuracy"] for r in rs], 0).tolist()}
        for m in METRICS:
            values = np.array([r[m] for r in rs], float)
            row[m], row[m + "_pm"], _ = corrected_t(values, ratio)
        rows.append(row)
    rows.sort(key=lambda r: -r["mean_digit_accuracy"])
    best = by[(rows[0]["activation"], rows[0]["loss"])]
    for row in rows:  # runs are paired: same fold, same seed, in the same order
        mine = by[(row["activation"], row["loss"])]
        for m in METRICS:
            d = np.array([a[m] - b[m] for a, b in zip(mine, best)], float)
            row[m + "_p_vs_best"] = corrected_t(d, ratio)[2]
    return rows


def markdown(rows: list[dict], epochs: int) -> str:
    title = (f"\n**{epochs} epochs** (mean ± 95 % corrected half-width; p: corrected "
             "resampled t-test against the best)\n")
    out = [title,
           "| activation + loss | per digit | digit acc. (p) | whole acc. | Brier | ECE |",
           "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        digits = " / ".join(f"{100 * a:.1f}" for a in r["digit_accuracy"])
        out.append(
            f"| {r['activation']} + {r['loss'].replace('_crossentropy', ' CE')} | {digits} | "
            f"{100 * r['mean_digit_accuracy']:.2f} ± {100 * r['mean_digit_accuracy_pm']:.2f} "
            f"({r['mean_digit_accuracy_p_vs_best']:.2g}) | "
            f"{100 * r['whole_accuracy']:.2f} ± {100 * r['whole_accuracy_pm']:.2f} | "
            f"{r['brier_score']:.4f} ± {r['brier_score_pm']:.4f} | "
            f"{r['ece']:.4f} ± {r['ece_pm']:.4f} |")
    return "\n".join(out)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seeds", type=int, default=3, help="repeats with other folds and weights")
    p.add_argument("--epochs-short", type=int, default=4,
                   help="the study's compare budget (<= 10: scored inside the long run)")
    p.add_argument("--epochs-long", type=int, default=20)
    p.add_argument("--dataset", choices=("mini", "real"), default="mini")
    p.add_argument("--images-per-class", type=int, default=10)
    p.add_argument("--image-size", type=int, default=28)
    p.add_argument("--preset", default="fast", help="default: the study's compare model")
    p.add_argument("--filters", type=lambda v: [int(x) for x in v.split(",")],
                   default=[32, 64, 64])
    p.add_argument("--dense-units", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--objective", choices=("exact", "keras"), default="exact")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("objectives.json"))
    args = p.parse_args(argv)

    import keras

    import multidigit as md

    split = load_data(args)
    report = {"backend": keras.config.backend(), "keras": keras.__version__,
              "multidigit": md.__version__, "python": platform.python_version(),
              "args": {k: str(v) for k, v in vars(args).items()}, "budgets": {}}
    print(f"backend {report['backend']}, {len(split)} training images, "
          f"{args.folds} folds x {args.seeds} seeds")
    fold_sets = [md.make_folds(split, args.folds, seed=args.seed + r) for r in range(args.seeds)]
    t0 = time.perf_counter()
    both = [run_one(split, tr, va, act, loss, args.seed + 1000 * r + i, args)
            for r, folds in enumerate(fold_sets) for i, (tr, va) in enumerate(folds)
            for act, loss in COMBOS]
    report["seconds"] = time.perf_counter() - t0
    for epochs in (args.epochs_short, args.epochs_long):
        runs = [b[epochs] for b in both]
        rows = summarise(runs)
        report["budgets"][str(epochs)] = {"rows": rows, "runs": runs}
        print(markdown(rows, epochs), flush=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"\nwritten: {args.out}")
    return report


if __name__ == "__main__":
    main()
