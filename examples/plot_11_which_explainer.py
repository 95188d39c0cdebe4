"""
Which explainer can I trust?
============================

Triple MNIST knows where every digit is, so it can test an explainer the way few
data sets can: the map explaining head ``k`` should light up digit ``k``.
:func:`multidigit.explanation.metrics.trust.trust_table` puts four questions side by side for every
attribution method:

* **localisation**: does the map of head ``k`` peak in digit ``k``'s box (pointing
  game), and how much of its mass lies there (mass in box)?  The boxes come with the
  data (``Split.boxes``, see :mod:`multidigit.data.boxes`);
* **faithfulness**: deleting the pixels the map ranks first should make the digit's
  probability fall fast (low deletion AUC); inserting them first should make it rise
  fast (high insertion AUC);
* **sanity**: with every weight of the model randomised, a map that explains the
  *model* must change (low Spearman correlation with the original map);
* **cost**: milliseconds per map.

The full table, for the default and the ``tuned`` models on more images, is in
``benchmarks/README.md`` (``benchmarks/bench_trust.py``); here a small one on the
gallery's final model.

.. note::
   ``MULTIDIGIT_FAST=1`` uses a barely trained model (3 epochs on a tiny set at
   28x28) and 4 images: the numbers illustrate the API, not the methods' merits.
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
from matplotlib.patches import Rectangle

import multidigit as md
from multidigit.explanation.metrics.trust import DESCRIPTIONS, trust_table, verdict

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
N_IMAGES, STEPS = (4, 4) if FAST else (8, 10)


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
# The ground truth
# ----------------
# Every split carries one box per digit, ``(top, left, bottom, right)``: the
# generator records where it pasted each digit's ink (for a loaded folder the boxes
# are estimated from the ink, the same way).
test = ds.test
fig_boxes = Figure(figsize=(8, 2.4), layout="constrained")
for ax, image, boxes, label in zip(fig_boxes.subplots(1, 4), test.images, test.boxes,
                                   test.label_strings):
    ax.imshow(image[..., 0], cmap="gray")
    for k, (top, left, bottom, right) in enumerate(boxes):
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                               fill=False, color=f"C{k}", lw=1.5))
    ax.set_title(label)
    ax.axis("off")

# %%
# The trust table
# ---------------
# A handful of methods (the full table has them all) on the first test images,
# explaining the true digits on every head.  On the default model each CAM is
# scored twice: restricted to the window its head reads (the default) and on the
# whole image.  A map spread evenly over the image would score the boxes' share of
# the image on "mass in box", printed below.
METHODS = ["saliency", "gradcam", "gradcam++", "layercam", "guided_backprop",
           "integrated_gradients", "occlusion"]
OPTIONS = {"occlusion": {"size": 8, "stride": 8}, "integrated_gradients": {"steps": 16}}
table = trust_table(model, test, METHODS, n_images=N_IMAGES, steps=STEPS, options=OPTIONS)
print(table.to_markdown())
print(f"an even map: mass in box {table.box_share:.2f}")

# %%
# Verdicts
# --------
# What each method shows, and how far to trust it on multidigit's models (from the
# full table in ``benchmarks/README.md``).
for name in METHODS:
    print(f"{name}: {DESCRIPTIONS[name]}\n    -> {verdict(name)}")

# %%
# Where the CAM channel weighting fails
# -------------------------------------
# Grad-CAM and its family give each channel of the last convolution layer *one*
# weight and add the channels up.  The default model reads the three digits with
# the same convolutions and the same classifier (one window per digit), so a channel
# that matters for the middle digit also fires on the other two: weighted as a whole,
# it lights up the neighbours.  Below, head 1 (the middle digit) with Grad-CAM++ on
# the whole image, then restricted to the window head 1 reads (the default on
# windowed models, ``restrict_to_head=True``), then saliency for reference.
# The box is the middle digit's.
x = test.images[:2]
head = 1
rows = [("gradcam++, whole image", md.explain(model, x, "gradcam++", head=head,
                                              restrict_to_head=False).maps),
        ("gradcam++, head's window", md.explain(model, x, "gradcam++", head=head,
                                                restrict_to_head=True).maps),
        ("saliency", md.explain(model, x, "saliency", head=head).maps)]
fig_cam = Figure(figsize=(8, 5.4), layout="constrained")
axes = fig_cam.subplots(len(x), len(rows))
for i in range(len(x)):
    top, left, bottom, right = test.boxes[i, head]
    for j, (title, maps) in enumerate(rows):
        ax = axes[i, j]
        ax.imshow(x[i, ..., 0], cmap="gray")
        ax.imshow(maps[i], cmap="jet", alpha=0.5)
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                               fill=False, color="white", lw=1.5))
        share = md.explanation.metrics.localisation.relevance_mass(maps[i:i + 1], test.boxes[i:i + 1, head])[0]
        ax.set_title(f"{title}\nmass in box {share:.2f}", fontsize=9)
        ax.axis("off")

# %%
# Restricting the map does not make the channel weights right: it keeps the part
# of the map that head 1 can see at all (outside its window the head reads nothing,
# so anything shown there is the channels' activity on other digits).  Inside the
# window the map still shows where the shared channels fire; Layer-CAM, which weights
# every *position* by its own gradient, needs no such help.

# %%
# Where the randomisation check fails
# -----------------------------------
# The same image, head 1, explained by the trained model (top) and by a copy whose
# every weight is random (bottom).  Saliency changes completely: it explains the
# model.  Integrated Gradients with its black baseline and guided backprop hardly
# change: IG multiplies by the image, so it is zero wherever the image is black and
# the map is mostly the ink; guided backprop's ReLU rule passes back what the strokes
# excite in any network.  Both still say *which* strokes count for this model, but a
# map that looks like this for a random network proves nothing about learning.
import keras

from multidigit.explanation.metrics.checks import randomize_weights

random_model = keras.models.clone_model(model)
random_model.set_weights(model.get_weights())
randomize_weights(random_model, [layer.name for layer in random_model.layers
                                 if layer.weights], seed=0)
SANITY = ["saliency", "integrated_gradients", "guided_backprop"]
target = test.labels[:1, head]
fig_sanity = Figure(figsize=(8, 5.4), layout="constrained")
axes = fig_sanity.subplots(2, len(SANITY))
for row, (who, net) in enumerate([("trained", model), ("random weights", random_model)]):
    for j, name in enumerate(SANITY):
        maps = md.explain(net, test.images[:1], name, head=head, target=target).maps
        axes[row, j].imshow(maps[0], cmap="jet")
        axes[row, j].set_title(f"{name}\n{who}", fontsize=9)
        axes[row, j].axis("off")
