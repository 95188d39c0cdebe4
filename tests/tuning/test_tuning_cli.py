"""``multidigit tune``: a tiny search, bad search spaces, distributed chief and workers."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys

import pytest

from multidigit.cli import main

TINY_CLI = ["tune", "--data", "mini", "--images-per-class", "1", "--image-size", "28",
            "--tuner", "random", "--max-trials", "1", "--epochs", "1"]


def test_cli_runs_a_tiny_search_and_no_resume_keeps_user_files(tmp_path, capsys):
    tmp_path = tmp_path / ("a_long_folder_name_" * 5)  # its path is wider than 80 columns
    stale = tmp_path / "cli" / "trial_9"
    stale.mkdir(parents=True)  # --no-resume starts afresh: the tuner's old folders go
    (tmp_path / "cli" / "README.txt").write_text("mine")  # ... but not the user's files
    rc = main(TINY_CLI + ["--no-resume", "--search-space", "tiny", "--directory",
                          str(tmp_path), "--project-name", "cli"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "best val_loss" in captured.out and "conv_1=" in captured.out
    # said what it kept, with the whole path on one line (rich would wrap it at 80)
    assert str(tmp_path / "cli" / "README.txt") in captured.out
    assert (tmp_path / "cli" / "oracle.json").exists() and not stale.exists()
    assert (tmp_path / "cli" / "README.txt").read_text() == "mine"


def test_cli_search_space_as_json_string(tmp_path, capsys):
    space = json.dumps({"conv_1": {"type": "choice", "values": [4]},
                        "preset": {"type": "fixed", "value": "small"}})
    assert main(TINY_CLI + ["--search-space", space, "--directory", str(tmp_path)]) == 0
    assert "conv_1=4" in capsys.readouterr().out


@pytest.mark.parametrize("space, message", [
    ("nope", "unknown search space 'nope'"),
    ('{"conv_1": {"type": "int", "min": 4,', "the --search-space JSON string is not valid JSON"),
    ('{"conv_1": {"type": "int", "min": 4}}', "missing ['max']"),
    ("FILE", "is not valid JSON"),
])
def test_cli_bad_search_space_gives_one_line_and_exit_2(tmp_path, capsys, space, message):
    if space == "FILE":
        path = tmp_path / "space.json"
        path.write_text('{"conv_1": {"type": "int", "min": 4 "max": 8}}')
        space = str(path)
    rc = main(["tune", "--search-space", space, "--directory", str(tmp_path / "t")])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_resume_with_another_seed_is_refused(tmp_path, capsys):
    args = TINY_CLI + ["--search-space", "tiny", "--directory", str(tmp_path)]
    assert main(args) == 0
    assert main(args + ["--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert "seed was 0, now 1" in err and "--no-resume" in err


def test_cli_on_a_read_only_filesystem_gives_one_line_and_exit_2(tmp_path, capsys, read_only):
    """Issue 26: ``tune --directory DIR`` on a read-only filesystem: one line, exit 2."""
    read_only(tmp_path)
    rc = main(TINY_CLI + ["--search-space", "tiny", "--directory", str(tmp_path / "t")])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("multidigit: error: ") and "read-only" in err.lower()
    assert str(tmp_path / "t") in err
    # no file was written (older keras-tuner versions make the empty folder through
    # tf.io.gfile, which the read_only fixture cannot stop; a real read-only disk would)
    assert [p for p in tmp_path.rglob("*") if not p.is_dir()] == []


def _read_only_gfile(monkeypatch, root) -> None:
    """keras-tuner writes through ``tf.io.gfile``, which the ``read_only`` fixture's ``os``
    patches do not reach: refuse its writes under ``root`` the way TensorFlow does."""
    import tensorflow as tf

    gfile, real_gfile = tf.io.gfile, tf.io.gfile.GFile

    def refuse(path):
        if os.path.abspath(os.fsdecode(path)).startswith(str(root)):
            raise tf.errors.PermissionDeniedError(
                None, None, f"{path}; {os.strerror(errno.EROFS)}")

    def makedirs(path):
        refuse(path)

    def open_(path, mode="r"):
        if any(c in mode for c in "wa+"):
            refuse(path)
        return real_gfile(path, mode)

    for name in ("makedirs", "mkdir", "remove", "rmtree", "rename", "copy"):
        monkeypatch.setattr(gfile, name, lambda path, *a, **k: refuse(path))
    monkeypatch.setattr(gfile, "makedirs", makedirs)
    monkeypatch.setattr(gfile, "GFile", open_)


def test_cli_resuming_on_a_read_only_filesystem_gives_one_line(tmp_path, capsys,
                                                                monkeypatch, read_only):
    """Issue 26: a finished search resumed with more trials on a read-only filesystem;
    keras-tuner's TensorFlow ``PermissionDeniedError`` was a raw traceback."""
    args = TINY_CLI + ["--search-space", "tiny", "--directory", str(tmp_path)]
    assert main(args) == 0
    before = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    capsys.readouterr()
    read_only(tmp_path)
    _read_only_gfile(monkeypatch, tmp_path)
    rc = main(args[:args.index("--max-trials")] + ["--max-trials", "2"]
              + args[args.index("--max-trials") + 2:])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "read-only" in err and "run again to resume" in err
    assert {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()} == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_distributed_chief_and_two_workers(tiny_ds, tmp_path):  # tiny_ds: warm cache
    """A real keras-tuner chief oracle (gRPC) and two worker processes on 127.0.0.1."""
    from multidigit.tuning.tuner import SIDECAR

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
        outs = {name: p.communicate(timeout=1800)[0] for name, p in procs.items()}
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
        side = json.loads((d / SIDECAR).read_text())
        trials[trial["trial_id"]] = (trial["status"], side["tuner_id"])
    assert len(trials) == 3, trials  # none lost
    assert {s for s, _ in trials.values()} == {"COMPLETED"}
    assert {w for _, w in trials.values()} == {"tuner0", "tuner1"}  # both worked
    assert "best val_loss" in outs["--chief"]
    for w in ("0", "1"):
        assert f"tuner{w}" in outs[f"--worker {w}"]
