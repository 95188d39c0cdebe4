"""
Can we trust the maps?
======================

An attribution map can look convincing and still say nothing about the model.
Two checks from the literature, in :mod:`multidigit.explanation.methods`:

* the **sanity check** (Adebayo et al., 2018): randomise the model's weights, layer
  by layer from the output down.  A method that explains the *model* must then
  produce different maps; one that mostly shows the image (an edge detector) does
  not;
* **deletion / insertion** (Petsiuk et al., 2018): remove the pixels a map calls
  most important first; the predicted digit's probability should drop fast
  (low deletion area).  Insert them into a blank image first; it should rise fast
  (high insertion area).  A random ranking is the baseline to beat.

.. note::
   ``MULTIDIGIT_FAST=1`` uses a barely trained model (3 epochs on a tiny set at
   28x28) and 8 images: the numbers illustrate the API, not the methods' merits.
"""

# %%
# A trained model
# ---------------
# The final model of :doc:`plot_05_final_evaluation`, loaded from the cache that
# example fills (or trained here when the cache is empty).
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import multidigit as md
from multidigit.explanation.metrics.checks import faithfulness, faithfulness_table, sanity_check

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")

if FAST:
    IMAGES_PER_CLASS = 2
    ds = md.load_dataset("mini", images_per_class=IMAGES_PER_CLASS, image_size=(28, 28),
                         seed=0)
else:
    IMAGES_PER_CLASS = 10  # the default mini dataset, native 84x84
    ds = md.load_dataset("mini", images_per_class=IMAGES_PER_CLASS, seed=0)
# train()'s default number of epochs on train + val, as in the final-evaluation example
EPOCHS = 3 if FAST else md.default_epochs(len(ds.train) + len(ds.val))
N_IMAGES, STEPS = (8, 10) if FAST else (100, 20)

# The final model of plot_05_final_evaluation.py (the default "shared" model,
# softmax heads, categorical cross-entropy, trained on train + val).  That example
# saves it to a cache; final_model() loads it from there, or trains it the same way
# (a few minutes on a CPU) when this script runs on its own.


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
images = ds.test.images[:N_IMAGES]

# %%
# Sanity check
# ------------
# Spearman correlation between the maps of the trained model and of models with
# more and more layers randomised (a clone: ``model`` is untouched).  Passing
# means the correlation ends below the threshold.
methods = ["saliency", "gradcam", "guided_backprop"]
checks = {m: sanity_check(model, images, m, head=0, seed=0) for m in methods}
for method, check in checks.items():
    print(f"{method:16} final correlation {check.final_correlation:+.2f}  "
          f"{'passed' if check.passed else 'FAILED'}")

# %%
# The correlation as layers are randomised, output side first.
fig_sanity = Figure(figsize=(6, 3.5), layout="constrained")
ax = fig_sanity.subplots()
for method, check in checks.items():
    ax.plot(range(1, len(check.correlations) + 1), check.correlations, marker="o",
            label=method)
layers = next(iter(checks.values())).layers
ax.set_xticks(range(1, len(layers) + 1), layers, rotation=45, ha="right")
ax.axhline(next(iter(checks.values())).threshold, color="grey", ls=":")
ax.set_ylabel("Spearman correlation")
ax.set_xlabel("randomised down to layer")
ax.legend()

# %%
# Deletion and insertion
# ----------------------
# One method in detail: the curves of the predicted digit's probability.
grad = faithfulness(model, images, "gradcam", head=0, steps=STEPS)
rand = faithfulness(model, images, "random", head=0, steps=STEPS)
fig_curves = Figure(figsize=(8, 3.2), layout="constrained")
axes = fig_curves.subplots(1, 2)
for r in (grad, rand):
    axes[0].plot(r.fractions, r.deletion, label=f"{r.method} (AUC {r.deletion_auc:.2f})")
    axes[1].plot(r.fractions, r.insertion, label=f"{r.method} (AUC {r.insertion_auc:.2f})")
for ax, title in zip(axes, ("deletion (lower is better)", "insertion (higher is better)")):
    ax.set_title(title)
    ax.set_xlabel("fraction of pixels")
    ax.legend()
axes[0].set_ylabel("probability of the digit")

# %%
# The table
# ---------
# Every attribution method against the random reference; ``ins-del`` sums both
# up (higher is better).
table = faithfulness_table(model, images, head=0, steps=STEPS)
print(table)
print("best:", table.best())
print(np.round([r.score for r in table.results], 3))
