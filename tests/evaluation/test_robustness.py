"""Conditions (test pictures laid out as people write) and evaluate_robustness."""

from __future__ import annotations

import json

import numpy as np
import pytest

import multidigit as md
from multidigit.evaluation.conditions import CONDITIONS, digit_pool, make_condition_images
from multidigit.handwriting.prepare import prepare_handwriting


@pytest.fixture(scope="module")
def tiny_model():
    return md.build_model(preset="small", input_shape=(28, 28, 1), seed=0)


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_condition_composes_deterministic_pictures(condition):
    a, la, _ = make_condition_images(condition, 4, seed=2)
    b, lb, _ = make_condition_images(condition, 4, seed=2)
    c, _, _ = make_condition_images(condition, 4, seed=3)
    assert a.shape == (4, 84, 84) and a.dtype == np.uint8 and la.shape == (4, 3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)
    test_combos = set(md.class_split(3)["test"])
    assert {"".join(map(str, row)) for row in la} <= test_combos
    ink = a if condition != "light_background" else 255 - a
    assert (ink.reshape(4, -1).max(axis=1) > 128).all()  # every picture has ink


def test_conditions_share_labels_and_digits():
    _, l1, _ = make_condition_images("control", 6, seed=0)
    _, l2, _ = make_condition_images("drawn", 6, seed=0)
    np.testing.assert_array_equal(l1, l2)


@pytest.mark.parametrize("amount", [4, 8])
def test_shift_moves_each_digit_by_the_stated_amount(amount):
    control, _, _ = make_condition_images("control", 30, seed=1)
    shifted, _, info = make_condition_images(f"shift_exactly_{amount}", 30, seed=1)
    assert set(np.abs(info["dx"]).ravel().tolist()) == {amount}
    _, _, within = make_condition_images(f"shift_{amount}", 200, seed=1)
    assert np.abs(within["dx"]).max() == amount and np.abs(within["dx"]).min() == 0
    checked = 0
    for i in range(30):
        # the same picture with each digit moved: the control's digits, re-pasted
        rebuilt = np.zeros((84, 84), np.uint8)
        for k in range(3):
            cell = control[i][:, 28 * k:28 * k + 28]
            x = 28 * k + int(info["dx"][i, k])
            lo, hi = max(x, 0), min(x + 28, 84)
            rebuilt[:, lo:hi] = np.maximum(rebuilt[:, lo:hi], cell[:, lo - x:hi - x])
        np.testing.assert_array_equal(shifted[i], rebuilt)
        # the left edge of the left digit's ink moved by exactly dx
        d0 = np.flatnonzero(control[i][:, :28].any(0))
        d1 = np.flatnonzero(control[i][:, 28:56].any(0))
        dx0, dx1 = int(info["dx"][i, 0]), int(info["dx"][i, 1])
        if len(d0) and len(d1) and 0 <= d0[0] + dx0 < 28 + d1[0] + dx1:
            assert np.flatnonzero(shifted[i].any(0))[0] == d0[0] + dx0
            checked += 1
    assert checked > 0


def test_light_background_is_the_control_inverted():
    a, _, _ = make_condition_images("control", 3, seed=5)
    b, _, _ = make_condition_images("light_background", 3, seed=5)
    np.testing.assert_array_equal(b, 255 - a)


def test_drawn_digits_are_tall_and_come_back_in_order_through_preparation():
    images, labels, _ = make_condition_images("drawn", 10, seed=0)
    for img in images:
        rows = np.flatnonzero(img.max(axis=1) > 64)
        assert rows[-1] - rows[0] >= 0.3 * 84  # much taller than MNIST's 20 of 84
        prep = prepare_handwriting(img, 3)
        assert [b[0] for b in prep.boxes] == sorted(b[0] for b in prep.boxes)
        for b, cell in zip(prep.boxes, range(3)):
            assert b[2] - b[0] > 2 and cell >= 0


def test_prepared_drawn_digits_match_their_source_digits():
    """Each digit the preparation returns resembles the MNIST digit it was drawn from
    more than the other two (the order is right)."""
    images, labels, _ = make_condition_images("drawn", 8, seed=4)
    control, _, _ = make_condition_images("control", 8, seed=4)
    hits = 0
    for img, ref in zip(images, control):
        prep = prepare_handwriting(img, 3)
        sources = [prepare_handwriting(ref, 3).digit_images[k] for k in range(3)]
        for k, d in enumerate(prep.digit_images):
            corr = [np.corrcoef(d.ravel(), s.ravel())[0, 1] for s in sources]
            hits += int(np.argmax(corr) == k)
    assert hits >= 0.75 * 24  # chance: 1 in 3


def test_custom_digit_pool_is_used():
    pool = digit_pool()
    imgs = np.concatenate(pool)
    labs = np.concatenate([np.full(len(p), d) for d, p in enumerate(pool)])
    a, _, _ = make_condition_images("control", 3, seed=0, digits=(imgs, labs))
    b, _, _ = make_condition_images("control", 3, seed=0)
    np.testing.assert_array_equal(a, b)
    white = (np.full((10, 28, 28), 255, np.uint8), np.arange(10))
    c, _, _ = make_condition_images("control", 2, seed=0, digits=white)
    assert (c > 0).sum() == 2 * 3 * 28 * 28


def test_evaluate_robustness_scores_each_condition(tiny_model):
    res = md.evaluate_robustness(tiny_model, ["control", "shift_8"], n_images=12, seed=0)
    assert res.conditions == ["control", "shift_8"] and res.n_images == 12
    images, labels, _ = make_condition_images("control", 12, seed=0)
    from multidigit._resize import resize_like_pil

    x = resize_like_pil(images, (28, 28)).astype(np.float32)[..., None] / 255
    pred = md.predict(tiny_model, x)
    right = pred.digits == labels
    assert res.digit_accuracy[0] == pytest.approx(right.mean())
    assert res.whole_accuracy[0] == pytest.approx(right.all(axis=1).mean())
    conf = pred.probabilities.max(axis=2)[~right]
    assert res.wrong_confidence[0] == pytest.approx(conf.mean(), rel=1e-5)
    assert res.confident_wrong[0] == pytest.approx((conf > 0.9).mean())
    assert res.refused == [0.0, 0.0]
    again = md.evaluate_robustness(tiny_model, ["control", "shift_8"], n_images=12, seed=0)
    assert again.to_dict() == res.to_dict()
    json.dumps(res.to_dict())
    assert "| control |" in res.to_markdown() and "<table>" in res._repr_html_()
    assert res.plot().axes


def test_evaluate_robustness_with_preparation_counts_refusals(tiny_model):
    res = md.evaluate_robustness(tiny_model, ["drawn", "touching"], n_images=10, prepare=True)
    assert res.prepare and all(0 <= r <= 1 for r in res.refused)
    assert all(0 <= a <= 1 for a in res.digit_accuracy + res.whole_accuracy)


@pytest.mark.parametrize("kw", [{"conditions": ["nope"]}, {"conditions": "control"},
                                {"n_images": 0}, {"seed": -1}, {"prepare": 1}])
def test_evaluate_robustness_bad_arguments(tiny_model, kw):
    with pytest.raises(md.ParameterError):
        md.evaluate_robustness(tiny_model, **kw)


def test_evaluate_robustness_needs_a_model():
    with pytest.raises(md.ParameterError, match="keras.Model"):
        md.evaluate_robustness("model.keras")
