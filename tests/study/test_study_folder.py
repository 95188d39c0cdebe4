"""The study's output folder: nothing of the user's is overwritten or deleted (issue 16).

These tests stop the study right after its folder checks (the data loader raises),
so they run in a second and still go through the public :func:`run_study`.
"""

from __future__ import annotations

import json

import pytest

from multidigit import data as D
from multidigit.errors import DataError, MultidigitError
from multidigit.study import run_study


class _Stop(Exception):
    """Raised instead of loading data: the folder checks are done by then."""


@pytest.fixture
def stop_at_data(monkeypatch):
    def stop(*a, **k):
        raise _Stop

    monkeypatch.setattr(D, "load_dataset", stop)


def _start(out, **kw):
    with pytest.raises(_Stop):
        run_study(out=out, quick=True, **kw)


def test_existing_folder_of_user_files_is_refused(tmp_path, stop_at_data):
    out = tmp_path / "results"
    out.mkdir()
    (out / "report.html").write_text("my own report")
    (out / "figures").mkdir()
    (out / "figures" / "comparison.png").write_bytes(b"mine")
    with pytest.raises(DataError, match="not written by multidigit study"):
        run_study(out=out, quick=True)
    assert (out / "report.html").read_text() == "my own report"
    assert (out / "figures" / "comparison.png").read_bytes() == b"mine"
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html"]


def test_new_and_empty_folders_are_accepted(tmp_path, stop_at_data):
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "new" / "nested", empty):
        _start(out)
        assert (out / "stages" / "config.json").is_file()
        marker = json.loads((out / ".multidigit-study.json").read_text())
        assert marker["files"] == ["stages/config.json"]
        _start(out)  # and a folder the study made is accepted again


def test_restart_deletes_only_what_the_study_wrote(tmp_path, stop_at_data):
    out = tmp_path / "study"
    _start(out)
    (out / "stages" / "my_notes.json").write_text("{}")
    (out / "notes.txt").write_text("mine")
    _start(out, restart=True)
    assert (out / "stages" / "my_notes.json").read_text() == "{}"
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "stages" / "config.json").is_file()


def test_output_path_that_is_a_file(tmp_path, stop_at_data):
    out = tmp_path / "study"
    out.write_text("not a folder")
    with pytest.raises(DataError, match="is a file"):
        run_study(out=out, quick=True)
    assert out.read_text() == "not a folder"


@pytest.mark.parametrize("content", ["{not json", "", "\xff"])
def test_corrupt_config_is_one_clear_error(tmp_path, stop_at_data, content):
    out = tmp_path / "study"
    _start(out)
    (out / "stages" / "config.json").write_text(content, encoding="latin-1")
    with pytest.raises(DataError, match="--restart"):
        run_study(out=out, quick=True)
    _start(out, restart=True)  # the way out the message names works
    assert json.loads((out / "stages" / "config.json").read_text())["quick"] is True


def test_other_settings_name_what_changed(tmp_path, stop_at_data):
    out = tmp_path / "study"
    _start(out, seed=0)
    with pytest.raises(MultidigitError, match=r"seed: 0 -> 1.*--restart"):
        run_study(out=out, quick=True, seed=1)
    _start(out, seed=1, restart=True)
    assert json.loads((out / "stages" / "config.json").read_text())["seed"] == 1


def test_stage_messages_keep_a_long_path_on_one_line(tmp_path):
    """rich wraps at the console width (80 in CI); a path split over two lines cannot
    be copied.  The study's messages are printed unwrapped."""
    import io

    from rich.console import Console

    from multidigit.study.config import StudyConfig
    from multidigit.study.folder import StudyFolder

    out = io.StringIO()
    console = Console(file=out, width=40, force_terminal=False)
    folder = StudyFolder(tmp_path / "study", StudyConfig.make(quick=True), console=console)
    path = tmp_path / ("a_long_folder_name_" * 4) / "report.html"
    folder.say(f"[bold green]report[/bold green]: {path}")
    assert f"report: {path}" in out.getvalue()
