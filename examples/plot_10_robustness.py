"""
Robustness: reading numbers laid out as people write them
=========================================================

The benchmark's test split has the generator's layout: digit *k* at ``x = 28k``.
:func:`multidigit.evaluate_robustness` reads pictures of MNIST *test* digits composed
under other conditions (shifted, scaled, drawn, thick or thin strokes, dark on white,
uneven gaps, touching) and reports per condition the per-digit and whole-number
accuracy and how confident the model is when it is wrong.  It does so without and
with :func:`multidigit.prepare_handwriting` in front of the model.

.. note::
   ``MULTIDIGIT_FAST=1`` uses a model trained for 3 epochs on a tiny set at 28x28 and
   a few pictures per condition: the numbers then mean little.
"""

# %%
# The conditions
# --------------
# One picture per condition, all showing the same number with the same digits.
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import multidigit as md

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")

fig_conditions = Figure(figsize=(10, 4.6), layout="constrained")
for ax, cond in zip(fig_conditions.subplots(3, 5).ravel(), md.CONDITIONS):
    images, labels, _ = md.make_condition_images(cond, 1, seed=1)
    ax.imshow(images[0], cmap="gray", vmin=0, vmax=255)
    ax.set_title(cond, fontsize=8)
    ax.set_axis_off()

# %%
# A trained model
# ---------------
# The final model of :doc:`plot_05_final_evaluation`, loaded from the cache that
# example fills (or trained here when the cache is empty).
if FAST:
    IMAGES_PER_CLASS = 2
    ds = md.load_dataset("mini", images_per_class=IMAGES_PER_CLASS, image_size=(28, 28),
                         seed=0)
else:
    IMAGES_PER_CLASS = 10  # the default mini dataset, native 84x84
    ds = md.load_dataset("mini", images_per_class=IMAGES_PER_CLASS, seed=0)
EPOCHS = 3 if FAST else md.default_epochs(len(ds.train) + len(ds.val))


def final_model_path(ds, images_per_class, epochs):
    """Where the gallery caches the final model trained on ``ds``'s train + val."""
    h, w = ds.image_shape[:2]
    import zlib

    # the default model's architecture is part of the name: a changed preset retrains
    arch = zlib.crc32(repr(md.PRESETS["shared"]).encode())
    key = f"mini-seed0-ipc{images_per_class}-{h}x{w}-e{epochs}-v{md.__version__}-{arch:08x}"
    return Path(md.data.default_cache_dir()) / "gallery" / f"final-{key}.keras"


def final_model(ds, images_per_class, epochs):
    """The final model of the gallery's final-evaluation example: loaded from the
    cache when an example saved it, else trained the same way and saved."""
    path = final_model_path(ds, images_per_class, epochs)
    if path.exists():
        print("loaded from the cache:", path.name)
        return md.load_model(path)
    model = md.build_model("softmax", "categorical_crossentropy",
                           input_shape=ds.image_shape, seed=0)
    full = md.Split(np.concatenate([ds.train.images, ds.val.images]),
                    np.concatenate([ds.train.labels, ds.val.labels]), name="train+val")
    md.train(model, full, validation=None, epochs=epochs, seed=0)
    md.save_model(model, path)
    print("trained and cached:", path.name)
    return model


model = final_model(ds, IMAGES_PER_CLASS, EPOCHS)

# %%
# Without preparation
# -------------------
# The pictures go to the model as they are (resized like the training data).  Watch
# the third bar: on the conditions the model reads badly, a high confidence on wrong
# answers means it is wrong *and sure* (calibration under shift).
N = 10 if FAST else 100  # pictures per condition (the benchmark reads 400)
raw = md.evaluate_robustness(model, n_images=N, seed=0)
print(raw)
fig_raw = raw.plot()

# %%
# With preparation
# ----------------
# Each picture first goes through :func:`multidigit.prepare_handwriting`.  A picture in
# which it does not find three digits is refused (counted as wrong, every digit).
prepared = md.evaluate_robustness(model, n_images=N, seed=0, prepare=True)
print(prepared)
fig_prepared = prepared.plot()

# %%
# The gain, condition by condition
# --------------------------------
for c, a, b in zip(raw.conditions, raw.whole_accuracy, prepared.whole_accuracy):
    print(f"{c:18s} whole number {100 * a:5.1f} % -> {100 * b:5.1f} %")
