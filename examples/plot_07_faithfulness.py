"""
Can we trust the maps?
======================

An attribution map can look convincing and still say nothing about the model.
Two checks from the literature, in :mod:`multidigit.explainers`:

* the **sanity check** (Adebayo et al., 2018): randomise the model's weights, layer
  by layer from the output down.  A method that explains the *model* must then
  produce different maps; one that mostly shows the image (an edge detector) does
  not;
* **deletion / insertion** (Petsiuk et al., 2018): remove the pixels a map calls
  most important first; the predicted digit's probability should drop fast
  (low deletion area).  Insert them into a blank image first; it should rise fast
  (high insertion area).  A random ranking is the baseline to beat.

.. note::
   ``MULTIDIGIT_FAST=1`` uses a barely trained tiny model and 8 images: the
   numbers illustrate the API, not the methods' merits.
"""

# %%
# A trained model
# ---------------
import os

import numpy as np
from matplotlib.figure import Figure

import multidigit as md
from multidigit.explainers import faithfulness, faithfulness_table, sanity_check

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")

if FAST:
    ds = md.load_dataset("mini", images_per_class=2, image_size=(28, 28), seed=0)
    PRESET, EPOCHS, N_IMAGES, STEPS = "fast", 3, 8, 10
else:
    ds = md.load_dataset("mini", images_per_class=10, image_size=(28, 28), seed=0)
    PRESET, EPOCHS, N_IMAGES, STEPS = "fast", 12, 100, 20

model = md.build_model(
    "softmax", "categorical_crossentropy", input_shape=ds.image_shape, preset=PRESET, seed=0
)
md.train(model, ds, epochs=EPOCHS, seed=0)
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
