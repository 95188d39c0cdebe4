"""
What does the network look at?
==============================

:func:`multidigit.explain` runs any registered explainer on a batch of images and
on one head or all three heads, and returns an :class:`~multidigit.Explanation`:
plain arrays plus a ``.plot()``.  This example takes the final model of the
gallery (trained, or loaded from the cache), then shows every built-in method:

* attribution maps per head: ``saliency`` (and SmoothGrad), ``gradcam``,
  ``gradcam++`` and ``guided_backprop``; ``scorecam``, ``layercam`` and
  ``activation_maximization`` through tf-keras-vis;
* what the layers compute: ``filters``, ``feature_maps`` and ``deepdream``.

A well-trained head should look at *its own* digit: ``digit_0`` at the left third
of the image, ``digit_2`` at the right third.

.. note::
   ``MULTIDIGIT_FAST=1`` trains the model for 3 epochs on a tiny set at 28x28: it
   has barely learned, so its maps are rough.
"""

# %%
# A trained model
# ---------------
# The final model of :doc:`plot_05_final_evaluation`, loaded from the cache that
# example fills (or trained here when the cache is empty).  Its test accuracy is
# printed below.
import os
from pathlib import Path

import numpy as np

import multidigit as md
from multidigit.plots import plot_feature_maps, plot_filters

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
print(md.evaluate(model, ds.test))
images = ds.test.images[:4]
print("available explainers:", md.list_explainers())

# %%
# Saliency
# --------
# The gradient of the predicted digit's score with respect to each pixel, for each
# of the three heads (columns).  Each title shows the head and the digit explained.
fig_saliency = md.explain(model, images, "saliency", head="all").plot()

# %%
# SmoothGrad averages the saliency of noisy copies of the image: less speckle.
fig_smooth = md.explain(model, images, "saliency", head="all", smooth=8 if FAST else 32).plot()

# %%
# Grad-CAM
# --------
# Where the last convolution layer's features matter for the digit: coarse but
# robust.  ``layer=`` picks another convolution.
gradcam = md.explain(model, images, "gradcam", head="all")
print(gradcam.maps.shape, "= (images, heads, H, W)")
fig_gradcam = gradcam.plot()

# %%
# Grad-CAM++ weighs the feature maps differently, which helps when a digit appears
# several times.
fig_gradcampp = md.explain(model, images, "gradcam++", head="all").plot()

# %%
# Guided backpropagation
# ----------------------
# Only positive gradients through positive activations: sharp, edge-like maps.
# Explain one head by name, and a chosen digit rather than the predicted one with
# ``target=`` (here the true digits).
guided = md.explain(model, images, "guided_backprop", head="digit_1",
                    target=ds.test.labels[:4])
fig_guided = guided.plot()

# %%
# Score-CAM, Layer-CAM and activation maximisation
# ------------------------------------------------
# Three methods run by tf-keras-vis, one head at a time.  Score-CAM needs no
# gradient: each feature map of the last convolution masks the image and the head's
# score on the masked image weighs it (``max_n`` keeps the most active maps).
fig_scorecam = md.explain(model, images[:2], "scorecam", head="all", max_n=16).plot()

# %%
# Layer-CAM weighs every *position* of a layer by its positive gradient, so an early
# layer gives a finer map than Grad-CAM.
fig_layercam = md.explain(model, images[:2], "layercam", head="all", layer="conv_1").plot()

# %%
# Activation maximisation changes each image step by step to raise the head's score
# for the explained digit: what the head would like to see there.
am = md.explain(model, images[:2], "activation_maximization", head="digit_0",
                steps=5 if FAST else 30)
fig_am = am.plot(alpha=0.8, cmap="gray")

# %%
# In Jupyter, an :class:`~multidigit.Explanation` shows itself as a small table
# (method, shape, heads, targets, options) with the figure inline.
html = am._repr_html_()
print(len(html), "characters of HTML")

# %%
# First-layer filters
# -------------------
# The 3x3 kernels of ``conv_1``: a model-level explanation, the same for every
# image.
fig_filters = plot_filters(model, "conv_1")

# %%
# Feature maps
# ------------
# What ``conv_1`` computes on one image: one panel per filter.
fig_maps = plot_feature_maps(model, images[0], "conv_1")

# %%
# The same through :func:`~multidigit.explain`, which returns the arrays.
features = md.explain(model, images[:2], "feature_maps", layer="conv_2")
print(features.maps.shape, "= (images, channels, h, w)")
fig_features = features.plot(max_channels=6)

# %%
# DeepDream
# ---------
# Gradient ascent on the image to excite the last convolution layer: the patterns
# the layer responds to grow out of the digits.
dream = md.explain(model, images[:2], "deepdream", octaves=2, steps=5 if FAST else 20)
fig_dream = dream.plot()
