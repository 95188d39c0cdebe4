"""The tuning project folder: resume only what matches, start afresh without losing files.

Issue 16: ``tune`` resumed with another space / other data / another seed mixed the
trials; ``resume=False`` deleted unrelated files of the project folder.
"""

from __future__ import annotations

import warnings

import pytest

import multidigit as md
from multidigit import TuningError

OPTS = dict(tuner="random", max_trials=1, epochs=1, retrain=False, search_space="tiny")
OTHER_SPACE = {"preset": {"type": "fixed", "value": "small"},
               "conv_1": {"type": "int", "min": 12, "max": 16, "step": 4}}


@pytest.fixture(scope="module")
def other_ds():
    """Same sizes as tiny_ds, other labels order / images (another seed)."""
    return md.load_dataset("mini", images_per_class=1, image_size=(28, 28), seed=1,
                           n_digits=2)


def _tune(ds, tmp_path, **kw):
    return md.tune(ds, directory=tmp_path, **{**OPTS, **kw})


@pytest.mark.parametrize("change, what", [
    (dict(search_space=OTHER_SPACE), "search space changed"),
    (dict(seed=1), "seed was 0, now 1"),
    (dict(epochs=2), "epochs was 1, now 2"),
    (dict(objective="val_digit_0_accuracy"), "objective was 'val_loss'"),
])
def test_resume_with_other_settings_raises_naming_the_change(tiny_ds, tmp_path, change,
                                                             what):
    _tune(tiny_ds, tmp_path)
    with pytest.raises(TuningError, match=what) as info:
        _tune(tiny_ds, tmp_path, max_trials=2, **change)
    assert "resume=False" in str(info.value) and "--no-resume" in str(info.value)
    # starting afresh with the new settings works and keeps none of the old trials
    res = _tune(tiny_ds, tmp_path, resume=False, **change)
    assert len(res.trials) == 1
    if "search_space" in change:
        assert res.trials[0]["hyperparameters"]["conv_1"] in (12, 16)


def test_resume_on_other_data_raises(tiny_ds, other_ds, tmp_path):
    _tune(tiny_ds, tmp_path)
    with pytest.raises(TuningError, match="data changed"):
        _tune(other_ds, tmp_path, max_trials=2)


def test_resume_with_the_same_settings_and_more_trials_is_fine(tiny_ds, tmp_path):
    _tune(tiny_ds, tmp_path)
    assert len(_tune(tiny_ds, tmp_path, max_trials=2).trials) == 2


def test_no_resume_deletes_only_what_the_tuner_wrote(tiny_ds, tmp_path):
    _tune(tiny_ds, tmp_path, max_trials=2)
    project = tmp_path / "search"
    (project / "notes.txt").write_text("my notes")
    (project / "trial_0" / "my_plot.png").write_bytes(b"png")
    (project / "mine").mkdir()
    with pytest.warns(UserWarning, match="kept 3 file"):
        res = _tune(tiny_ds, tmp_path, resume=False, seed=3)
    assert len(res.trials) == 1
    assert (project / "notes.txt").read_text() == "my notes"
    assert (project / "trial_0" / "my_plot.png").exists() and (project / "mine").is_dir()
    assert not (project / "trial_1").exists()  # the old trial's folder went


def test_no_resume_on_a_clean_project_is_quiet(tiny_ds, tmp_path):
    _tune(tiny_ds, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert len(_tune(tiny_ds, tmp_path, resume=False).trials) == 1


def test_clear_project_removes_tuner_files_and_stale_temporaries(tmp_path):
    from multidigit.tuning.project import FINGERPRINT, clear_project
    from multidigit.tuning.tuner import SIDECAR

    project = tmp_path / "p"
    trial = project / "trial_03"
    trial.mkdir(parents=True)
    for name in ("trial.json", "build_config.json", "checkpoint.weights.h5", SIDECAR,
                 f".{SIDECAR}abc.part"):
        (trial / name).write_text("x")
    for name in ("oracle.json", "tuner0.json", FINGERPRINT, f".{FINGERPRINT}x.part"):
        (project / name).write_text("x")
    (project / "trial_notes").mkdir()  # not a keras-tuner trial folder
    with pytest.warns(UserWarning, match="trial_notes"):
        assert clear_project(project) == [project / "trial_notes"]
    assert sorted(p.name for p in project.iterdir()) == ["trial_notes"]
    assert clear_project(tmp_path / "missing") == []


def test_a_project_without_fingerprint_is_adopted(tmp_path):
    from multidigit.tuning.project import FINGERPRINT, check_fingerprint

    project = tmp_path / "old"
    project.mkdir()
    (project / "oracle.json").write_text("{}")  # made before multidigit kept one
    check_fingerprint(project, {"seed": 0})
    assert (project / FINGERPRINT).exists()
    check_fingerprint(project, {"seed": 0})
    with pytest.raises(TuningError, match="seed was 0, now 2"):
        check_fingerprint(project, {"seed": 2})
