"""prepare_handwriting: any picture in, MNIST-normalised digits out, or a clear refusal."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

import multidigit as md
from multidigit.evaluation.conditions import make_condition_images
from multidigit.handwriting._strokes import MNIST_STROKE_WIDTH, stroke_width
from multidigit.handwriting.prepare import (
    THICK,
    DigitCountError,
    prepare_batch,
    prepare_handwriting,
)


def _page(light: bool = False, scale: int = 1) -> np.ndarray:
    """Three MNIST test digits, far apart and of uneven sizes, on a 120x300 page."""
    from multidigit.handwriting._strokes import resize_float

    images, labels, _ = make_condition_images("control", 1, seed=3)
    digits = [images[0][:, 28 * k:28 * k + 28] for k in range(3)]
    page = np.zeros((120 * scale, 300 * scale), np.float32)
    for d, size, x, y in zip(digits, (100, 60, 80), (5, 125, 210), (5, 40, 20)):
        rows, cols = np.flatnonzero(d.any(1)), np.flatnonzero(d.any(0))
        d = d[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32) / 255
        big = resize_float(d, (size * scale, size * scale * d.shape[1] // d.shape[0]))
        page[y * scale:y * scale + big.shape[0], x * scale:x * scale + big.shape[1]] = big
    page = np.clip(page, 0, 1)
    return (1 - page if light else page), labels[0]


def _cells(x: np.ndarray) -> list[np.ndarray]:
    return [x[:, 28 * k:28 * (k + 1)] for k in range(3)]


def test_digits_are_found_left_to_right_and_centred_like_mnist():
    page, _ = _page()
    prep = prepare_handwriting(page, 3)
    assert prep.image.shape == (84, 84) and prep.image.dtype == np.float32
    lefts = [b[0] for b in prep.boxes]
    assert lefts == sorted(lefts) and len(prep.boxes) == 3
    assert [b[0] for b in prep.boxes] == pytest.approx([5, 125, 210], abs=3)
    for cell, digit in zip(_cells(prep.image), prep.digit_images):
        rows, cols = np.flatnonzero(digit.any(1)), np.flatnonzero(digit.any(0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21  # the 20x20 box (+AA)
        cy, cx = ndimage.center_of_mass(digit)
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # MNIST's centre of mass
        assert cell[28:56].sum() == pytest.approx(digit.sum(), rel=0.02)  # centred row
        assert cell[:28].sum() == 0 and cell[56:].sum() == 0


def test_light_paper_colour_and_size_give_the_same_preparation():
    dark, _ = _page()
    ref = prepare_handwriting(dark, 3)
    light, _ = _page(light=True)
    u8_rgb = np.repeat(np.rint(light * 255).astype(np.uint8)[..., None], 3, axis=2)
    got = prepare_handwriting(u8_rgb, 3)
    assert got.inverted and not ref.inverted
    assert np.abs(got.image - ref.image).mean() < 0.01
    big, _ = _page(scale=3)  # three times the pixels: the same digits
    assert np.abs(prepare_handwriting(big, 3).image - ref.image).mean() < 0.03
    forced = prepare_handwriting(light, 3, invert=True)
    np.testing.assert_allclose(forced.image, got.image, atol=1 / 255)


def test_transparent_strokes_are_laid_on_the_paper():
    page, _ = _page()
    rgba = np.zeros((*page.shape, 4), np.uint8)
    rgba[..., :3] = 255  # white ink where drawn, transparent elsewhere (a sketch layer)
    rgba[..., 3] = np.rint(page * 255).astype(np.uint8)
    prep = prepare_handwriting(rgba, 3)
    assert not prep.inverted
    assert np.abs(prep.image - prepare_handwriting(page, 3).image).mean() < 0.01


def test_thick_pen_is_brought_to_mnist_width():
    page, _ = _page()
    thick = ndimage.grey_dilation(page, size=(17, 17))
    assert stroke_width(thick > 0.3) > 1.5 * stroke_width(page > 0.3)
    prep = prepare_handwriting(thick, 3)
    assert min(prep.stroke_widths) > THICK * MNIST_STROKE_WIDTH  # it was very thick...
    for d, before in zip(prep.digit_images, prep.stroke_widths):  # ...and is now thinner
        from multidigit.handwriting._strokes import resize_float

        big = resize_float(d, (112, 112))  # measured as MNIST's width was (at x4)
        after = stroke_width(big > 0.3 * big.max()) / 4
        assert after < 0.7 * before and after < 2 * MNIST_STROKE_WIDTH


def test_wrong_digit_count_is_refused_with_the_boxes():
    page, _ = _page()
    with pytest.raises(DigitCountError, match="found 3 digits, but the model reads 4") as info:
        prepare_handwriting(page, 4)
    assert info.value.found == 3 and info.value.expected == 4 and len(info.value.boxes) == 3
    assert isinstance(info.value, md.DataError)
    with pytest.raises(DigitCountError, match="found 2 digits"):
        prepare_handwriting(page[:, :190], 3)
    with pytest.raises(DigitCountError, match="found 0 digits.*invert"):
        prepare_handwriting(np.zeros((50, 50)), 3)
    assert info.value.plot().axes  # the split is shown


def test_touching_digits_are_split_only_when_the_count_says_so():
    ink = np.zeros((40, 120), np.float32)
    ink[5:35, 10:14] = 1                  # a 1
    ink[5:35, 14:30] = 0                  # touching a 0 (ring)
    ink[5:8, 14:30] = ink[32:35, 14:30] = 1
    ink[5:35, 27:30] = 1
    ink[5:35, 70:74] = 1                  # another 1 far away
    prep = prepare_handwriting(ink, 3)
    assert [b[0] for b in prep.boxes] == [10, 14, 70]
    with pytest.raises(DigitCountError, match="found 2"):
        prepare_handwriting(ink[:, :60], 3)  # "10" is two digits: not made into three


def test_drawn_style_pictures_come_back_in_order():
    images, labels, _ = make_condition_images("drawn", 12, seed=0)
    model_free_reads = 0
    for img in images:
        prep = prepare_handwriting(img, 3)
        assert [b[0] for b in prep.boxes] == sorted(b[0] for b in prep.boxes)
        model_free_reads += 1
    assert model_free_reads == 12


def test_bad_arguments_are_parameter_errors():
    page, _ = _page()
    for kw in ({"n_digits": 0}, {"invert": "yes"}, {"image_size": (84,)}):
        with pytest.raises(md.ParameterError):
            prepare_handwriting(page, **kw)
    with pytest.raises(md.DataError, match="one picture"):
        prepare_handwriting(np.zeros((2, 3, 4, 5)), 3)
    with pytest.raises(md.DataError, match="NaN"):
        prepare_handwriting(np.full((5, 5), np.nan), 3)


def test_result_dict_html_and_plot():
    page, _ = _page()
    prep = prepare_handwriting(page, 3, image_size=(28, 84))
    assert prep.image.shape == (28, 84)
    d = prep.to_dict()
    assert d["boxes"] == [list(b) for b in prep.boxes] and d["image_shape"] == [28, 84]
    assert "<table>" in prep._repr_html_()
    assert len(prep.plot().axes) == 2


def test_predict_prepare_reads_the_prepared_images():
    model = md.build_model(preset="small", input_shape=(28, 84, 1), seed=0)
    page, _ = _page(light=True)
    got = md.predict(model, [page, page[:, :250]], prepare=True)
    x = prepare_batch([page, page[:, :250]], 3, image_size=(28, 84))
    np.testing.assert_array_equal(got.digits, md.predict(model, x).digits)
    with pytest.raises(DigitCountError, match="image 1: found 2"):
        md.predict(model, [page, page[:, :190]], prepare=True)
    with pytest.raises(md.ParameterError):
        md.predict(model, page, prepare="yes")
