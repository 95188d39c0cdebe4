"""Benchmark: which explainer can I trust?  The trust table of every registered explainer.

For each model (the default ``shared`` preset and the study's ``tuned`` preset,
trained here, or ``--model PATH`` loaded), :func:`multidigit.explanation.metrics.trust.trust_table`
scores every registered attribution explainer on the first ``--n-images`` test
images, every head, explaining the true digits:

* localisation against the digit boxes: pointing game, relevance mass, rank accuracy;
* faithfulness: deletion / insertion AUC (``--steps`` steps over the first
  ``--max-fraction`` of the pixels);
* randomisation sanity: Spearman correlation with the maps of the fully randomised
  model, over the pixels each head reads (low is good);
* milliseconds per map (one image, one head) after a warm-up call.

On the default model (``digit_windows``) every CAM also gets a ``(whole image)`` row:
``restrict_to_head=False``.  Writes ``--out`` (JSON) and ``--markdown`` (the tables).

Usage::

    python benchmarks/bench_trust.py [--data mini|real] [--presets shared tuned]
        [--epochs N] [--images-per-class 10] [--n-images 64] [--steps 20]
        [--model PATH ...] [--out trust.json] [--markdown trust.md]

``--data real`` builds the real-scale set from ``../shared/data/mnist_digits.npz``
(100 images per label combination; exits 0 with a message when it is absent).
Smoke run (a minute or two on a CPU)::

    python benchmarks/bench_trust.py --epochs 1 --images-per-class 1 --n-images 4 \\
        --steps 4 --presets shared --fast
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings

warnings.filterwarnings("ignore", message="The structure of `inputs`")

#: cheaper settings of the slow methods for --fast (smoke runs, the gallery)
FAST_OPTIONS = {"rise": {"n_masks": 100}, "occlusion": {"size": 8, "stride": 8},
                "scorecam": {"max_n": 16}, "integrated_gradients": {"steps": 16},
                "smoothgrad_squared": {"samples": 8}, "vargrad": {"samples": 8}}


def load_data(args):
    import multidigit as md

    if args.data == "mini":
        return md.load_dataset("mini", images_per_class=args.images_per_class, seed=0)
    from _common import SHARED, build_dataset

    if not SHARED.exists():
        print(f"{SHARED} not found: --data real needs the real MNIST digits "
              "(see shared/README.md). Skipping.")
        sys.exit(0)
    return build_dataset(SHARED, 100, 84)


def trained(preset: str, ds, epochs: int | None):
    import numpy as np

    import multidigit as md

    model = md.build_model("softmax", "categorical_crossentropy", preset=preset,
                           input_shape=ds.image_shape, seed=0)
    full = md.Split(np.concatenate([ds.train.images, ds.val.images]),
                    np.concatenate([ds.train.labels, ds.val.labels]), "train+val")
    t = time.perf_counter()
    md.train(model, full, validation=None, epochs=epochs, seed=0)
    return model, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", choices=("mini", "real"), default="mini")
    p.add_argument("--images-per-class", type=int, default=10, help="mini only")
    p.add_argument("--presets", nargs="+", default=["shared", "tuned"])
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs (default: multidigit's default_epochs)")
    p.add_argument("--model", type=Path, nargs="*", default=[],
                   help="evaluate saved models instead of training the presets")
    p.add_argument("--n-images", type=int, default=64)
    p.add_argument("--steps", type=int, default=20, help="deletion / insertion steps")
    p.add_argument("--max-fraction", type=float, default=0.05,
                   help="deletion / insertion over this fraction of the pixels")
    p.add_argument("--methods", nargs="*", default=None, help="default: every one")
    p.add_argument("--fast", action="store_true", help="cheaper RISE, occlusion...")
    p.add_argument("--out", type=Path, default=Path("trust.json"))
    p.add_argument("--markdown", type=Path, default=Path("trust.md"))
    p.add_argument("--save", type=Path, default=None,
                   help="folder to save the trained models in (trust_<preset>.keras)")
    args = p.parse_args(argv)

    import keras

    import multidigit as md
    from multidigit.explanation.metrics.trust import trust_table, verdict

    ds = load_data(args)
    test = ds.test
    models = []
    if args.model:
        models = [(path.stem, md.load_model(path), None) for path in args.model]
    else:
        for preset in args.presets:
            print(f"training {preset} ...", flush=True)
            model, seconds = trained(preset, ds, args.epochs)
            models.append((preset, model, seconds))
    report = {"data": args.data, "test_images": args.n_images, "steps": args.steps,
              "max_fraction": args.max_fraction,
              "fast": args.fast, "machine": platform.processor() or platform.machine(),
              "keras": keras.__version__, "multidigit": md.__version__, "models": {}}
    sections = []
    for name, model, seconds in models:
        res = md.evaluate(model, test)
        acc = {"whole_accuracy": res.whole_accuracy, "digit_accuracy": res.digit_accuracy}
        if args.save is not None and seconds is not None:
            md.save_model(model, args.save / f"trust_{name}.keras")
        print(f"{name}: scoring explainers on {args.n_images} images", flush=True)
        table = trust_table(model, test, args.methods, n_images=args.n_images,
                            steps=args.steps, max_fraction=args.max_fraction,
                            options=FAST_OPTIONS if args.fast else None,
                            progress=lambda label: print("  ", label, flush=True))
        report["models"][name] = {"train_seconds": seconds, "test": acc,
                                  "box_share": table.box_share, **table.to_dict()}
        digits = ", ".join(f"{100 * a:.1f}" for a in res.digit_accuracy)
        sections.append(f"### {name} (test: {100 * res.whole_accuracy:.1f} % whole numbers, "
                        f"digits {digits} %)\n\n{table.to_markdown()}\n\n"
                        f"A map spread evenly scores {table.box_share:.2f} on mass in box.\n")
    verdicts = "\n".join(f"- **{r.label}**: {verdict(r.method)}"
                         for r in table.rows if "(" not in r.label)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    args.markdown.write_text("\n".join(sections) + "\n### Verdicts\n\n" + verdicts + "\n")
    print("\n".join(sections))
    print(f"wrote {args.out} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
