"""
Writing your own explainer
==========================

An explainer is a small class with a ``name`` and one method,
``explain(model, images, targets, head_index, **options)``, that returns one map per
image.  Register it with :func:`multidigit.register_explainer` and every tool works
with it: :func:`multidigit.explain`, ``.plot()``, the sanity check and the
faithfulness metrics.  :func:`multidigit.explanation.testing.check_explainer` checks that it
honours the contract.

Here we write **gradient x input**, a classic attribution method: the saliency
gradient multiplied by the pixel values, so that only pixels with ink can matter.
See :doc:`/writing_plugins` to ship an explainer as a pip-installable plugin.

It explains the gallery's final model (trained, or loaded from the cache that
:doc:`plot_05_final_evaluation` fills).

.. note::
   ``MULTIDIGIT_FAST=1`` trains the model for 3 epochs on a tiny set at 28x28.
"""

# %%
# The explainer
# -------------
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

import multidigit as md
from multidigit.explanation.metrics.checks import faithfulness
from multidigit.explanation.testing import check_explainer

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")


# ``override=True`` only so that running this script twice in one session (a
# notebook) does not complain that the name is taken.
@md.register_explainer("gradient_x_input", override=True)
class GradientXInput(md.Explainer):
    """Gradient of the target digit's probability times the input pixels."""

    def explain(self, model, images, targets, head_index, **options):
        # Contract: images (n, H, W, C) float32; targets (n,) digits; head_index the
        # head to explain.  Never modify ``model``; return floats of shape (n, H, W).
        x = tf.convert_to_tensor(images)
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = model(x, training=False)
            head = outputs[f"digit_{head_index}"]
            scores = tf.gather(head, tf.convert_to_tensor(targets), batch_dims=1)
        grads = tape.gradient(scores, x)
        return tf.reduce_sum(grads * x, axis=-1).numpy().astype(np.float32)


print(md.list_explainers())

# %%
# Check the contract
# ------------------
# ``check_explainer`` builds a tiny untrained 2-head model of its own and checks
# shapes, finiteness, determinism, batch independence, and that the model is left
# unchanged.  It raises an ``AssertionError`` naming the broken rule, so it also
# fits in a test suite (``def test_my_explainer(): check_explainer(MyExplainer)``).
check_explainer(GradientXInput)
print("check_explainer: passed")

# %%
# Use it
# ------
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

explanation = md.explain(model, ds.test.images[:4], "gradient_x_input", head="all")
print(explanation.maps.shape)
fig = explanation.plot(cmap="bwr")

# %%
# Measure it
# ----------
# The faithfulness metrics take any registered name: compare with plain saliency.
for method in ("gradient_x_input", "saliency", "random"):
    r = faithfulness(model, ds.test.images[:8], method, head=0, steps=10)
    print(f"{method:17} deletion {r.deletion_auc:.3f}  insertion {r.insertion_auc:.3f}")

# %%
# Ship it as a plugin
# -------------------
# Put the class in a package and advertise it in that package's ``pyproject.toml``;
# ``multidigit`` finds it when an explainer is first looked up, no import needed::
#
#     [project.entry-points."multidigit.explainers"]
#     gradient_x_input = "my_package:GradientXInput"
#
# ``examples/occlusion_plugin`` in the repository is a complete plugin of this kind
# (occlusion sensitivity): ``pip install ./examples/occlusion_plugin`` registers it as
# ``plugin_occlusion``; its name differs from the built-in ``occlusion`` explainer's,
# since a plugin cannot take a built-in's name.
