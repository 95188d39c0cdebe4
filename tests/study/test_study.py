"""Tests of the whole-study driver: report, metrics, interruption and resume."""

from __future__ import annotations

import json

import pytest

from multidigit import study as S
from multidigit.errors import MultidigitError
from multidigit.study import stages
from multidigit.study.folder import LOCK, MARKER


def _tiny_config(**kw) -> S.StudyConfig:
    cfg = S.StudyConfig.make(quick=True)
    cfg.images_per_class = 1
    cfg.final_epochs = 1
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


@pytest.mark.slow
def test_study_interrupt_resume_and_report(tmp_path, monkeypatch):
    out = tmp_path / "study"
    real_tuning = stages.stage_tuning

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(stages, "stage_tuning", interrupted)
    with pytest.raises(KeyboardInterrupt):
        S.run_study(out=out, config=_tiny_config())
    done = sorted(p.stem for p in (out / "stages").glob("*.json"))
    assert done == ["compare", "config", "cross_validation", "data"]
    cv = json.loads((out / "stages" / "cross_validation.json").read_text())
    assert cv["reused"] == "compare"  # the quick settings repeat the comparison's run
    assert not (out / "metrics.json").exists()
    before = {p.name: p.stat().st_mtime_ns for p in (out / "stages").glob("*.json")}

    monkeypatch.setattr(stages, "stage_tuning", real_tuning)
    metrics = S.run_study(out=out, config=_tiny_config())
    # finished stages were not run again
    for name in ("data.json", "compare.json", "cross_validation.json"):
        assert (out / "stages" / name).stat().st_mtime_ns == before[name]
    assert set(metrics["stages"]) == set(S.STAGES)

    on_disk = json.loads((out / "metrics.json").read_text())
    acc = on_disk["final"]["test"]["mean_digit_accuracy"]
    assert 0.0 <= acc <= 1.0
    assert len(on_disk["stages"]["compare"]["rows"]) == 4  # all four combinations
    assert on_disk["stages"]["data"]["describe"]["splits"]["test"][
        "labels_shared_with_train"] == 0
    assert (out / "model.keras").exists()

    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 8  # figures embedded
    assert "<strong>Finding:</strong>" in page and "confusion matrices" in page
    assert "the network, drawn from its layers" in page  # with or without Graphviz
    assert ". These are the comparison's own runs" in " ".join(page.split())
    for name, info in on_disk["stages"]["explain"]["methods"].items():
        assert "error" not in info, (name, info)

    # every file the study wrote is listed in its marker (what --restart may delete)
    listed = set(json.loads((out / MARKER).read_text())["files"])
    written = {str(p.relative_to(out)) for p in out.rglob("*")
               if p.is_file() and "tuning" not in p.parts and p.name not in (MARKER, LOCK)}
    assert written == listed

    # other settings in the same folder: a clear error, not silent mixing
    with pytest.raises(MultidigitError, match="--restart"):
        S.run_study(out=out, config=_tiny_config(seed=1))


def test_cv_stage_reports_the_comparisons_run_and_it_is_what_training_gives(tmp_path):
    """With the default settings the cross-validation stage is the comparison's run of
    the winner (not trained again); training it afresh gives the same folds; a run with
    other settings is not reused."""
    from dataclasses import replace

    from multidigit.experiments.comparison import compare
    from multidigit.study.folder import StudyFolder

    cfg = _tiny_config(filters=(4, 8), dense_units=8)
    ds = stages.experiment_data(stages.load_data(cfg), cfg.experiment_images_per_class)
    best = {"activation": "softmax", "loss": "binary_crossentropy"}
    res = compare(ds, activations=[best["activation"]], losses=[best["loss"]],
                  k=cfg.compare_k, model_params=cfg.model_params(), epochs=cfg.compare_epochs,
                  batch_size=cfg.experiment_batch_size, seed=cfg.seed,
                  train_params={"schedule": cfg.schedule})  # as stage_compare calls it
    done = {**res.to_dict(), "best": best}

    reused = stages.stage_cv(StudyFolder(tmp_path / "a", cfg), ds, done, False)
    assert reused["reused"] == "compare"
    assert (tmp_path / "a" / "figures" / "learning_curves.png").is_file()
    trained = stages.stage_cv(StudyFolder(tmp_path / "b", cfg), ds, {"best": best, "cv": {}},
                              False)  # nothing to reuse: it trains
    assert "reused" not in trained
    assert [f["mean_digit_accuracy"] for f in trained["folds"]] == pytest.approx(
        [f["mean_digit_accuracy"] for f in reused["folds"]], abs=1e-9)

    params = {**cfg.model_params(), **best}
    assert stages._compare_run_of(cfg, done, params) is not None
    for other in (replace(cfg, cv_epochs=cfg.compare_epochs + 1), replace(cfg, cv_k=3),
                  replace(cfg, seed=cfg.seed + 1)):
        assert stages._compare_run_of(other, done, params) is None


def test_quick_and_default_configs_differ():
    q, d = S.StudyConfig.make(quick=True), S.StudyConfig.make()
    assert q.quick and not d.quick
    assert q.final_epochs < d.final_epochs and q.images_per_class < d.images_per_class
    full = S.StudyConfig.make(full_tuning=True)
    assert (full.tune_space, full.tune_trials, full.tune_epochs) == ("study", 20, 20)
    assert full.experiment_images_per_class is None


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    from multidigit.study.folder import StudyFolder

    folder = StudyFolder(tmp_path, S.StudyConfig.make(quick=True))
    target = folder.write_text("metrics.json", "{}")

    class Boom(Exception):
        pass

    import os

    def fail(*a, **k):
        raise Boom

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(Boom):
        folder.write_text("metrics.json", '{"new": 1}')
    assert target.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER, LOCK, "metrics.json",
                                                          "stages"]


def test_experiments_read_the_first_images_of_each_combination():
    """compare / CV / tuning read ``experiment_images_per_class`` images of every label
    combination; the final stage reads the whole dataset."""
    import numpy as np

    ds = stages.load_data(_tiny_config(images_per_class=3))
    part = stages.experiment_data(ds, 2)
    for name in ("train", "val", "test"):
        full, cut = ds[name], part[name]
        _, counts = np.unique(cut.label_ids, return_counts=True)
        assert counts.max() == 2 and len(cut) == len(full) * 2 // 3
        # the first two of each combination, in order
        first = [i for i, lab in enumerate(full.label_ids)
                 if list(full.label_ids[:i]).count(lab) < 2]
        np.testing.assert_array_equal(cut.images, full.images[first])
    assert stages.experiment_data(ds, None) is ds
    assert S.StudyConfig.make().experiment_images_per_class == 3
    assert S.StudyConfig.make(quick=True).experiment_images_per_class is None


def test_study_stages_get_the_experiment_data(monkeypatch):
    from multidigit.study import runner
    from multidigit.study.config import StudyConfig

    seen = {}
    cfg = _tiny_config(images_per_class=2, experiment_images_per_class=1)
    ds = stages.load_data(cfg)

    class Run:
        config = cfg

    for name in ("stage_compare", "stage_cv", "stage_tuning", "stage_final"):
        monkeypatch.setattr(stages, name,
                            lambda run, d, *a, _n=name: seen.setdefault(_n, len(d.train)))
    results = {"compare": {"best": {}}, "tuning": {}}
    for _, step in runner._steps(Run(), ds, results, False)[1:5]:
        step()
    assert isinstance(cfg, StudyConfig)
    assert seen["stage_compare"] == seen["stage_cv"] == seen["stage_tuning"] == len(ds.train) // 2
    assert seen["stage_final"] == len(ds.train)
