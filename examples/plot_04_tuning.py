"""
Tuning the architecture
=======================

The study searched the number of convolution filters and dense units with
keras-tuner.  :func:`multidigit.tune` runs the same kind of search with
``"random"`` search, ``"hyperband"`` or ``"bayesian"`` optimisation, scores every
trial on the validation split (whose label combinations never appear in training)
or by grouped k-fold cross-validation, and never touches the test split.

See :doc:`/tuning` for the tuners, the search spaces and distributed searches.

This page searches at the budget of ``multidigit study``: 3 random trials of
2 epochs each around the default model (the ``"shared"`` space) on the mini dataset;
the study's own search (``"study"`` space, hyperband, 20-epoch trials) takes hours on
a CPU.

.. note::
   ``MULTIDIGIT_FAST=1`` runs 3 random trials of 1 epoch in the ``"tiny"`` space at
   28x28.
"""

# %%
# Settings
# --------
import os
import tempfile

from rich.console import Console

import multidigit as md

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")

if FAST:
    ds = md.load_dataset("mini", images_per_class=1, image_size=(28, 28), seed=0)
    settings = dict(search_space="tiny", tuner="random", max_trials=3, epochs=1)
else:
    ds = md.load_dataset("mini", seed=0)  # native 84x84, 10 images per combination
    settings = dict(search_space="shared", tuner="random", max_trials=3, epochs=2)

# %%
# The search space
# ----------------
# Search spaces are plain dicts: one entry per hyperparameter.  ``"shared"`` (the
# default) varies the default model's widths, dropout and learning rate;
# ``"study"`` is the original study's space; ``"tiny"`` is for quick runs.  You can
# pass your own dict.  Every trial trains with batches of 64 images (``train``'s batch).
for name, spec in md.SEARCH_SPACES[settings["search_space"]].items():
    print(f"{name:12} {spec}")

# %%
# Search
# ------
# keras-tuner keeps its project in ``directory/project_name``; a search that is
# interrupted resumes where it stopped (``resume=False`` starts afresh).  The
# objective is the study's validation loss; with one loss for every trial, loss
# values are comparable here.
workdir = tempfile.mkdtemp(prefix="multidigit-tuning-")
result = md.tune(
    ds,
    directory=workdir,
    project_name="example",
    objective="val_loss",
    seed=0,
    resume=False,
    **settings,
)

# %%
# The trials
# ----------
# ``table()`` is a :class:`rich.table.Table`; ``trials`` holds the same rows as plain
# dicts.
Console(width=100).print(result.table(title=f"{result.tuner} search"))
print("best:", result.best_hyperparameters, f"score {result.best_score:.4f}")

# %%
# Score against each hyperparameter
# ---------------------------------
# The best trial is drawn in red.
fig = result.plot()

# %%
# The best model
# --------------
# With ``retrain=True`` (the default) the best configuration is rebuilt and trained
# on the training split only, ready for the final evaluation on the test split
# (next example).  Here we only peek at the validation split.
print(result.best_model_source)
print(md.evaluate(result.best_model, ds.val))

# %%
# keras-tuner's project folder is only needed to resume; remove it.
import shutil

shutil.rmtree(workdir, ignore_errors=True)
