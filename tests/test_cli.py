"""The command line: one-line errors, no TensorFlow chatter, study wiring."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from multidigit import cli

ROOT = Path(__file__).resolve().parents[1]


def _one_line_error(capsys, argv, fragment):
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("multidigit: error:") and fragment in lines[0]
    assert "Traceback" not in err


def test_study_output_path_that_is_a_file(tmp_path, capsys):
    out = tmp_path / "report"
    out.write_text("mine")
    _one_line_error(capsys, ["study", "--quick", "--out", str(out)], "is a file")
    assert out.read_text() == "mine"


def test_study_corrupt_config(tmp_path, capsys):
    from multidigit.study import StudyConfig
    from multidigit.study.folder import StudyFolder

    out = tmp_path / "study"
    StudyFolder(out, StudyConfig.make(quick=True))
    (out / "stages" / "config.json").write_text("{truncated")
    _one_line_error(capsys, ["study", "--quick", "--out", str(out)], "--restart")


def test_study_folder_of_user_files(tmp_path, capsys):
    (tmp_path / "metrics.json").write_text("{}")
    _one_line_error(capsys, ["study", "--quick", "--out", str(tmp_path)],
                    "not written by multidigit study")
    assert (tmp_path / "metrics.json").read_text() == "{}"


def test_study_command_passes_its_options(monkeypatch):
    from multidigit import study

    seen = {}
    monkeypatch.setattr(study, "run_study", lambda *a, **k: seen.update(args=a, kw=k))
    assert cli.main(["study", "--quick", "--seed", "3", "--restart", "--out", "x"]) == 0
    assert seen["args"] == ("mini", "x")
    assert seen["kw"] == {"quick": True, "seed": 3, "full_tuning": False, "restart": True,
                          "progress": True}


def test_filtered_stderr_drops_only_the_chatter(capfd):
    with cli._filtered_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called "
                    b"are written to STDERR\n")
        os.write(2, b"I0000 00:00:1.2 6980 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"a real error\n")
    err = capfd.readouterr().err
    assert err == "a real error\n"


def test_filtered_stderr_passes_the_lines_on_an_exception(capfd):
    with pytest.raises(RuntimeError), cli._filtered_stderr():
        os.write(2, b"why it failed\n")
        raise RuntimeError
    assert capfd.readouterr().err == "why it failed\n"


# The console of a whole `multidigit study --quick` in a fresh process (no TensorFlow
# chatter, 80 columns) is checked with README's study -> demo journey
# (tests/test_user_journeys.py), which runs that very command.


# ---------------------------------------------------------------- issue 26
def _full_disk(monkeypatch, code=28):
    import os

    from multidigit import _io

    def full(*a, **k):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(_io, "_new_temp", full)


@pytest.mark.parametrize("argv", [
    ["data", "generate", "OUT", "--images-per-class", "1"],
    ["data", "export", "OUT", "--data", "mini", "--images-per-class", "1"],
    ["study", "--out", "OUT", "--quick"],
])
@pytest.mark.parametrize("code", [28, 30])
def test_full_or_read_only_disk_gives_one_line_and_exit_2(tmp_path, monkeypatch, capsys,
                                                          argv, code):
    from multidigit.cli import main

    _full_disk(monkeypatch, code)
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert ("disk is full" if code == 28 else "read-only") in err


def test_tune_directory_that_is_a_file_gives_one_line(tmp_path, capsys):
    from multidigit.cli import main

    a_file = tmp_path / "file"
    a_file.write_text("mine")
    rc = main(["tune", "--data", "mini", "--images-per-class", "1", "--image-size", "28",
               "--max-trials", "1", "--epochs", "1", "--directory", str(a_file)])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert a_file.read_text() == "mine"
