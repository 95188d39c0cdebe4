"""Shared by the benchmark scripts: the real MNIST digits in ../shared and a
real-scale Triple MNIST built from them (scripts import it as ``_common``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

#: Real MNIST digits for benchmarks (never used by the package or its tests):
#: ``../shared/data/mnist_digits.npz`` beside the checkout, or ``$MULTIDIGIT_DIGITS_NPZ``
#: (e.g. a copy carried to a GPU machine, where ``../shared`` does not travel).
SHARED = Path(
    os.environ.get("MULTIDIGIT_DIGITS_NPZ")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist_digits.npz"
)


def real_digits(npz: Path = SHARED) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Digit pools per split: train and val from the train pool (disjoint, val is a
    held-out fifth), test from the official MNIST test pool."""
    d = np.load(npz)
    x, y = d["train_images"], d["train_labels"]
    idx = np.random.RandomState(123).permutation(len(x))
    n_val = len(x) // 5
    return {
        "train": (x[idx[n_val:]], y[idx[n_val:]]),
        "val": (x[idx[:n_val]], y[idx[:n_val]]),
        "test": (d["test_images"], d["test_labels"]),
    }


def build_dataset(npz: Path, images_per_class: int, size: int, seed: int = 0):
    """A Triple MNIST set from the real digits (100 images per class = real scale:
    64,000 / 16,000 / 20,000), resized to ``size`` x ``size``."""
    from multidigit._resize import resize_like_pil
    from multidigit.data import MultiDigitDataset, Split, generate_dataset
    from multidigit.data.dataset import as_pixels

    raw = generate_dataset(images_per_class=images_per_class, seed=seed, digits=real_digits(npz))
    splits = {}
    for s, (imgs, labels) in raw.items():
        if imgs.shape[1] != size:
            imgs = resize_like_pil(imgs, (size, size))
        splits[s] = Split(as_pixels(imgs)[..., None], labels, s)  # uint8 -> [0, 1], (N, H, W, 1)
    return MultiDigitDataset(splits["train"], splits["val"], splits["test"], "bench")


def probe_dataset(cfg: dict):
    """The set a probe script asks for (keys ``ipc``, ``size``, ``trainval``), or None
    when ``../shared`` is absent (the probe then says so and exits 0)."""
    if not SHARED.exists():
        print(f"{SHARED} is not there (see ../shared/README.md): nothing to probe.")
        return None
    from multidigit.data import MultiDigitDataset, Split

    ds = build_dataset(SHARED, cfg.get("ipc", 25), cfg.get("size", 84))
    if cfg.get("trainval"):
        tv = Split(np.concatenate([ds.train.images, ds.val.images]),
                   np.concatenate([ds.train.labels, ds.val.labels]), "train")
        ds = MultiDigitDataset(tv, ds.val, ds.test, "bench")
    return ds


def probe_start() -> tuple[dict, object]:
    """The probe's JSON settings (``sys.argv[1]``) and its data set; exits 0 when
    ``../shared`` is absent."""
    import json
    import sys

    cfg = json.loads(sys.argv[1])
    ds = probe_dataset(cfg)
    if ds is None:
        sys.exit(0)
    return cfg, ds


def probe_run(model, ds, cfg: dict) -> None:
    """Train ``model`` with the probe's recipe (one-cycle, no validation), evaluate it on
    the test split and print one ``RESULT`` line."""
    import json
    import time

    import multidigit as md

    t = time.perf_counter()
    h = md.train(model, ds, epochs=cfg.get("epochs", 8), batch_size=cfg.get("batch", 128),
                 schedule="onecycle", seed=0, validation=None)
    wall = time.perf_counter() - t
    r = md.evaluate(model, ds.test)
    tr = np.mean([h.history[f"digit_{i}_accuracy"][-1] for i in range(3)])
    print("RESULT", json.dumps(cfg),
          f"wall {wall:.0f} ips {h.images_per_second:.0f} train {tr:.4f}",
          [round(a, 4) for a in r.digit_accuracy],
          f"mean {r.mean_digit_accuracy:.4f} whole {r.whole_accuracy:.4f}", flush=True)


def set_threads(spec: str | None) -> None:
    """``"intra,inter"``: TensorFlow's op threads (before any op runs); None: its own
    choice (the benchmarks' ``--threads``)."""
    if not spec:
        return
    import tensorflow as tf

    intra, inter = (int(v) for v in spec.split(","))
    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)


def timing_table(runs: dict, reduce, unit: str = "s") -> dict:
    """Print ``runs`` (part -> [(wall, cpu), ...]) as a Markdown table, each part reduced
    over its repeats by ``reduce`` (``min``, ``statistics.median``); return
    part -> ``{"wall", "cpu"}`` (the profiling scripts' output)."""
    print(f"| part | wall {unit} | CPU {unit} | cores |")
    print("| --- | ---: | ---: | ---: |")
    table = {}
    for name, rs in runs.items():
        wall, cpu = reduce(r[0] for r in rs), reduce(r[1] for r in rs)
        table[name] = {"wall": wall, "cpu": cpu}
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {cpu / max(wall, 1e-9):.2f} |")
    return table
