"""Probe the digit-window model with its knobs turned (issue 13), configured by JSON.

Not a test and not part of the package: the model of the ``shared`` preset written
out by hand (``DigitWindows`` -> per-digit rotation / zoom / shift -> conv blocks ->
one 7x7 strip per digit -> ONE shared dense layer -> a head per digit), so that the
quarter-scale table of ``benchmarks/README.md`` ("Digit windows") can be reproduced.
Usage (one JSON object per run)::

    python benchmarks/probe_windows.py '{"ipc": 25, "epochs": 8, "drop": 0.25, "ddrop": 0.5}'

Keys: ipc (images per class; 25 = quarter scale, 100 = real scale), epochs, size,
trainval, rot, shift, zoom (per-digit augmentation), filters, pools (1: a 2x2 pool
after that block), drop (dropout after every block), ddrop (dense dropout), dense,
loss, lr, batch, ema (Adam's weight-average momentum).  Prints one ``RESULT`` line.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import probe_run, probe_start  # noqa: E402

cfg, ds = probe_start()

import functools  # noqa: E402

import keras  # noqa: E402
from keras import layers as L  # noqa: E402, N812

from multidigit.model import build as M  # noqa: E402, N812
from multidigit.model.windows import DigitWindows  # noqa: E402

keras.utils.set_random_seed(0)
inp = keras.Input(shape=ds.image_shape, name="image")
x = DigitWindows(3, name="digit_windows")(inp)
s = int(x.shape[1])
rot, shift, zoom = cfg.get("rot", 0.03), cfg.get("shift", 0.1), cfg.get("zoom", 0.0)
strips = []
for k in range(3):
    t = L.Cropping2D(((0, 0), (k * s, 2 * s - k * s)))(x)
    if rot:
        t = L.RandomRotation(rot, fill_mode="constant", seed=k)(t)
    if zoom:
        t = L.RandomZoom(zoom, fill_mode="constant", seed=k)(t)
    if shift:
        t = L.RandomTranslation(shift, shift, fill_mode="constant", seed=k)(t)
    strips.append(t)
x = L.Concatenate(axis=2)(strips) if (rot or shift or zoom) else x
for i, (f, p) in enumerate(zip(cfg.get("filters", [32, 64, 128]), cfg.get("pools", [1, 1, 0])), 1):
    x = L.Conv2D(f, 3, padding="same", activation="relu", name=f"conv_{i}")(x)
    x = L.BatchNormalization(momentum=0.9)(x)
    if p:
        x = L.MaxPooling2D(2)(x)
    if cfg.get("drop", 0):
        x = L.Dropout(cfg["drop"])(x)
w = int(x.shape[2]) // 3
dense = L.Dense(cfg.get("dense", 256), activation="relu", name="dense")
norm, drop, flat = L.BatchNormalization(momentum=0.9), L.Dropout(cfg.get("ddrop", 0.3)), L.Flatten()
names = ["digit_0", "digit_1", "digit_2"]
outs = {}
for k, n in enumerate(names):
    f = flat(L.Cropping2D(((0, 0), (k * w, int(x.shape[2]) - (k + 1) * w)))(x))
    outs[n] = L.Dense(10, activation="softmax", name=n)(drop(norm(dense(f))))
m = keras.Model(inp, outs)
if cfg.get("ema"):
    keras.optimizers.Adam = functools.partial(keras.optimizers.Adam, use_ema=True,
                                              ema_momentum=cfg["ema"])
M._compile(m, names, "softmax", cfg.get("loss", "binary_crossentropy"), "keras",
           cfg.get("lr", 1e-3))
probe_run(m, ds, cfg)
