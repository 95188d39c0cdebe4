"""Probe one variation of the default model and recipe (issue 13), configured by JSON.

Not a test and not part of the package: it patches ``PRESETS`` and uses private
builders to try what a preset cannot express.  Usage (one JSON object per run)::

    python benchmarks/probe_recipes.py '{"ipc": 25, "epochs": 8}'            # quarter scale
    python benchmarks/probe_recipes.py '{"ipc": 25, "arch": {"augment_per_digit": false}}'
    python benchmarks/probe_recipes.py '{"ipc": 100, "epochs": 6, "size": 42, "shared_head": true,
        "replica": true, "loss": "categorical_crossentropy",
        "arch": {"augment_rotation": 0, "augment_shift": 0, "dense_dropout": 0}}'  # issue's probe

Keys: ipc (images per class: 100 = real scale), epochs, size (input size; the data is
resized outside the model), trainval (train on train + val), arch (Preset fields),
loss, lr, batch, shared_head (ONE Dense 10 for the three strips, Keras' loss on the
probabilities), replica (conv -> BN -> ReLU, no dense batch norm / dropout).  Prints
one ``RESULT`` line: wall, images/s, train accuracy, test per digit, mean, whole.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataclasses import replace  # noqa: E402

from _common import probe_run, probe_start  # noqa: E402

cfg, ds = probe_start()

import multidigit as md  # noqa: E402

md.PRESETS["p"] = replace(md.PRESETS["shared"], **cfg.get("arch", {}))
loss, lr = cfg.get("loss", "binary_crossentropy"), cfg.get("lr", 1e-3)
if cfg.get("shared_head"):
    import keras

    from multidigit.model import _blocks as B
    from multidigit.model import build as M

    keras.utils.set_random_seed(0)
    arch = md.PRESETS["p"]
    inp = keras.Input(shape=ds.image_shape, name="image")
    x = B._augment(B._resize(inp, arch), arch, 0, 3)
    if cfg.get("replica"):
        L = keras.layers
        for i, f in enumerate((32, 64, 128), 1):
            x = L.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv_{i}")(x)
            x = L.BatchNormalization(momentum=0.9, name=f"bn_{i}")(x)
            x = L.Activation("relu")(x)
            if i == 1:
                x = L.MaxPooling2D(2)(x)
        x = L.MaxPooling2D((int(x.shape[1]), 1), name="vpool")(x)
        flatten, dense = L.Flatten(), L.Dense(256, activation="relu", name="dense")
        feats = [dense(flatten(p)) for p in B._column_strips(x, 3)]
    else:
        feats = B._dense_block(B._conv_blocks(x, arch, None), arch, None, 3)
    head = keras.layers.Dense(10, activation="softmax", name="head")
    names = ["digit_0", "digit_1", "digit_2"]
    outs = {n: keras.layers.Identity(name=n)(head(f)) for n, f in zip(names, feats)}
    m = keras.Model(inp, outs)
    M._compile(m, names, "softmax", loss, "keras", lr)
else:
    m = md.build_model(input_shape=ds.image_shape, preset="p", seed=0, loss=loss,
                       learning_rate=lr)
probe_run(m, ds, cfg)
