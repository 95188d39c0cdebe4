"""Restart, resume and killed writes, with the stages replaced by fast fakes (issue 16)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from multidigit.errors import DataError, MultidigitError
from multidigit.study import StudyConfig, run_study
from multidigit.study import stages as S
from multidigit.study.folder import StudyFolder


def _fake_data(pixel: float = 0.0) -> SimpleNamespace:
    split = SimpleNamespace(images=np.full((2, 4, 4, 1), pixel, "float32"),
                            labels=np.zeros((2, 3), "int64"))
    return SimpleNamespace(splits={"train": split, "val": split, "test": split})


def _fake_stages(monkeypatch, seen: dict):
    """Replace the stages by fakes that write what the real ones write, instantly."""
    import matplotlib.pyplot as plt

    def figure_stage(name):
        def stage(run, *a, **k):
            return {"figures": {name: run.figure(plt.figure(), name)}}
        return stage

    def tuning(run, ds, best, progress):
        project = run.tuning_project() / "study"
        seen["tuning_before"] = sorted(p.name for p in project.glob("*"))
        project.mkdir(parents=True, exist_ok=True)
        (project / f"trial_seed{run.config.seed}.json").write_text("{}")
        return {"best_hyperparameters": {}, "trials": [], "figures": {}}

    def final(run, ds, best, tuned, progress):
        run.claim("model.keras").write_text("model")
        test = {"mean_digit_accuracy": 0.5, "whole_accuracy": 0.1, "digit_accuracy": [0.5],
                "hamming_loss": 0.5, "n_images": 2}
        return {"test": test, "figures": {}}

    monkeypatch.setattr(S, "load_data", lambda cfg: _fake_data(seen.get("pixel", 0.0)))
    monkeypatch.setattr(S, "stage_data", figure_stage("samples_train"))
    monkeypatch.setattr(S, "stage_compare", lambda run, ds, p: {
        "best": {"activation": "softmax", "loss": "categorical_crossentropy"},
        "figures": {"comparison": run.figure(plt.figure(), "comparison")}})
    monkeypatch.setattr(S, "stage_cv", figure_stage("learning_curves"))
    monkeypatch.setattr(S, "stage_tuning", tuning)
    monkeypatch.setattr(S, "stage_final", final)
    monkeypatch.setattr(S, "stage_explain", lambda run, ds: {"methods": {}, "figures": {}})
    monkeypatch.setattr("multidigit.study.runner.render_report", lambda *a: "<html></html>")


def test_restart_with_another_seed_clears_the_tuning_project(tmp_path, monkeypatch):
    seen: dict = {}
    _fake_stages(monkeypatch, seen)
    out = tmp_path / "study"
    run_study(out=out, quick=True, seed=0)
    assert (out / "tuning" / "study" / "trial_seed0.json").exists()
    (out / "my_notes.txt").write_text("mine")
    run_study(out=out, quick=True, seed=1, restart=True)
    # the seed-1 search started from an empty project, not from seed 0's trials
    assert seen["tuning_before"] == []
    assert not (out / "tuning" / "study" / "trial_seed0.json").exists()
    assert (out / "my_notes.txt").read_text() == "mine"
    marker = json.loads((out / ".multidigit-study.json").read_text())
    assert marker["dirs"] == ["tuning"]
    assert {"metrics.json", "report.html", "model.keras", "figures/comparison.png",
            "stages/tuning.json"} <= set(marker["files"])


def test_resume_refuses_to_overwrite_a_user_file(tmp_path, monkeypatch):
    _fake_stages(monkeypatch, {})
    out = tmp_path / "study"
    StudyFolder(out, StudyConfig.make(quick=True))  # a study folder, no stage done
    (out / "figures").mkdir()
    (out / "figures" / "samples_train.png").write_bytes(b"mine")
    with pytest.raises(DataError, match="samples_train.png.*not written by multidigit"):
        run_study(out=out, quick=True)
    assert (out / "figures" / "samples_train.png").read_bytes() == b"mine"


def test_stale_temporaries_of_killed_writes_are_removed(tmp_path):
    out = tmp_path / "study"
    folder = StudyFolder(out, StudyConfig.make(quick=True))
    folder.claim("figures/comparison.png")
    (out / "figures").mkdir()
    stale = out / "figures" / ".comparison.pngk3j4x9_a.png"   # a killed savefig
    stale.write_bytes(b"")
    part = out / "stages" / ".config.jsonab12cd34.part"        # a killed JSON write
    part.write_bytes(b"")
    other = out / "figures" / ".mine.png"                       # not the study's
    other.write_bytes(b"")
    StudyFolder(out, StudyConfig.make(quick=True))
    assert not stale.exists() and not part.exists()
    assert other.exists()


def test_failed_figure_write_leaves_no_png(tmp_path):
    class Boom(Exception):
        pass

    import matplotlib.pyplot as plt

    def savefig(path, **kw):  # dies half-way through the PNG
        path.write_bytes(b"\x89PNG half")
        raise Boom

    fig = plt.figure()
    fig.savefig = savefig
    folder = StudyFolder(tmp_path / "study", StudyConfig.make(quick=True))
    with pytest.raises(Boom):
        folder.figure(fig, "comparison")
    assert list((tmp_path / "study" / "figures").glob("*")) == []


def test_figure_is_written_as_png(tmp_path):
    import matplotlib.pyplot as plt

    folder = StudyFolder(tmp_path / "study", StudyConfig.make(quick=True))
    name = folder.figure(plt.figure(), "comparison")
    assert name == "comparison.png"
    assert (folder.fig_dir / name).read_bytes().startswith(b"\x89PNG")


def test_resume_on_changed_data_is_refused(tmp_path, monkeypatch):
    seen: dict = {}
    _fake_stages(monkeypatch, seen)
    out = tmp_path / "study"
    run_study(out=out, quick=True)
    saved = json.loads((out / "stages" / "data.json").read_text())
    assert len(saved["fingerprint"]) == 64
    run_study(out=out, quick=True)  # same data: resumes
    seen["pixel"] = 1.0  # same settings, other images
    with pytest.raises(MultidigitError, match="data of .* changed.*--restart"):
        run_study(out=out, quick=True)
    run_study(out=out, quick=True, restart=True)


def test_fingerprint_depends_on_images_and_labels():
    a, b = _fake_data(0.0), _fake_data(0.0)
    assert S.data_fingerprint(a) == S.data_fingerprint(b)
    b.splits["test"] = SimpleNamespace(images=b.splits["test"].images,
                                       labels=np.ones((2, 3), "int64"))
    assert S.data_fingerprint(a) != S.data_fingerprint(b)
    assert S.data_fingerprint(a) != S.data_fingerprint(_fake_data(0.5))


# ---------------------------------------------------------------- issue 26
@pytest.mark.parametrize("files,dirs", [
    (["../victim/thesis.tex"], []),
    ([], ["../victim2"]),
    (["ABSOLUTE"], []),
    (["link/thesis.tex"], []),
    ([], ["link"]),
])
def test_restart_deletes_nothing_outside_the_folder(tmp_path, files, dirs):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.tex").write_text("mine")
    victim2 = tmp_path / "victim2"
    victim2.mkdir()
    (victim2 / "data.csv").write_text("mine")
    out = tmp_path / "study"
    StudyFolder(out, StudyConfig.make(quick=True))
    (out / "link").symlink_to(victim)
    files = [str(victim / "thesis.tex") if f == "ABSOLUTE" else f for f in files]
    marker = out / ".multidigit-study.json"
    manifest = json.loads(marker.read_text())
    manifest["files"] += files
    manifest["dirs"] += dirs
    marker.write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="not a path inside the folder"):
        StudyFolder(out, StudyConfig.make(quick=True), restart=True)
    assert (victim / "thesis.tex").read_text() == "mine"
    assert (victim2 / "data.csv").read_text() == "mine"


_HOLDER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from multidigit.study import StudyConfig\n"
    "from multidigit.study.folder import StudyFolder\n"
    "f = StudyFolder(Path(sys.argv[1]), StudyConfig.make(quick=True))\n"
    "print('locked', flush=True)\n"
    "time.sleep(60)\n"
)


def test_two_studies_on_one_folder_get_one_clear_error(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "study"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(DataError, match="another study is writing here"):
            StudyFolder(out, StudyConfig.make(quick=True))
    finally:
        holder.kill()  # SIGKILL: the lock dies with its process
        holder.wait()
    StudyFolder(out, StudyConfig.make(quick=True)).close()
    StudyFolder(out, StudyConfig.make(quick=True), restart=True)  # no stale lock


def _snapshot(folder) -> dict:
    """Every path under ``folder`` with its bytes (files) and its mtime."""
    return {p.relative_to(folder).as_posix():
            (p.read_bytes() if p.is_file() else None, p.lstat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("restart", [False, True])
def test_cli_on_a_finished_study_on_a_read_only_disk_changes_nothing(
        tmp_path, monkeypatch, capsys, read_only, restart):
    """Issue 26: ``multidigit study --out DIR`` (and ``--restart``) where DIR is a
    finished study on a read-only filesystem: one line, exit 2, DIR unchanged."""
    from multidigit.cli import main

    _fake_stages(monkeypatch, {})
    out = tmp_path / "study"
    argv = ["study", "--out", str(out), "--quick"]
    assert main(argv) == 0  # a finished study (its stages faked)
    (out / "my_notes.txt").write_text("mine")
    assert {"metrics.json", "report.html", ".multidigit-study.json"} <= set(_snapshot(out))
    before = _snapshot(out)
    capsys.readouterr()
    read_only(out)
    rc = main(argv + (["--restart"] if restart else []))
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("multidigit: error: ") and "read-only" in err.lower()
    assert _snapshot(out) == before
