"""Cheaper study stages: do they rank the same and read as well? (issue 29)

Not a test.  Runs one stage of ``multidigit study`` the way the study runs it (same
functions, same :class:`~multidigit.study.StudyConfig` defaults) with some settings
changed, and prints what the stage decides and what it costs::

    # the comparison of the four objectives on fewer images per label combination
    python benchmarks/bench_study_settings.py compare --set experiment_images_per_class=3
    # the final training with fewer epochs (the tuned model of a finished study)
    python benchmarks/bench_study_settings.py final --set final_epochs=7 \\
        --tuned multidigit-study/stages/tuning.json

``compare`` prints the ranking of the objectives (mean per-digit accuracy over the
folds) and the wall / CPU seconds; ``final`` prints the test accuracies and the
seconds.  ``--seed`` changes the data order and the models' seeds (the data stay
mini's).  Results go to ``--out`` as JSON too.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _settings(pairs: list[str], seed: int):
    from multidigit.study import StudyConfig

    cfg = StudyConfig.make(seed=seed)
    for pair in pairs:
        key, value = pair.split("=", 1)
        old = getattr(cfg, key)  # AttributeError: no such setting
        setattr(cfg, key, None if value == "None" else type(old or 0)(value))
    return cfg


def run_compare(cfg, ds):
    from multidigit.experiments.comparison import compare
    from multidigit.study.stages import experiment_data

    data = experiment_data(ds, cfg.experiment_images_per_class)
    res = compare(data, k=cfg.compare_k, model_params=cfg.model_params(),
                  epochs=cfg.compare_epochs, batch_size=cfg.experiment_batch_size,
                  seed=cfg.seed, train_params={"schedule": cfg.schedule})
    return {"ranking": [f"{r['activation']}+{r['loss']}" for r in res.rows],
            "means": {f"{r['activation']}+{r['loss']}": r["mean"] for r in res.rows},
            "p_value": res.p_value, "n_train": len(data.train)}


def run_final(cfg, ds, tuned_path):
    import numpy as np

    import multidigit as md
    from multidigit.study.stages import _final_model_params

    tuned = json.load(open(tuned_path)) if tuned_path else {}
    best = {"activation": "softmax", "loss": "categorical_crossentropy"}
    params, batch = _final_model_params(cfg, best, tuned)
    full = md.Split(np.concatenate([ds.train.images, ds.val.images]),
                    np.concatenate([ds.train.labels, ds.val.labels]), "train+val")
    model = md.build_model(input_shape=ds.image_shape, n_digits=ds.n_digits, seed=cfg.seed,
                           **params)
    md.train(model, full, epochs=cfg.final_epochs, batch_size=batch, validation=None,
             schedule=cfg.schedule, early_stopping=False, seed=cfg.seed)
    res = md.evaluate(model, ds.test)
    return {"model_params": params, "batch_size": batch,
            "digit": res.mean_digit_accuracy, "whole": res.whole_accuracy}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stage", choices=("compare", "final"))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a StudyConfig setting (repeatable)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tuned", default=None, help="a study's stages/tuning.json (final)")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    import multidigit as md
    from multidigit.study.stages import load_data

    cfg = _settings(args.set, args.seed)
    ds = load_data(cfg)
    _ = md
    w, c = time.perf_counter(), time.process_time()
    out = run_compare(cfg, ds) if args.stage == "compare" else run_final(cfg, ds, args.tuned)
    out.update(stage=args.stage, settings=args.set, seed=args.seed,
               isa=os.environ.get("ONEDNN_MAX_CPU_ISA", "native"),
               wall=time.perf_counter() - w, cpu=time.process_time() - c,
               load=os.getloadavg()[0])
    print(json.dumps(out, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
