"""Tests of multidigit.data.export: the published layout, written atomically."""

from __future__ import annotations

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
