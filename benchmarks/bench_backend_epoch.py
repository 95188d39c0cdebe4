"""One ``md.train`` epoch of the default model on the Keras backend in use (issue 29).

Not a test.  Trains one epoch of 1,920 of mini's training images (after one warm-up
epoch that traces and compiles), twice, and prints the best wall and CPU seconds per
1,000 images; run it once per backend and compare the CPU figures::

    python benchmarks/bench_backend_epoch.py
    KERAS_BACKEND=jax python benchmarks/bench_backend_epoch.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    import keras

    import multidigit as md

    ds = md.load_dataset()
    n = 1920
    train = md.Split(ds.train.images[:n], ds.train.labels[:n], "train")
    model = md.build_model(seed=0)
    md.train(model, train, epochs=1, progress=False)  # trace / compile
    runs = []
    for _ in range(2):
        w, c = time.perf_counter(), time.process_time()
        md.train(model, train, epochs=1, progress=False)
        runs.append(((time.perf_counter() - w) * 1000 / n, (time.process_time() - c) * 1000 / n))
    print(f"{keras.config.backend()}: wall {min(r[0] for r in runs):.2f} s, CPU "
          f"{min(r[1] for r in runs):.2f} s per 1,000 images (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
