"""multidigit.experiments.comparison: compare() and its statistics (corrected resampled t-test)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

import multidigit as md
from multidigit.errors import ParameterError
from multidigit.experiments.comparison import _activation_note, corrected_interval, corrected_ttest

TINY = {"preset": "small", "filters": (8,), "dense_units": 16}


# ------------------------------------------------------------------ statistics
def test_corrected_ttest_matches_a_hand_computation():
    """Nadeau & Bengio (2003): var * (1/n + n_test/n_train), t with n - 1 dof."""
    d = np.array([0.02, 0.01, 0.03, 0.015, 0.025])  # 5 folds -> n_test/n_train = 1/4
    mean = 0.02
    var = sum((x - mean) ** 2 for x in d) / 4  # 0.0000625
    t_hand = mean / math.sqrt(var * (1 / 5 + 1 / 4))
    assert var == pytest.approx(6.25e-5)
    t, p = corrected_ttest(d, test_train_ratio=0.25)
    assert t == pytest.approx(t_hand) and t == pytest.approx(3.7712361663282534)
    assert p == pytest.approx(2 * stats.t.sf(t_hand, 4))
    # the plain paired t-test is over-confident: a smaller p on the same differences
    assert stats.ttest_1samp(d, 0).pvalue < p
    # no correction at all (ratio 0) is the plain test
    assert corrected_ttest(d, 0.0)[1] == pytest.approx(stats.ttest_1samp(d, 0).pvalue)


def test_corrected_interval_matches_a_hand_computation():
    x = np.array([0.8, 0.82, 0.81])
    half = stats.t.ppf(0.975, 2) * math.sqrt(np.var(x, ddof=1) * (1 / 3 + 0.5))
    lo, hi = corrected_interval(x, test_train_ratio=0.5)
    assert (lo, hi) == pytest.approx((0.81 - half, 0.81 + half))
    plain = stats.t.interval(0.95, 2, loc=0.81, scale=stats.sem(x))
    assert hi - lo > plain[1] - plain[0]  # wider than the naive interval
    assert all(math.isnan(v) for v in corrected_interval(np.array([0.5]), 0.5))


def test_corrected_interval_on_the_logit_scale_stays_inside_0_1():
    x = np.array([0.7797, 0.9197])  # 2 folds: the linear interval runs past 100 %
    assert corrected_interval(x, 1.0)[1] > 1
    lo, hi = corrected_interval(x, 1.0, scale="logit")
    assert 0 < lo < x.min() and x.max() < hi < 1
    logits = np.log(x / (1 - x))
    half = stats.t.ppf(0.975, 1) * math.sqrt(np.var(logits, ddof=1) * (1 / 2 + 1.0))
    assert lo == pytest.approx(1 / (1 + math.exp(-(logits.mean() - half))))
    assert corrected_interval(np.array([1.0, 1.0]), 1.0, scale="logit")[1] <= 1
    with pytest.raises(ParameterError, match="scale"):
        corrected_interval(x, 1.0, scale="log")


def test_corrected_ttest_degenerate_differences():
    assert corrected_ttest(np.array([0.01, 0.01]), 0.5) == (math.inf, 0.0)
    assert corrected_ttest(np.zeros(3), 0.5) == (0.0, 1.0)
    with pytest.raises(ParameterError, match="differences"):
        corrected_ttest(np.array([0.1]), 0.5)


def test_activation_note_explains_identical_activations():
    combos = [("softmax", "categorical_crossentropy"), ("sigmoid", "categorical_crossentropy"),
              ("softmax", "binary_crossentropy"), ("sigmoid", "binary_crossentropy")]
    scores = {"softmax+categorical_crossentropy": [0.8, 0.82],
              "sigmoid+categorical_crossentropy": [0.8, 0.82],
              "softmax+binary_crossentropy": [0.6, 0.7],
              "sigmoid+binary_crossentropy": [0.61, 0.7]}
    note = _activation_note(combos, scores, 1.0)
    assert "softmax and sigmoid with categorical_crossentropy" in note
    assert "binary_crossentropy gave" not in note.replace("categorical_crossentropy gave", "")
    assert "corrected resampled t-test" in note
    scores["sigmoid+categorical_crossentropy"] = [0.79, 0.82]
    assert _activation_note(combos, scores, 1.0) == ""


# ------------------------------------------------------------------ compare
@pytest.fixture(scope="module")
def comparison(tiny_ds):
    # compare runs cross_validate per combination and repeat: 2 combos x 2 repeats x 2 folds
    data = tiny_ds.train.subset(np.arange(0, 400, 2), "train")  # 200 images
    return md.compare(data, activations=("softmax", "sigmoid"),
                      losses=("categorical_crossentropy",), k=2, repeats=2, epochs=1,
                      model_params=TINY, seed=0)


def test_compare_ranks_with_corrected_statistics(comparison):
    res = comparison
    assert isinstance(res, md.ComparisonResult)
    rows = res.table()
    assert len(rows) == 2 and rows[0]["mean"] >= rows[1]["mean"]
    for r in rows:
        scores = np.asarray(res.scores[r["key"]])
        assert r["n"] == 4 and len(scores) == 4  # 2 folds x 2 repeats (seeds)
        assert r["mean"] == pytest.approx(np.mean(scores))
        ratio = np.mean([f["n_val"] for c in res.cv[r["key"]] for f in c.folds]) / np.mean(
            [f["n_train"] for c in res.cv[r["key"]] for f in c.folds])
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(
            corrected_interval(scores, ratio, scale="logit"))
        assert 0 <= r["ci_low"] <= r["mean"] <= r["ci_high"] <= 1
        assert r["mean_ece"] == pytest.approx(
            np.mean([f["mean_ece"] for c in res.cv[r["key"]] for f in c.folds]))
        assert 0 <= r["mean_brier_score"] <= (2 if r["activation"] == "softmax" else 10)
    best = f"{rows[0]['activation']} + {rows[0]['loss']}"
    assert res.verdict.startswith(f"Best by mean_digit_accuracy: {best}")
    assert "noise" in res.verdict and "corrected resampled t-test" in res.verdict
    diff = np.subtract(res.scores[rows[0]["key"]], res.scores[rows[1]["key"]])
    if np.std(diff) > 0:
        assert res.p_value == pytest.approx(corrected_ttest(diff, ratio)[1])
    json.dumps(res.to_dict())
    # the same folds for every combination, new folds and seeds per repeat
    val_sizes = {k: [f["n_val"] for c in v for f in c.folds] for k, v in res.cv.items()}
    assert len({tuple(v) for v in val_sizes.values()}) == 1
    seeds = [f["seed"] for c in res.cv["softmax+categorical_crossentropy"] for f in c.folds]
    assert seeds == [0, 1, 1000, 1001]
    assert "Brier" in str(res)


def test_comparison_html_has_numbers_and_figure(comparison):
    """Issue 14: a compact table, the verdict and the inline figure."""
    html = comparison._repr_html_()
    assert html.startswith("<table>") and "<img src=\"data:image/png;base64," in html
    for r in comparison.rows:
        assert f"{r['mean']:.4f}" in html and f"{r['mean_ece']:.4f}" in html
    assert "Best by" in html
    assert len(repr(comparison)) < 200


def test_compare_errors(tiny_ds):
    train = tiny_ds.train
    with pytest.raises(ParameterError, match="not comparable"):
        md.compare(train, metric="loss")
    with pytest.raises(ParameterError, match="activations="):
        md.compare(train, model_params={"activation": "softmax"})
    with pytest.raises(ParameterError, match="'softmax', 'sigmoid'"):
        md.compare(train, activations=("relu",))
    with pytest.raises(ParameterError, match="repeats"):
        md.compare(train, repeats=0)
