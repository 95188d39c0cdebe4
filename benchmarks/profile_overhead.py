"""What one short training of the study costs besides its gradient steps (issue 29).

Not a test.  The study's experiments (compare, cross-validation, tuning) train many small
models for 2 epochs each; this times, for the default model on the first ``--images``
training images of mini (batch ``--batch-size``), each part of one such training::

    python benchmarks/profile_overhead.py
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/profile_overhead.py
    python benchmarks/profile_overhead.py --threads 1,1

Parts (wall and CPU seconds, the median of ``--repeats`` fresh models): ``build``
(:func:`multidigit.build_model`), ``epoch1`` (the first epoch of
:func:`multidigit.train`: tracing the train step, and the validation pass's tracing),
``epoch2`` (the second epoch: the steps alone), ``eval1`` / ``eval2`` (the first and
second :func:`multidigit.evaluate` on the validation images).  ``epoch1 - epoch2`` is
the tracing a training pays once per model; ``eval1 - eval2`` the tracing of evaluation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import _common

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=1600)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", default=None, help="intra,inter op threads of TensorFlow")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    _common.set_threads(args.threads)
    import multidigit as md

    ds = md.load_dataset()
    train = ds.train.subset(range(args.images))
    val = ds.val.subset(range(args.images // 4))
    runs: dict[str, list[tuple[float, float]]] = {}
    for r in range(args.repeats):
        box = {}

        def build(r=r, box=box):
            box["m"] = md.build_model(seed=r)

        def fit_one(r=r, box=box):
            md.train(box["m"], train, validation=val, epochs=1, batch_size=args.batch_size,
                     seed=r, progress=False, early_stopping=False)

        def evaluate(box=box):
            md.evaluate(box["m"], val)

        for name, fn in (("build", build), ("epoch1", fit_one), ("epoch2", fit_one),
                         ("eval1", evaluate), ("eval2", evaluate)):
            runs.setdefault(name, []).append(_timed(fn))
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "native")
    print(f"ISA {isa}, threads {args.threads or 'default'}, {args.images} images, batch "
          f"{args.batch_size}, load {os.getloadavg()[0]:.1f}")
    table = _common.timing_table(runs, statistics.median)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"isa": isa, "threads": args.threads, "images": args.images,
                       "batch_size": args.batch_size, "parts": table}, f, indent=1)


if __name__ == "__main__":
    main()
