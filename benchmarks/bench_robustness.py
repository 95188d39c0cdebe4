"""Robustness table (issue 24): each model on every condition, without and with preparation.

Run by hand (it is not a test).  It trains each model on ``mini`` (``load_dataset()``,
84x84) with ``md.train``'s defaults, or loads it, then runs
:func:`multidigit.evaluate_robustness` on every condition twice (``prepare=False`` and
``prepare=True``) and prints Markdown tables; ``--out`` writes them as JSON::

    python benchmarks/bench_robustness.py --out robustness.json           # default + tuned
    python benchmarks/bench_robustness.py --preset shared --model m.keras  # a saved model
    python benchmarks/bench_robustness.py --epochs 1 --n-images 20 --ipc 1  # smoke test

Models: ``--preset`` (repeatable; default ``shared`` and ``tuned``: multidigit's default
model and the study's; ``shared_thirds`` is the default before issue 24: fixed thirds,
no layout augmentation) built by ``md.build_model(preset=...)`` and trained by
``md.train(model, md.load_dataset())``.  ``--model PATH.keras`` (repeatable) loads
saved models instead of training.  ``--epochs`` overrides the number of epochs (only
for smoke tests: the table needs the real recipe).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")


def _models(args):
    """(name, model, seconds of training) for each --model file or --preset."""
    import multidigit as md

    for path in args.model:
        yield Path(path).stem, md.load_model(path), 0.0
    if args.model and not args.preset_given:
        return
    ds = md.load_dataset("mini", images_per_class=args.ipc, seed=args.seed)
    for preset in args.preset:
        model = md.build_model(preset=preset, input_shape=ds.image_shape, seed=args.seed)
        kw = {} if args.epochs is None else {"epochs": args.epochs}
        t0 = time.perf_counter()
        md.train(model, ds, seed=args.seed, **kw)
        seconds = time.perf_counter() - t0
        test = md.evaluate(model, ds.test)
        print(f"{preset}: trained in {seconds:.0f} s, mini test "
              f"{100 * test.mean_digit_accuracy:.2f} % / {100 * test.whole_accuracy:.2f} %",
              flush=True)
        yield preset, model, seconds


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", action="append", default=None,
                   help="a preset to train (repeatable; default: shared and tuned)")
    p.add_argument("--model", action="append", default=[], help="a saved .keras model")
    p.add_argument("--epochs", type=int, default=None, help="override (smoke tests only)")
    p.add_argument("--ipc", type=int, default=10, help="mini's images per class (10)")
    p.add_argument("--n-images", type=int, default=400, help="pictures per condition")
    p.add_argument("--conditions", default=None, help="comma-separated (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the tables as JSON here")
    args = p.parse_args(argv)
    args.preset_given = args.preset is not None
    args.preset = args.preset or ["shared", "tuned"]
    import multidigit as md
    from multidigit.model import presets

    # the default before issue 24 (fixed thirds, no layout augmentation), for comparison
    presets.PRESETS["shared_thirds"] = replace(presets.PRESETS["shared"], follow_columns=False,
                                               layout_shift=0.0, layout_scale=None)
    conditions = args.conditions.split(",") if args.conditions else list(md.CONDITIONS)
    runs = []
    for name, model, seconds in _models(args):
        for prepare in (False, True):
            t0 = time.perf_counter()
            res = md.evaluate_robustness(model, conditions, n_images=args.n_images,
                                         seed=args.seed, prepare=prepare)
            how = "with" if prepare else "without"
            print(f"\n### {name}, {how} preparation ({time.perf_counter() - t0:.0f} s)\n")
            print(res.to_markdown(), flush=True)
            runs.append({"model": name, "train_seconds": seconds, **res.to_dict()})
    if args.out:
        meta = {"python": sys.version.split()[0], "machine": platform.machine(),
                "argv": sys.argv[1:], "epochs": args.epochs, "ipc": args.ipc}
        Path(args.out).write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
