"""
Cross-validation without leaks
==============================

The study estimated its models with scikit-learn's plain ``KFold`` over images.
Images of the same label combination (say ``"042"``) then sit in both the training
and the validation folds: validation measures combinations the model has already
seen, while the real test split holds only *unseen* combinations.

:func:`multidigit.make_folds` groups the folds by label combination instead, and
:func:`multidigit.cross_validate` trains a fresh model per fold.  This example
counts the leak, runs both kinds of cross-validation, and plots learning curves.

The default model is cross-validated with 3 folds of 3 epochs (a little more than
``multidigit study``'s 2 folds of 2 epochs), on half of the mini dataset (5 images
per combination) so that both cross-validations stay short.

.. note::
   ``MULTIDIGIT_FAST=1`` uses 2 images per combination at 28x28, 2 folds and 2 epochs.
"""

# %%
# Settings
# --------
import os

import numpy as np

import multidigit as md
from multidigit.plots import plot_learning_curves

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")

if FAST:
    # 2 images per combination: the smallest set where a plain KFold can leak.
    ds = md.load_dataset("mini", images_per_class=2, image_size=(28, 28), seed=0)
    K, EPOCHS = 2, 2
else:
    ds = md.load_dataset("mini", images_per_class=5, seed=0)
    K, EPOCHS = 3, 3
# The default model (preset "shared") with softmax heads and categorical
# cross-entropy; cross_validate() trains it with train()'s one-cycle schedule, at
# batch 64 (short runs need the steps).
MODEL = {"loss": "categorical_crossentropy"}
train = ds.train
print(train)

# %%
# Count the leak
# --------------
# For each validation fold, the fraction of its images whose label combination
# also appears in that fold's training images.  No model is trained here.
labels = train.label_strings
for grouped in (False, True):
    shared = []
    for train_idx, val_idx in md.make_folds(train, k=K, grouped=grouped, seed=0):
        seen = set(labels[train_idx])
        shared.append(np.mean([label in seen for label in labels[val_idx]]))
    kind = "grouped (multidigit)" if grouped else "plain KFold (study)"
    print(f"{kind:22} validation images with a combination seen in training: "
          f"{100 * np.mean(shared):5.1f} %")

# %%
# Cross-validate, grouped
# -----------------------
# One fresh model per fold, same seeds.  The result holds per-fold scores and the
# training histories.
cv = md.cross_validate(ds, k=K, epochs=EPOCHS, batch_size=64, model_params=MODEL,
                       grouped=True, seed=0)
for fold in cv.folds:
    print(f"fold {fold['fold']}: {fold['n_train']} train / {fold['n_val']} val images, "
          f"digit accuracy {100 * fold['mean_digit_accuracy']:.1f} %, "
          f"whole-number accuracy {100 * fold['whole_accuracy']:.1f} %")

# %%
# ``summary()`` gives the mean and standard deviation of every metric over the folds.
for metric, s in cv.summary().items():
    print(f"{metric:20} {s['mean']:.4f} +/- {s['std']:.4f}")

# %%
# Learning curves
# ---------------
# Training (solid) and validation (dashed) loss and per-head accuracy of every fold.
# A validation curve that stalls while the training curve keeps improving is
# overfitting.
fig = plot_learning_curves(cv.histories, title=f"Grouped {K}-fold cross-validation")

# %%
# The study's leaky estimate
# --------------------------
# Same folds count, same seeds, but plain ``KFold``.  With enough images per
# combination the leaky estimate is higher: it rewards recognising combinations
# seen in training, which the test split never contains.
leaky = md.cross_validate(ds, k=K, epochs=EPOCHS, batch_size=64, model_params=MODEL,
                          grouped=False, seed=0)
for name, result in (("grouped", cv), ("plain KFold", leaky)):
    s = result.scores("mean_digit_accuracy")
    print(f"{name:12} digit accuracy {100 * s.mean():5.1f} % +/- {100 * s.std(ddof=1):4.1f}")
