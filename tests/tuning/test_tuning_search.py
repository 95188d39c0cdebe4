"""Tests of multidigit.tuning.search (tune): tiny spaces, 1 epoch, the tiny dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ParameterError, TuningError
from multidigit.tuning import tuner as glue

TINY = dict(search_space="tiny", epochs=1, seed=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tuner": "grid"}, "tune\\(\\): tuner must be one of 'hyperband', 'random'"),
        ({"max_trials": 0}, "max_trials must be an integer >= 1"),
        ({"epochs": 1.5}, "epochs must be an integer >= 1"),
        ({"k": 1}, "k must be an integer >= 2 or None"),
        ({"k": 10_000}, "k must be an integer in \\[2, 640\\]"),
        ({"resume": "yes"}, "resume must be True or False"),
        ({"objective": ""}, "objective must be a metric name"),
        ({"search_space": {"conv_9": {"type": "bool"}}}, "conv"),
    ],
)
def test_bad_arguments_raise_parameter_error_before_any_work(tiny_ds, tmp_path, kwargs,
                                                             match):
    with pytest.raises(ParameterError, match=match):
        md.tune(tiny_ds, directory=tmp_path, **{**TINY, **kwargs})
    assert not any(tmp_path.iterdir())


def test_bad_data_raises_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="data must be a dataset with .train"):
        md.tune(np.zeros((4, 28, 28, 1)), directory=tmp_path, **TINY)


def test_random_search_result_table_plot_dict(tiny_ds, tmp_path, capsys):
    import keras
    from matplotlib.figure import Figure

    res = md.tune(tiny_ds, tuner="random", max_trials=2, directory=tmp_path,
                  progress=True, **TINY)
    out = capsys.readouterr().out
    assert "Search: Running Trial" not in out and "Reloading" not in out  # kt silenced
    assert "random search (2/2 trials done)" in out  # the rich live table

    assert len(res.trials) == 2
    for row in res.trials:
        assert row["status"] == "COMPLETED" and row["epochs"] == 1 and row["seconds"] > 0
        assert row["worker"] == "tuner0" and np.isfinite(row["score"])
        assert 0 <= row["val_accuracy"] <= 1  # the heads' mean at the best epoch
        assert set(row["hyperparameters"]) == {"preset", "conv_1", "dense_units"}
        assert not any(k.startswith("tuner/") for k in row["hyperparameters"])
    best_row = min(res.trials, key=lambda r: r["score"])
    assert res.best_score == best_row["score"]
    assert res.best_hyperparameters == best_row["hyperparameters"]
    assert res.direction == "min"

    # retrained on train: the architecture of the best trial, trained weights
    assert res.best_model_source == "retrained"
    assert isinstance(res.best_model, keras.Model)
    assert res.best_model.get_layer("conv_1").filters == res.best_hyperparameters["conv_1"]
    assert res.best_model.get_layer("dense").units == res.best_hyperparameters["dense_units"]
    pred = res.best_model.predict(tiny_ds.test.images[:4], verbose=0)
    assert set(pred) == {"digit_0", "digit_1", "digit_2"}

    d = json.loads(json.dumps(res.to_dict()))
    assert d["best_hyperparameters"] == res.best_hyperparameters
    assert len(d["trials"]) == 2 and d["tuner"] == "random"
    assert "best_model" not in d

    fig = res.plot()
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert sorted(ax.get_xlabel() for ax in visible) == ["conv_1", "dense_units"]
    assert sum(len(ax.collections[0].get_offsets()) for ax in visible) == 4
    assert "TuneResult(tuner='random'" in repr(res)
    assert f"{res.best_score:.4g}" in res._repr_html_()


def test_same_seed_same_trials_and_scores(tiny_ds, tmp_path):
    """keras-tuner treats seed 0 as "no seed"; tune() must not (it is our default)."""

    def run(d):
        res = md.tune(tiny_ds, tuner="random", max_trials=3, directory=tmp_path / d,
                      retrain=False, **TINY)  # seed 0
        return [(r["hyperparameters"], round(r["score"], 6)) for r in res.trials]

    first = run("a")
    assert len({json.dumps(h, sort_keys=True) for h, _ in first}) == 3
    assert run("b") == first


@pytest.mark.parametrize("kind", ["hyperband", "bayesian"])
def test_other_tuners_run_and_restore_the_best_model(tiny_ds, tmp_path, kind):
    res = md.tune(tiny_ds, tuner=kind, max_trials=1, directory=tmp_path, retrain=False,
                  **TINY)
    assert len(res.trials) == 1 and all(r["status"] == "COMPLETED" for r in res.trials)
    assert res.best_model_source == "restored"
    # the restored model scores what the tuner recorded for the best trial
    val = tiny_ds.val
    logs = res.best_model.evaluate(val.images, val.one_hot(), verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(res.best_score, rel=1e-4)


def test_cross_validated_scores_are_fold_means(tiny_ds, tmp_path):
    res = md.tune(tiny_ds, tuner="random", max_trials=1, k=2, directory=tmp_path,
                  retrain=False, **TINY)
    (row,) = res.trials
    assert row["status"] == "COMPLETED"
    assert len(row["fold_scores"]) == 2 and row["epochs"] == 2
    assert row["score"] == pytest.approx(np.mean(row["fold_scores"]))
    assert res.best_model is None and res.k == 2


def test_resume_keeps_finished_trials_after_a_crash(tiny_ds, tmp_path, monkeypatch):
    calls = []
    real_fit = glue._fit

    def crash_on_second(model, *a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during trial 1
        return real_fit(model, *a, **kw)

    monkeypatch.setattr(glue, "_fit", crash_on_second)
    opts = dict(tuner="random", directory=tmp_path, retrain=False, **TINY)
    with pytest.raises(KeyboardInterrupt):
        md.tune(tiny_ds, max_trials=2, **opts)

    def counting(model, *a, **kw):
        calls.append(1)
        return real_fit(model, *a, **kw)

    monkeypatch.setattr(glue, "_fit", counting)
    first_sidecar = (tmp_path / "search" / "trial_0" / glue.SIDECAR).read_text()
    calls.clear()
    res = md.tune(tiny_ds, max_trials=2, **opts)
    assert len(calls) == 1  # only the interrupted trial ran again
    assert [r["status"] for r in res.trials] == ["COMPLETED", "COMPLETED"]
    assert (tmp_path / "search" / "trial_0" / glue.SIDECAR).read_text() == first_sidecar

    calls.clear()
    more = md.tune(tiny_ds, max_trials=3, **opts)  # more trials: not a changed setting
    assert len(calls) == 1 and len(more.trials) == 3
    assert more.trials[:2] == res.trials  # nothing lost, nothing rerun


def test_all_trials_failing_raises_with_the_cause(tiny_ds, tmp_path, monkeypatch):
    def broken_fit(model, *a, **kw):
        raise ValueError("boom: this trial cannot train")

    monkeypatch.setattr(glue, "_fit", broken_fit)
    # fewer failures than keras-tuner's limit: it would return normally
    with pytest.raises(TuningError, match="all 2 trials .* failed.*boom: this trial"):
        md.tune(tiny_ds, tuner="random", max_trials=2, directory=tmp_path / "a", **TINY)
    # keras-tuner's own "consecutive failures" stop is a TuningError too
    with pytest.raises(TuningError, match="boom: this trial"):
        md.tune(tiny_ds, tuner="random", max_trials=3, directory=tmp_path / "b", **TINY)


def test_a_model_that_cannot_be_built_raises_tuning_error(tiny_ds, tmp_path, monkeypatch):
    def broken_build(values, hm):
        raise md.ModelError("cannot build this one")

    monkeypatch.setattr(glue, "_build", broken_build)
    with pytest.raises(TuningError, match="cannot build this one"):
        md.tune(tiny_ds, tuner="random", max_trials=2, directory=tmp_path, **TINY)


def test_result_plot_puts_ticks_at_the_choices_only():
    """The learning-rate labels of the study's figure do not overlap (issue 27)."""
    from multidigit.tuning.result import TuneResult

    space = {"learning_rate": {"type": "choice", "values": [1e-3, 2e-3]},
             "conv_1": {"type": "choice", "values": [24, 32]}}
    trials = [{"trial_id": str(i), "status": "COMPLETED", "score": 0.5 + i / 10, "epochs": 2,
               "hyperparameters": {"learning_rate": lr, "conv_1": c}}
              for i, (lr, c) in enumerate([(1e-3, 24), (2e-3, 32), (2e-3, 24)])]
    res = TuneResult(trials[0]["hyperparameters"], 0.5, trials, "val_loss", "min", "random",
                     space)
    ax = res.plot().axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.001", "0.002"]
    assert list(ax.get_xticks(minor=True)) == []
    assert ax.get_ylabel() == "validation loss (lower is better)"
