"""The demo's preprocessing (no Gradio needed): canvas, files, model fit."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.demo.inputs import (
    canvas_to_grey,
    display_image,
    file_to_grey,
    light_background,
    model_fit_problem,
    model_input_size,
    to_model_input,
)
from multidigit.errors import DataError


def test_transparent_canvas_pixels_count_as_black():
    rgba = np.zeros((30, 30, 4), np.uint8)
    rgba[..., :3] = 255                       # white RGB everywhere...
    rgba[10:20, 5:8, 3] = 255                 # ...but only a stroke is opaque
    grey = canvas_to_grey({"composite": rgba, "background": None, "layers": []})
    assert grey.max() == 255 and grey[0, 0] == 0 and grey[15, 6] == 255
    assert canvas_to_grey(rgba[..., :3] * 0) is None  # all black: empty
    assert canvas_to_grey({"composite": None, "background": None}) is None


def test_model_input_matches_load_dataset_bytes(tmp_path):
    from PIL import Image

    big = md.load_dataset("mini", images_per_class=1).test.images[:3, ..., 0]
    small = md.load_dataset("mini", images_per_class=1, image_size=(28, 28)).test.images
    for i in range(3):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.rint(big[i] * 255).astype(np.uint8)).save(path)
        np.testing.assert_array_equal(to_model_input(file_to_grey(path), (28, 28)),
                                      small[i, ..., 0])


def test_unreadable_file_names_itself(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(DataError, match="cannot read 'notes.txt' as an image"):
        file_to_grey(bad)


def test_display_image_enlarges_by_whole_pixels():
    x = np.array([[0.0, 1.0]], np.float32)
    img = display_image(x, min_side=4)
    assert img.shape == (4, 8) and img[:, :4].max() == 0 and img[:, 4:].min() == 255
    assert light_background(np.ones((4, 4))) and not light_background(np.zeros((4, 4)))


def test_model_fit_problems_are_named():
    import keras

    good = md.build_model(preset="small", input_shape=(28, 84, 1), seed=0)
    assert model_fit_problem(good) == "" and model_input_size(good) == (28, 84)
    x = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(x)
    eleven = keras.Model(x, {f"digit_{i}": keras.layers.Dense(11, name=f"digit_{i}")(flat)
                             for i in range(3)})
    assert "have [11, 11, 11] classes" in model_fit_problem(eleven)
    extra = keras.Input((3,))
    both = keras.layers.Concatenate()([flat, extra])  # older Keras refuses unused inputs
    two = keras.Model([x, extra], keras.layers.Dense(10, name="digit_0")(both))
    assert "2 inputs" in model_fit_problem(two)


def test_huge_upload_is_reduced_first(tmp_path):
    from PIL import Image

    from multidigit.demo.inputs import MAX_SIDE

    path = tmp_path / "photo.png"
    Image.new("L", (3 * MAX_SIDE + 5, 40), 255).save(path)
    grey = file_to_grey(path)
    assert max(grey.shape) <= MAX_SIDE and grey.min() == 255
    assert to_model_input(grey, (28, 84)).shape == (28, 84)
