"""Probe: how layout augmentation and ink-following windows change robustness (issue 24).

Not a test and not part of the package.  Trains the default model with preset fields
overridden (JSON), on ``mini`` (train split, val for early stopping) or on a real-scale
set from ``../shared``, and reads numbers composed from MNIST *test* digits
(``../shared``'s official test pool) in the Triple MNIST layout, with every digit
shifted sideways (within / exactly +-8 px) or scaled (0.7x, 1.4x).  Prints one
``RESULT`` line::

    python benchmarks/probe_layout.py '{"follow_columns": true, "layout_shift": 0.1}'

Keys: any ``Preset`` field; ``epochs`` (default 10), ``data`` ("mini" or an
images-per-class count of the real-scale set), ``n`` (test images per condition).
"""
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from _common import SHARED, build_dataset  # noqa: E402


def compose(digits, labels, n, rng, shift=0, exact=False, scale=(1.0, 1.0)):
    """``n`` 84x84 images of three test digits, each moved and scaled on its own."""
    import cv2

    x = np.zeros((n, 84, 84), np.float32)
    y = rng.integers(0, len(digits), size=(n, 3))
    for i in range(n):
        for k in range(3):
            d = digits[y[i, k]].astype(np.float32) / 255.0
            f = rng.uniform(*scale)
            size = max(4, round(28 * f))
            d = cv2.resize(d, (size, size), interpolation=cv2.INTER_AREA if f < 1
                           else cv2.INTER_LINEAR)
            dx = (rng.choice([-1, 1]) * shift if exact else rng.integers(-shift, shift + 1)
                  if shift else 0)
            cx, cy = 28 * k + 14 + dx, rng.integers(14, 70)
            x0, y0 = cx - size // 2, cy - size // 2
            xs, ys = slice(max(x0, 0), min(x0 + size, 84)), slice(max(y0, 0), min(y0 + size, 84))
            part = d[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
            x[i, ys, xs] = np.maximum(x[i, ys, xs], part)
    return x[..., None], labels[y]


CONDITIONS = {
    "control": {},
    "shift within 8": {"shift": 8},
    "shift exactly 8": {"shift": 8, "exact": True},
    "scale 0.7": {"scale": (0.7, 0.7)},
    "scale 1.4": {"scale": (1.4, 1.4)},
    "scale 0.7-1.4": {"scale": (0.7, 1.4)},
}


def main() -> None:
    import multidigit as md
    from multidigit.model import presets

    cfg = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    if not SHARED.exists():
        print(f"{SHARED} is not there (see ../shared/README.md): nothing to probe.")
        return
    fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items()
              if k in presets.Preset.__dataclass_fields__}
    presets.PRESETS["probe"] = replace(presets.PRESETS["shared"], **fields)
    data = cfg.get("data", "mini")
    ds = md.load_dataset() if data == "mini" else build_dataset(SHARED, int(data), 84)
    model = md.build_model(preset="probe", seed=0)
    t = time.perf_counter()
    md.train(model, ds, epochs=cfg.get("epochs", 10), seed=0)
    wall = time.perf_counter() - t
    test = np.load(SHARED)
    digits, labels = test["test_images"], test["test_labels"]
    out = {"clean test": md.evaluate(model, ds.test)}
    for name, kw in CONDITIONS.items():
        x, y = compose(digits, labels, cfg.get("n", 1000), np.random.default_rng(0), **kw)
        pred = np.stack([model.predict(x, verbose=0, batch_size=256)[f"digit_{k}"].argmax(1)
                         for k in range(3)], 1)
        out[name] = ((pred == y).mean(), (pred == y).all(1).mean())
    cells = [f"{k}: {v.mean_digit_accuracy:.4f}/{v.whole_accuracy:.4f}" if k == "clean test"
             else f"{k}: {v[0]:.4f}/{v[1]:.4f}" for k, v in out.items()]
    print("RESULT", json.dumps(cfg), f"wall {wall:.0f}", " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
