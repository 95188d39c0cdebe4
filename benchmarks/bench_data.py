"""Benchmark: loading a folder of real-size Triple MNIST PNGs.

Compares :func:`multidigit.load_dataset` on a folder (cold: no decoded-array cache;
cached: second load) against the study's loop, in the same run::

    for each folder, for each file: PIL open, convert('L'), resize, append

Usage::

    python benchmarks/bench_data.py [--images 20000] [--size 28] [--repeats 3]

Builds the PNG folder from the real MNIST digits in ``../shared/data/mnist_digits.npz``
(train/val digits from its train pool, test digits from its test pool); exits 0 with a
message when that file is absent.  Results are written down in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import SHARED, real_digits  # noqa: E402


def study_loop(root: Path, size: int):
    """The study's loader, verbatim in spirit: one file at a time."""
    from PIL import Image

    out = {}
    for split in ("train", "val", "test"):
        images, labels = [], []
        for label in sorted(os.listdir(root / split)):
            for fname in sorted(os.listdir(root / split / label)):
                img = Image.open(root / split / label / fname).convert("L")
                img = img.resize((size, size))
                images.append(np.array(img))
                labels.append([int(c) for c in label])
        out[split] = (np.array(images, dtype=np.float32)[..., None] / 255.0, np.array(labels))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20000, help="total PNGs (multiple of 1000)")
    ap.add_argument("--size", type=int, default=28, help="resize target (the study: 28)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", default=None, help="folder to keep the PNGs in")
    args = ap.parse_args()
    if not SHARED.exists():
        print(f"{SHARED} not found: this benchmark needs the shared real MNIST digits; skipped.")
        return 0

    import multidigit as md
    from multidigit.data import MultiDigitDataset, Split, generate_dataset

    ipc = max(1, args.images // 1000)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-data-"))
    root = work / "triple"
    if not root.exists():
        raw = generate_dataset(images_per_class=ipc, seed=0, digits=real_digits(SHARED))
        splits = {s: Split(x[..., None] / np.float32(255), y, s) for s, (x, y) in raw.items()}
        ds = MultiDigitDataset(splits["train"], splits["val"], splits["test"], "real")
        t = time.perf_counter()
        md.export_dataset(ds, root)
        print(f"exported {sum(len(s) for s in splits.values())} PNGs in "
              f"{time.perf_counter() - t:.1f}s to {root}")
    n = sum(1 for _ in root.rglob("*.png"))
    size = (args.size, args.size)

    def timed(fn, reps):
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)

    t_study = timed(lambda: study_loop(root, args.size), args.repeats)
    t_cold = timed(lambda: md.load_dataset(root, image_size=size, use_cache=False), args.repeats)
    cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    md.load_dataset(root, image_size=size, cache_dir=cache)  # fill the cache
    t_cached = timed(lambda: md.load_dataset(root, image_size=size, cache_dir=cache),
                     args.repeats)
    # same result?
    a = study_loop(root, args.size)
    b = md.load_dataset(root, image_size=size, use_cache=False)
    same = all(np.array_equal(a[s][0], b[s].images) and np.array_equal(a[s][1], b[s].labels)
               for s in ("train", "val", "test"))

    print(f"\n{n} PNGs, resized to {args.size}x{args.size}, {os.cpu_count()} CPUs, "
          f"median of {args.repeats}")
    print("| loader | seconds | images/s | speed-up vs study loop |")
    print("|---|---|---|---|")
    for name, t in [("study loop", t_study), ("load_dataset, cold", t_cold),
                    ("load_dataset, cached", t_cached)]:
        print(f"| {name} | {t:.3f} | {n / t:,.0f} | {t_study / t:.1f}x |")
    print(f"\nbyte-identical images and labels, all splits: {same}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
