"""multidigit.experiments.cross_validation: make_folds and cross_validate."""

from __future__ import annotations

import json

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ParameterError

TINY = {"preset": "small", "filters": (8,), "dense_units": 16}


# ------------------------------------------------------------------ folds
def test_grouped_folds_share_no_combination(small_ds):
    split = small_ds.train
    folds = md.make_folds(split, k=4, seed=0)
    assert len(folds) == 4
    all_val = np.sort(np.concatenate([v for _, v in folds]))
    np.testing.assert_array_equal(all_val, np.arange(len(split)))
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(split)
        assert not set(split.label_ids[tr]) & set(split.label_ids[va])
    # deterministic, and the seed matters
    again = md.make_folds(split.labels, k=4, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    other = md.make_folds(split, k=4, seed=1)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


def test_plain_folds_leak_combinations(small_ds):
    split = small_ds.train
    folds = md.make_folds(split, k=4, grouped=False, seed=0)
    shared = [len(set(split.label_ids[tr]) & set(split.label_ids[va])) for tr, va in folds]
    assert all(s > 0 for s in shared)


def test_fold_errors():
    labels = np.array([[0, 0, 1]] * 4 + [[0, 0, 2]] * 4)
    with pytest.raises(ParameterError, match="label combinations"):
        md.make_folds(labels, k=3)
    with pytest.raises(ParameterError, match=r"make_folds\(\): k must be an integer >= 2"):
        md.make_folds(labels, k=1)
    with pytest.raises(ParameterError, match="number of images"):
        md.make_folds(labels, k=9, grouped=False)
    with pytest.raises(ParameterError, match="split_or_labels"):
        md.make_folds(np.zeros((2, 2, 2)), k=2)
    assert len(md.make_folds(labels, k=3, grouped=False)) == 3


@pytest.mark.parametrize("k", [1, 0, 2.5, "3"])
def test_the_same_bad_k_is_a_parameter_error_everywhere(tiny_ds, k):
    """Issue 15: make_folds, cross_validate and compare agree on a bad k."""
    for func, call in [("make_folds", lambda: md.make_folds(tiny_ds.train, k=k)),
                       ("cross_validate", lambda: md.cross_validate(tiny_ds, k=k)),
                       ("compare", lambda: md.compare(tiny_ds, k=k))]:
        with pytest.raises(ParameterError, match=rf"{func}\(\): k must be an integer >= 2"):
            call()


# ------------------------------------------------------------------ cross-validate
def test_cross_validate_reports_fold_metrics_and_calibration(tiny_ds):
    data = tiny_ds.train.subset(np.arange(0, 400, 2), "train")  # 200 images
    cv = md.cross_validate(data, k=2, epochs=1, model_params=TINY, seed=0)
    assert isinstance(cv, md.CrossValidationResult)
    assert len(cv.folds) == 2 and len(cv.histories) == 2
    assert sum(f["n_val"] for f in cv.folds) == len(data)
    for f, h in zip(cv.folds, cv.histories):
        assert 0 <= f["whole_accuracy"] <= f["mean_digit_accuracy"] <= 1
        assert len(f["digit_accuracy"]) == 3 and h.epochs == 1
        assert len(f["brier_score"]) == 3 and len(f["ece"]) == 3
        assert f["mean_brier_score"] == pytest.approx(np.mean(f["brier_score"]))
        assert f["mean_ece"] == pytest.approx(np.mean(f["ece"]))
        assert "val_loss" in h.history
    s = cv.summary()
    assert s["mean_digit_accuracy"]["mean"] == pytest.approx(
        np.mean([f["mean_digit_accuracy"] for f in cv.folds]))
    assert s["mean_ece"]["mean"] == pytest.approx(np.mean([f["mean_ece"] for f in cv.folds]))
    d = json.loads(json.dumps(cv.to_dict()))
    assert d["k"] == 2 and "summary" in d and len(d["histories"]) == 2
    assert "2-fold grouped" in str(cv) and len(repr(cv)) < 250
    html = cv._repr_html_()
    assert html.startswith("<table>") and "fold 1" in html and "mean_ece" in html
    assert f"{cv.folds[1]['mean_digit_accuracy']:.4f}" in html


def test_cross_validate_errors(tiny_ds):
    train = tiny_ds.train
    with pytest.raises(ParameterError, match="input_shape"):
        md.cross_validate(train, k=2, model_params={"input_shape": (28, 28, 1)})
    with pytest.raises(ParameterError, match="epochs"):
        md.cross_validate(train, k=2, train_params={"epochs": 3})
    with pytest.raises(ParameterError, match="data"):
        md.cross_validate(train.images, k=2)
    cv = md.CrossValidationResult(folds=[], histories=[], k=2, grouped=True, seed=0)
    with pytest.raises(ParameterError, match="metric"):
        cv.scores("accuracy")


# ------------------------------------------------------------------ issue 26
@pytest.mark.parametrize("folds, message", [
    ([], "non-empty"),
    ([(np.arange(0, 20), np.arange(10, 30))], "not training rows"),
    ([(np.arange(0, 10), np.array([10, 10**6]))], r"indices in \[0"),
    ([(np.arange(0, 10), np.array([], int))], "non-empty 1-D"),
])
def test_precomputed_folds_are_checked(tiny_ds, folds, message):
    with pytest.raises(md.ParameterError, match=message):
        md.cross_validate(tiny_ds.train.subset(np.arange(40)), folds=folds, epochs=1,
                          model_params={"preset": "small"})


def test_folds_sharing_one_traced_model_train_as_fresh_models(tiny_ds, monkeypatch):
    """The folds of one call reuse the first fold's traced model (its state replaced by
    a fresh build's: weights, BatchNorm statistics, random-layer seeds, a new Adam):
    every fold's numbers are those of a model built and traced for it alone."""
    from multidigit.experiments import cross_validation as cv_module

    params = {"filters": (4, 8), "dense_units": 8}  # the default preset: random layers
    real, used = cv_module._into_traced, []
    monkeypatch.setattr(cv_module, "_into_traced",
                        lambda traced, fresh: used.append(real(traced, fresh)) or used[-1])
    shared = md.cross_validate(tiny_ds, k=3, epochs=1, model_params=params, seed=3)
    assert len(used) == 3 and len({id(m) for m in used}) == 1  # one model, traced once
    monkeypatch.setattr(cv_module, "_into_traced", lambda traced, fresh: fresh)
    fresh = md.cross_validate(tiny_ds, k=3, epochs=1, model_params=params, seed=3)
    for a, b in zip(shared.folds, fresh.folds):
        for key in ("loss", "mean_digit_accuracy", "whole_accuracy", "mean_ece"):
            assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-9), (a["fold"], key)
    assert shared.histories[2].history["loss"] == pytest.approx(
        fresh.histories[2].history["loss"], rel=1e-6)
