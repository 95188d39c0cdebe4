"""Training cost of two model variants, as a ratio taken in one run (issue 24: the
robust default must train within 10 % of the previous default's time).

Not a test.  Builds the default model and the same model with preset fields
overridden, then alternates short ``fit`` calls on the same 84x84 images (mini's train
split), ``--rounds`` times, so that both see the same load; prints the CPU seconds and
wall seconds per 1,000 images of each, and their ratios::

    python benchmarks/bench_step_time.py --base '{"follow_columns": false, "layout_shift": 0, "layout_scale": null}'

``--base`` and ``--new`` are JSON objects of ``Preset`` fields applied to ``shared``
(``{}``: the default itself).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default='{"follow_columns": false, "layout_shift": 0, '
                   '"layout_scale": null}')
    p.add_argument("--new", default="{}")
    p.add_argument("--steps", type=int, default=40, help="batches per fit call")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()

    import numpy as np

    import multidigit as md
    from multidigit.model import presets

    ds = md.load_dataset()
    n = args.steps * args.batch_size
    x, y = ds.train.images[:n], ds.train.one_hot()
    y = {k: v[:n] for k, v in y.items()}
    models = {}
    for name, fields in (("base", args.base), ("new", args.new)):
        fields = {k: (tuple(v) if isinstance(v, list) else v)
                  for k, v in json.loads(fields).items()}
        presets.PRESETS[f"bench_{name}"] = replace(presets.PRESETS["shared"], **fields)
        models[name] = md.build_model(preset=f"bench_{name}", seed=0)
        models[name].fit(x[:args.batch_size * 2], {k: v[:args.batch_size * 2]
                                                   for k, v in y.items()},
                         batch_size=args.batch_size, epochs=1, verbose=0)  # trace once
    cpu = {k: [] for k in models}
    wall = {k: [] for k in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            c, w = time.process_time(), time.perf_counter()
            model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
            cpu[name].append((time.process_time() - c) / n * 1000)
            wall[name].append((time.perf_counter() - w) / n * 1000)
    med = {k: (float(np.median(cpu[k])), float(np.median(wall[k]))) for k in models}
    print(json.dumps({"load": os.getloadavg(), "per_1000_images_cpu_wall_s": med,
                      "ratio_cpu": med["new"][0] / med["base"][0],
                      "ratio_wall": med["new"][1] / med["base"][1]}, indent=1))


if __name__ == "__main__":
    main()
