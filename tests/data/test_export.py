"""Tests of multidigit.data.export: the published layout, written atomically."""

from __future__ import annotations

import os

import pytest
from PIL import Image

import multidigit as md
from multidigit.errors import DataError, ParameterError


def test_export_layout(folder):
    files = sorted((folder / "test").rglob("*.png"))
    assert len(files) == 200
    f = files[0]
    assert f.parent.name.isdigit() and len(f.parent.name) == 3
    assert f.name == f"0_{f.parent.name}.png"
    with Image.open(f) as im:
        assert im.mode == "L" and im.size == (84, 84)


def test_export_refuses_to_overwrite(folder, mini1, tmp_path):
    with pytest.raises(DataError, match="overwrite=True"):
        md.export_dataset(mini1, folder)
    a_file = tmp_path / "file"
    a_file.write_text("mine")
    with pytest.raises(DataError, match="is a file"):
        md.export_dataset(mini1, a_file, overwrite=True)
    assert a_file.read_text() == "mine"


def test_export_checks_its_arguments(mini1, tmp_path):
    with pytest.raises(ParameterError, match="ds must be a MultiDigitDataset"):
        md.export_dataset(mini1.train, tmp_path / "x")
    with pytest.raises(ParameterError, match="workers"):
        md.export_dataset(mini1, tmp_path / "x", workers=0)
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- issue 26
def test_export_to_the_empty_path_deletes_nothing(mini1, tmp_path, monkeypatch):
    """``export_dataset(ds, "", overwrite=True)`` deleted the current folder's files."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "thesis.tex").write_text("mine")
    for root in ("", ".", str(tmp_path), ".."):
        with pytest.raises((DataError, ParameterError)):
            md.export_dataset(mini1, root, overwrite=True)
    assert os.listdir(tmp_path) == ["thesis.tex"]


def test_overwrite_keeps_the_users_other_files(mini1, folder_copy):
    (folder_copy / "notes.txt").write_text("mine")
    (folder_copy / "test" / "README").write_text("also mine")
    (folder_copy / "extra" / "deep").mkdir(parents=True)
    (folder_copy / "extra" / "deep" / "x.png").write_bytes(b"png")
    stale = folder_copy / "val" / "9999"
    stale.mkdir()
    (stale / "0_9999.png").write_bytes(b"an old export's image")
    md.export_dataset(mini1, folder_copy, overwrite=True)
    assert (folder_copy / "notes.txt").read_text() == "mine"
    assert (folder_copy / "test" / "README").read_text() == "also mine"
    assert (folder_copy / "extra" / "deep" / "x.png").read_bytes() == b"png"
    assert not stale.exists()  # what an export wrote is replaced
    assert len(list((folder_copy / "test").rglob("*.png"))) == 200
    assert [n for n in os.listdir(folder_copy.parent) if n.startswith(".")] == []


def test_cli_generate_overwrite_keeps_the_users_files(tmp_path):
    from multidigit.cli import main

    out = tmp_path / "gen"
    args = ["data", "generate", str(out), "--images-per-class", "1"]
    assert main(args) == 0
    (out / "notes.txt").write_text("mine")
    assert main(args + ["--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "mine"


_EXPORT = (
    "import multidigit as md\n"
    "ds = md.load_dataset('mini', images_per_class=1, use_cache=False)\n"
    "md.export_dataset(ds, sys.argv[1], overwrite=True, workers=1)\n"
)


@pytest.mark.parametrize("step", ["carried", "swapped"])  # every step: test_atomic_io
def test_export_killed_keeps_a_whole_export_and_is_cleaned_up(mini1, folder_copy, step):
    """SIGKILL left the old export half deleted and the new one hidden, forever."""
    import subprocess
    import sys

    (folder_copy / "notes.txt").write_text("mine")
    before = sorted(p.relative_to(folder_copy) for p in folder_copy.rglob("*"))
    code = ("import os, signal, sys\nfrom multidigit import _io\n"
            "_io._step = lambda name: name == os.environ['KILL_AT'] and "
            "os.kill(os.getpid(), signal.SIGKILL)\n" + _EXPORT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), KILL_AT=step)
    rc = subprocess.run([sys.executable, "-c", code, str(folder_copy)], env=env).returncode
    assert rc == -9
    after = sorted(p.relative_to(folder_copy) for p in folder_copy.rglob("*"))
    assert after == before  # the same names, old or new: nothing half-done
    assert (folder_copy / "notes.txt").read_text() == "mine"
    md.export_dataset(mini1, folder_copy, overwrite=True)
    assert [n for n in os.listdir(folder_copy.parent) if n.startswith(".")] == []


def test_export_onto_a_symlink_or_a_long_name(mini1, folder, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(folder)
    with pytest.raises(DataError, match="symbolic link"):
        md.export_dataset(mini1, link, overwrite=True)
    long = tmp_path / ("d" * 250)
    md.export_dataset(mini1, long)
    assert len(list((long / "test").rglob("*.png"))) == 200
