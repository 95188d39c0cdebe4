"""
Final model and one honest test
===============================

Model selection is over: train the chosen model on **all** the training data, the
train and validation splits together, then evaluate it **once** on the test split,
whose label combinations it has never seen.  Finally save it, load it back and read
a few numbers.

The model is the default one (preset ``"shared"``) with softmax heads and
categorical cross-entropy: a 28x28 window cut around each digit, centred on its ink
(so a digit is read at full resolution at any vertical offset), three convolutions,
then one strip per digit, all read by **one** shared classifier.  It reads the
native 84x84 images as they are and trains with :func:`multidigit.train`'s
defaults: batches of 128, a one-cycle learning-rate schedule, 20 epochs on the mini
dataset's 8,000 train + validation images.

The trained model is also saved to a cache that the next examples (explainers,
faithfulness, plugins) load instead of training it again.

.. note::
   ``MULTIDIGIT_FAST=1`` trains for 3 epochs on a tiny set at 28x28.
"""

# %%
# Settings
# --------
import os
import tempfile
from pathlib import Path

import numpy as np

import multidigit as md
from multidigit.plots import plot_confusion_matrices, plot_learning_curves, plot_samples

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")

if FAST:
    IMAGES_PER_CLASS = 2
    ds = md.load_dataset("mini", images_per_class=IMAGES_PER_CLASS, image_size=(28, 28),
                         seed=0)
else:
    IMAGES_PER_CLASS = 10  # the default mini dataset, native 84x84
    ds = md.load_dataset("mini", images_per_class=IMAGES_PER_CLASS, seed=0)

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
# train()'s default number of epochs, written out so the cache below can name it:
# about 2,500 gradient steps, at least 8 and at most 20 epochs.
EPOCHS = 3 if FAST else md.default_epochs(len(full))
print("epochs:", EPOCHS)

# %%
# Train
# -----
# No validation split is left, so no early stopping: a fixed number of epochs.
# Batch size and learning-rate schedule are train()'s defaults.
model = md.build_model("softmax", "categorical_crossentropy", input_shape=ds.image_shape,
                       seed=0)
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


# %%
# Cache it for the next examples
# ------------------------------
# The explainer examples need a trained model: they load this one from
# ``<cache>/gallery/`` (``$MULTIDIGIT_CACHE``, else ``~/.cache/multidigit``) when it
# is there, and train the same model themselves otherwise.  The file name says what
# the model was trained on; a new multidigit version trains afresh.
def final_model_path(ds, images_per_class, epochs):
    """Where the gallery caches the final model trained on ``ds``'s train + val."""
    h, w = ds.image_shape[:2]
    import zlib

    # the default model's architecture is part of the name: a changed preset retrains
    arch = zlib.crc32(repr(md.PRESETS["shared"]).encode())
    key = f"mini-seed0-ipc{images_per_class}-{h}x{w}-e{epochs}-v{md.__version__}-{arch:08x}"
    return Path(md.data.default_cache_dir()) / "gallery" / f"final-{key}.keras"


print("saved to", md.save_model(model, final_model_path(ds, IMAGES_PER_CLASS, EPOCHS)))
