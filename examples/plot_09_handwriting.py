"""
Preparing handwriting the way MNIST did
=======================================

A Triple MNIST model learnt one layout: white digits on black, each an MNIST digit
fitted in a 20x20 box with its centre of mass at the centre of a 28x28 cell, digit *k*
in the *k*-th 28-pixel column.  A number drawn in a browser or photographed on paper is
laid out differently: tall digits, uneven gaps, a thick pen, dark ink on white.

:func:`multidigit.prepare_handwriting` redoes MNIST's own preprocessing on each digit it
finds, and lays them out as the model reads them.  This example builds drawn-style
pictures from the ``mini`` dataset's *test* digits and shows them before and after.
"""

# %%
# Drawn-style pictures
# --------------------
# :func:`multidigit.make_condition_images` composes pictures of MNIST test digits
# under a condition.  ``"drawn"`` draws them as on the demo's 336-pixel canvas: digits
# 50-80 % of the height, uneven gaps, a round pen; then reduced to 84x84.
import os

import numpy as np

import multidigit as md

FAST = os.environ.get("MULTIDIGIT_FAST", "0").lower() not in ("", "0", "false", "no")

drawn, labels, _ = md.make_condition_images("drawn", 4, seed=0)
print("labels:", ["".join(map(str, row)) for row in labels])

# %%
# Before and after
# ----------------
# ``prep.plot()`` shows where each digit was found (boxes, numbered left to right) and
# the prepared picture, one digit per 28-pixel cell, vertically centred.
prep = md.prepare_handwriting(drawn[0], n_digits=3)
print(prep.boxes, "stroke widths before (28x28 px):", prep.stroke_widths)
fig_drawn = prep.plot()

# %%
# Dark ink on white paper, thick pen, any size
# --------------------------------------------
# A scan or photo: dark digits on light paper, here three times larger and drawn with
# a thick pen.  The border is light, so the picture is inverted; the strokes are
# redrawn along their middle line close to MNIST's width (about 3 pixels of 28).
from scipy import ndimage  # noqa: E402

big = np.kron(drawn[1].astype(np.float32) / 255, np.ones((3, 3), np.float32))
paper = 1.0 - ndimage.grey_dilation(big, size=(11, 11))
prep_paper = md.prepare_handwriting(paper, 3)
print("inverted:", prep_paper.inverted, "stroke widths:", prep_paper.stroke_widths)
fig_paper = prep_paper.plot()

# %%
# Each digit, normalised
# ----------------------
# ``digit_images`` holds each digit as MNIST made its digits: the longer side 20
# pixels, the aspect ratio kept, the centre of mass at the centre of 28x28.
from matplotlib.figure import Figure  # noqa: E402

fig_digits = Figure(figsize=(6, 2.2), layout="constrained")
for k, (ax, d) in enumerate(zip(fig_digits.subplots(1, 3), prep.digit_images)):
    ax.imshow(d, cmap="gray")
    cy, cx = ndimage.center_of_mass(d)
    ax.plot(cx, cy, "+", color="tab:orange", ms=12)
    ax.set_title(f"digit {k}: mass centre\n({cy:.1f}, {cx:.1f})", fontsize=8)
    ax.set_axis_off()

# %%
# When the count is wrong, it says so
# -----------------------------------
# Two digits for a three-digit model: no made-up third digit, a
# :class:`~multidigit.DigitCountError` that says how many it found and carries the
# boxes (the demo shows them).
two = drawn[2].copy()
two[:, 50:] = 0  # rub out the last digit
try:
    md.prepare_handwriting(two, 3)
except md.DigitCountError as err:
    print(err)
    fig_error = err.plot()

# %%
# Reading them
# ------------
# ``md.predict(model, pictures, prepare=True)`` runs the preparation on each picture
# first.  A barely trained model in fast mode, the gallery's final model otherwise,
# is measured on many such pictures in :doc:`plot_10_robustness`.
model = md.build_model(preset="small", input_shape=(84, 84, 1), seed=0)
print(md.predict(model, list(drawn[:2]), prepare=True).labels, "(an untrained model)")
