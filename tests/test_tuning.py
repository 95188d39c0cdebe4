"""Tests of multidigit.tuning: tiny spaces, 1 epoch, the tiny dataset."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import multidigit as md
from multidigit import TuningError
from multidigit import tuning as T

TINY = dict(search_space="tiny", epochs=1, seed=0)


# --------------------------------------------------------------------------- spaces
def test_named_spaces_are_valid_and_study_matches_the_paper():
    for name in md.SEARCH_SPACES:
        assert T.check_search_space(name) == md.SEARCH_SPACES[name]
    study = md.SEARCH_SPACES["study"]
    assert study["conv_1"] == {"type": "int", "min": 32, "max": 128, "step": 32}
    assert study["conv_3"]["max"] == 512 and study["dense_units"]["step"] == 128
    assert {"learning_rate", "dropout", "l2", "batch_norm", "batch_size"} <= set(
        md.SEARCH_SPACES["wide"]
    )


def test_model_kwargs_maps_the_study_best_onto_build_model():
    kw = T.model_kwargs({"conv_1": 96, "conv_2": 128, "conv_3": 128, "dense_units": 256})
    assert kw == {"filters": [96, 128, 128], "dense_units": 256, "preset": "tuned"}
    model = md.build_model(input_shape=(28, 28, 1), **kw)
    assert [model.get_layer(f"conv_{i}").filters for i in (1, 2, 3)] == [96, 128, 128]


@pytest.mark.parametrize(
    "space, match",
    [
        ("nope", "unknown search space 'nope'"),
        ({}, "non-empty"),
        ({"units": {"type": "int", "min": 1, "max": 2}}, "unknown hyperparameter 'units'"),
        ({"conv_1": {"type": "integer", "min": 1, "max": 2}}, "unknown type 'integer'"),
        ({"conv_1": {"type": "int", "min": 1}}, r"missing \['max'\]"),
        ({"conv_1": {"type": "int", "min": 1, "max": 2, "stp": 1}}, "unknown field"),
        ({"conv_1": {"type": "int", "min": 8, "max": 2}}, "min=8 > max=2"),
        ({"learning_rate": {"type": "float", "min": 0, "max": 1, "sampling": "log"}},
         "log sampling needs min > 0"),
        ({"dropout": {"type": "choice", "values": []}}, "non-empty list"),
        ({"dropout": {"type": "choice", "values": [0.1, "a"]}}, "one type"),
        ({"conv_1": {"type": "int", "min": 4, "max": 8},
          "conv_3": {"type": "int", "min": 4, "max": 8}}, "without gaps"),
        ({"conv_1": "big"}, "must be a dict with a 'type'"),
    ],
)
def test_bad_search_space_raises_tuning_error(space, match):
    with pytest.raises(TuningError, match=match):
        T.check_search_space(space)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tuner": "grid"}, "unknown tuner 'grid'"),
        ({"max_trials": 0}, "max_trials"),
        ({"epochs": 1.5}, "epochs"),
        ({"k": 1}, "k must be None"),
        ({"search_space": {"conv_9": {"type": "bool"}}}, "conv"),
    ],
)
def test_bad_arguments_raise_before_any_work(tiny_ds, tmp_path, kwargs, match):
    with pytest.raises(TuningError, match=match):
        md.tune(tiny_ds, directory=tmp_path, **{**TINY, **kwargs})
    assert not any(tmp_path.iterdir())


def test_bad_data_raises_data_error(tmp_path):
    with pytest.raises(md.DataError, match="needs a dataset"):
        md.tune(np.zeros((4, 28, 28, 1)), directory=tmp_path, **TINY)


# --------------------------------------------------------------------------- searches
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

    fig = res.plot()
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert sorted(ax.get_xlabel() for ax in visible) == ["conv_1", "dense_units"]
    assert sum(len(ax.collections[0].get_offsets()) for ax in visible) == 4
    assert "TuneResult(tuner='random'" in repr(res)


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
    real_fit = T._fit

    def crash_on_second(model, *a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during trial 1
        return real_fit(model, *a, **kw)

    monkeypatch.setattr(T, "_fit", crash_on_second)
    opts = dict(tuner="random", directory=tmp_path, retrain=False, **TINY)
    with pytest.raises(KeyboardInterrupt):
        md.tune(tiny_ds, max_trials=2, **opts)

    def counting(model, *a, **kw):
        calls.append(1)
        return real_fit(model, *a, **kw)

    monkeypatch.setattr(T, "_fit", counting)
    first_sidecar = (tmp_path / "search" / "trial_0" / T._SIDECAR).read_text()
    calls.clear()
    res = md.tune(tiny_ds, max_trials=2, **opts)
    assert len(calls) == 1  # only the interrupted trial ran again
    assert [r["status"] for r in res.trials] == ["COMPLETED", "COMPLETED"]
    assert (tmp_path / "search" / "trial_0" / T._SIDECAR).read_text() == first_sidecar

    calls.clear()
    more = md.tune(tiny_ds, max_trials=3, **opts)
    assert len(calls) == 1 and len(more.trials) == 3
    assert more.trials[:2] == res.trials  # nothing lost, nothing rerun


def test_all_trials_failing_raises_with_the_cause(tiny_ds, tmp_path, monkeypatch):
    def broken_fit(model, *a, **kw):
        raise ValueError("boom: this trial cannot train")

    monkeypatch.setattr(T, "_fit", broken_fit)
    # fewer failures than keras-tuner's limit: it would return normally
    with pytest.raises(TuningError, match="all 2 trials .* failed.*boom: this trial"):
        md.tune(tiny_ds, tuner="random", max_trials=2, directory=tmp_path / "a", **TINY)
    # keras-tuner's own "consecutive failures" stop is a TuningError too
    with pytest.raises(TuningError, match="boom: this trial"):
        md.tune(tiny_ds, tuner="random", max_trials=3, directory=tmp_path / "b", **TINY)


def test_a_model_that_cannot_be_built_raises_tuning_error(tiny_ds, tmp_path, monkeypatch):
    def broken_build(values, hm):
        raise md.ModelError("cannot build this one")

    monkeypatch.setattr(T, "_build", broken_build)
    with pytest.raises(TuningError, match="cannot build this one"):
        md.tune(tiny_ds, tuner="random", max_trials=2, directory=tmp_path, **TINY)


def test_cli_runs_a_tiny_search(tmp_path, capsys):
    from multidigit.cli import main

    stale = tmp_path / "cli" / "trial_9"
    stale.mkdir(parents=True)  # --no-resume must start afresh, deleting the old project
    rc = main(["tune", "--no-resume", "--data", "mini", "--images-per-class", "1", "--image-size", "28",
               "--tuner", "random", "--search-space", "tiny", "--max-trials", "1",
               "--epochs", "1", "--directory", str(tmp_path), "--project-name", "cli"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "best val_loss" in out and "conv_1=" in out
    assert (tmp_path / "cli" / "oracle.json").exists() and not stale.exists()
    assert main(["tune", "--search-space", "nope", "--directory", str(tmp_path)]) == 2
    assert "unknown search space 'nope'" in capsys.readouterr().err


# --------------------------------------------------------------------------- distributed
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_distributed_chief_and_two_workers(tiny_ds, tmp_path):  # tiny_ds: warm cache
    """A real keras-tuner chief oracle (gRPC) and two worker processes on 127.0.0.1."""
    port = str(_free_port())
    base = [sys.executable, "-m", "multidigit", "tune", "--data", "mini",
            "--images-per-class", "1", "--image-size", "28", "--tuner", "random",
            "--search-space", "tiny", "--max-trials", "3", "--epochs", "1",
            "--directory", str(tmp_path), "--chief-port", port]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    procs = {}
    try:
        for role in (["--chief"], ["--worker", "0"], ["--worker", "1"]):
            procs[" ".join(role)] = subprocess.Popen(
                base + role, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True,
            )
        outs = {name: p.communicate(timeout=240)[0] for name, p in procs.items()}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
    for name, p in procs.items():
        assert p.returncode == 0, f"{name} failed:\n{outs[name][-3000:]}"

    project = tmp_path / "search"
    trials = {}
    for d in sorted(project.glob("trial_*")):
        trial = json.loads((d / "trial.json").read_text())
        side = json.loads((d / T._SIDECAR).read_text())
        trials[trial["trial_id"]] = (trial["status"], side["tuner_id"])
    assert len(trials) == 3, trials  # none lost
    assert {s for s, _ in trials.values()} == {"COMPLETED"}
    assert {w for _, w in trials.values()} == {"tuner0", "tuner1"}  # both worked
    assert "best val_loss" in outs["--chief"]
    for w in ("0", "1"):
        assert f"tuner{w}" in outs[f"--worker {w}"]
