"""Which default-model recipe reads both Triple MNIST and handwriting (issue 24)?

Run by hand (it is not a test).  Each ``--variant`` is the ``shared`` preset with a few
fields changed (table ``VARIANTS``); each is trained at real scale with ``md.train``'s
defaults (``--ipc 100``: 64,000 training images; ``--epochs`` overrides), then read on
the real test split and on compositions of real MNIST test digits
(:func:`multidigit.evaluate_robustness`, the conditions in ``CLEAN`` without the
preparation and ``PREPARED`` with it).  Results go to ``--out`` after every variant::

    python benchmarks/probe_recipe.py --variant default --variant half --out probe.json
    KERAS_BACKEND=jax python benchmarks/probe_recipe.py --out probe_gpu.json   # on a GPU

Data: ``../shared/data/mnist_digits.npz`` or ``$MULTIDIGIT_DIGITS_NPZ`` (see ``_common``).
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

import numpy as np
from _common import SHARED, build_dataset

#: name -> fields of the ``shared`` preset to change
VARIANTS = {
    "default": {},
    "half": {"layout_fraction": 0.5},
    "thirds": {"follow_columns": False, "layout_shift": 0.0, "layout_scale": None},
    "half_narrow": {"layout_fraction": 0.5, "layout_scale": (0.8, 1.25)},
    "follow_only": {"layout_shift": 0.0, "layout_scale": None},
    "half_shift15": {"layout_fraction": 0.5, "layout_shift": 0.15},
}
CLEAN = ("control", "shift_8", "shift_exactly_8", "scale_0.7-1.4", "drawn", "uneven_gaps",
         "touching", "stroke_thick")
PREPARED = ("drawn", "drawn_small", "uneven_gaps", "touching")


def run_variant(name, ds, digits, args):
    import multidigit as md
    from multidigit.model import presets

    presets.PRESETS[f"probe_{name}"] = replace(presets.PRESETS["shared"], **VARIANTS[name])
    model = md.build_model(preset=f"probe_{name}", input_shape=ds.image_shape, seed=args.seed)
    kw = {} if args.epochs is None else {"epochs": args.epochs}
    t0 = time.perf_counter()
    hist = md.train(model, ds, seed=args.seed, **kw)
    seconds = time.perf_counter() - t0
    test = md.evaluate(model, ds.test)
    out = {"variant": name, "fields": VARIANTS[name], "train_seconds": round(seconds, 1),
           "epochs": len(hist.history["loss"]),
           "test": [round(100 * test.mean_digit_accuracy, 2), round(100 * test.whole_accuracy, 2)]}
    for prepare, conditions in ((False, CLEAN), (True, PREPARED)):
        res = md.evaluate_robustness(model, list(conditions), n_images=args.n_images,
                                     seed=args.seed, prepare=prepare, digits=digits)
        out["prepared" if prepare else "raw"] = res.to_dict()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", action="append", choices=list(VARIANTS), default=None)
    p.add_argument("--ipc", type=int, default=100, help="images per class (100: real scale)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--n-images", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="probe_recipe.json")
    args = p.parse_args(argv)
    import keras

    ds = build_dataset(SHARED, args.ipc, 84, seed=args.seed)
    d = np.load(SHARED)
    digits = (d["test_images"], d["test_labels"])
    meta = {"python": sys.version.split()[0], "machine": platform.machine(),
            "backend": keras.config.backend(), "argv": sys.argv[1:],
            "load": os.getloadavg()[0]}
    runs = []
    for name in args.variant or list(VARIANTS):
        try:
            runs.append(run_variant(name, ds, digits, args))
        except Exception as exc:  # one broken variant must not lose the others
            runs.append({"variant": name, "error": repr(exc)})
        print(json.dumps(runs[-1])[:2000], flush=True)
        Path(args.out).write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
