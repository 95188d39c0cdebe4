"""
The Triple MNIST dataset
========================

Load the offline dataset, check that its splits are leak-free, and look at a few
images of each split.

Every image shows three handwritten digits side by side; its label is the string
they spell (``"042"``).  The 1000 label combinations are split 640 / 160 / 200
between train, validation and test, so the test split only holds combinations the
model never saw.  See :doc:`/how_it_works` for the recipe.

.. note::
   Set ``MULTIDIGIT_FAST=1`` for a quick run (1 image per combination).
"""

# %%
# Settings
# --------
# ``FAST`` mode (``MULTIDIGIT_FAST=1``) keeps every example quick; the normal mode
# uses the whole mini dataset.
import os

import matplotlib.pyplot as plt
import numpy as np

import multidigit as md

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")
# The default mini dataset holds 10 images per label combination.
IMAGES_PER_CLASS = 1 if FAST else 10

# %%
# Load the data
# -------------
# ``"mini"`` is generated offline from 5,000 real MNIST digits; nothing is
# downloaded.  The images keep the native 84x84 canvas, as in every other example:
# the default model cuts a window around each digit itself.
ds = md.load_dataset("mini", images_per_class=IMAGES_PER_CLASS, seed=0)
print(ds)

# %%
# ``describe()`` returns a plain dict.  ``labels_shared_with_train`` counts the label
# combinations a split shares with the training split: 0 for both validation and
# test, so no combination leaks.
summary = ds.describe()
print(f"{'split':6} {'images':>7} {'labels':>7} {'shared':>7}")
for name, s in summary["splits"].items():
    print(f"{name:6} {s['images']:7d} {s['labels']:7d} {s['labels_shared_with_train']:7d}")

# %%
# Labels come as integers per position, as strings, and as per-head one-hot targets
# for the model's three outputs ``digit_0``, ``digit_1`` and ``digit_2``.
print(ds.train.labels[:3])
print(ds.train.label_strings[:3])
print({k: v.shape for k, v in ds.train.one_hot().items()})

# %%
# Sample images per split
# -----------------------
# Digit *i* sits at ``x = 28 * i`` with a random vertical offset.
rng = np.random.default_rng(0)
fig, axes = plt.subplots(3, 5, figsize=(9, 5.8))
for row, (name, split) in zip(axes, ds.splits.items()):
    for ax, i in zip(row, rng.choice(len(split), size=len(row), replace=False)):
        ax.imshow(split.images[i, :, :, 0], cmap="gray_r")
        ax.set_title(f"{name}: {split.label_strings[i]}", fontsize=9)
        ax.set_xticks([0, 28, 56, 84] if split.image_shape[0] == 84 else [])
        ax.set_yticks([])
fig.suptitle("Three random images from each split")
fig.tight_layout()

# %%
# The study's 28x28 input
# -----------------------
# The original study shrank the images to 28x28 (``image_size=(28, 28)``) to train
# faster.  The digits are then about 9 pixels wide: still readable.  The default
# model reads the 84x84 images: each digit at full resolution, in a 28x28 window
# centred on it.
small = md.load_dataset("mini", images_per_class=IMAGES_PER_CLASS, image_size=(28, 28), seed=0)
fig, axes = plt.subplots(1, 2, figsize=(6, 3.2))
for ax, d, title in zip(axes, (ds, small), ("84x84", "28x28")):
    ax.imshow(d.test.images[0, :, :, 0], cmap="gray_r")
    ax.set_title(f"{title}: {d.test.label_strings[0]}")
    ax.axis("off")
fig.tight_layout()

# %%
# How often does each digit appear at each position?  Every digit appears about
# equally often everywhere, in every split, so a per-position classifier has no
# shortcut to learn.
fig, ax = plt.subplots(figsize=(7, 3.2))
width = 0.27
for k, (name, split) in enumerate(ds.splits.items()):
    counts = np.stack([np.bincount(split.labels[:, p], minlength=10) for p in range(3)])
    freq = counts.sum(0) / counts.sum()
    ax.bar(np.arange(10) + (k - 1) * width, freq, width, label=name)
ax.set_xticks(range(10))
ax.set_xlabel("digit")
ax.set_ylabel("fraction of digits")
ax.legend()
fig.tight_layout()
plt.show()
