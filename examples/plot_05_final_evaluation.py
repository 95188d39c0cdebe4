"""
Final model and one honest test
===============================

Model selection is over: train the chosen model (softmax heads, categorical
cross-entropy, the ``fast`` architecture: three small conv blocks and a max over
the image height, so a digit is read at any vertical offset) on **all** the training data, the train
and validation splits together, then evaluate it **once** on the test split,
whose label combinations it has never seen.  Finally save it, load it back and read
a few numbers.

.. note::
   ``MULTIDIGIT_FAST=1`` trains the ``"fast"`` preset for 3 epochs on a tiny set.
"""

# %%
# Settings
# --------
import os
import tempfile

import numpy as np

import multidigit as md
from multidigit.plots import plot_confusion_matrices, plot_learning_curves, plot_samples

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")

if FAST:
    ds = md.load_dataset("mini", images_per_class=2, image_size=(28, 28), seed=0)
    PRESET, EPOCHS = "fast", 3
else:
    ds = md.load_dataset("mini", images_per_class=10, image_size=(28, 28), seed=0)
    PRESET, EPOCHS = "fast", 12

# %%
# All the training data
# ---------------------
# The validation split was for choosing; now it is more training data.  Its label
# combinations are disjoint from the test split's, like the training split's.
full = md.Split(
    np.concatenate([ds.train.images, ds.val.images]),
    np.concatenate([ds.train.labels, ds.val.labels]),
    name="train+val",
)
print(full)

# %%
# Train
# -----
# No validation split is left, so no early stopping: a fixed number of epochs,
# chosen during cross-validation and tuning.
model = md.build_model(
    "softmax", "categorical_crossentropy", input_shape=ds.image_shape, preset=PRESET, seed=0
)
history = md.train(model, full, validation=None, epochs=EPOCHS, seed=0)
print(history)
fig_curves = plot_learning_curves(history, title="Final training run")

# %%
# One evaluation on the test split
# --------------------------------
# Per-digit accuracy, whole-number accuracy (all three digits right) and the
# Hamming loss.
result = md.evaluate(model, ds.test)
print(result)

# %%
# Classification report
# ---------------------
# Precision, recall and F1 of every digit at every position (scikit-learn's
# ``classification_report``, as plain dicts).
heads = [f"digit_{i}" for i in range(len(result.reports))]
print("F1 score per digit and position")
print("digit " + " ".join(f"{h:>8}" for h in heads))
for digit in map(str, range(10)):
    print(f"{digit:>5} " + " ".join(f"{r[digit]['f1-score']:8.3f}" for r in result.reports))
print("macro " + " ".join(f"{r['macro avg']['f1-score']:8.3f}" for r in result.reports))

# %%
# Confusion matrices
# ------------------
# One per position: rows are the true digits, columns the predicted ones.
fig_confusion = plot_confusion_matrices(result, normalize=True)

# %%
# Save, load, predict
# -------------------
# Models are saved in Keras' native ``.keras`` format and loaded in safe mode.
path = os.path.join(tempfile.mkdtemp(), "multidigit.keras")
md.save_model(model, path)
restored = md.load_model(path)

prediction = md.predict(restored, ds.test)
print("read:", prediction.labels[:8])
print("true:", ds.test.label_strings[:8].tolist())
same = np.allclose(prediction.probabilities, md.predict(model, ds.test).probabilities, atol=1e-6)
print("restored model predicts the same:", same)

# %%
# Test images with what the model read (``true -> read``, red when wrong).
fig_samples = plot_samples(ds.test, n=16, predictions=prediction, seed=0)
