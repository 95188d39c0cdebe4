"""Tests of multidigit.data.hub, offline: the download is replaced by a local copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import multidigit as md
from multidigit.data import hub
from multidigit.errors import DataError


def _fake_download_factory(fixture: Path, archive: bool, calls: list):
    def fake(repo_id: str, cache_dir: Path) -> Path:
        calls.append(repo_id)
        dst = cache_dir / "hub" / repo_id.replace("/", "--")
        if dst.exists():
            return dst
        dst.mkdir(parents=True)
        if archive:
            shutil.make_archive(str(dst / "triple_mnist"), "zip", fixture.parent, fixture.name)
        else:
            shutil.copytree(fixture, dst / "data" / "triple_mnist")
        return dst

    return fake


@pytest.mark.parametrize("archive", [False, True])
def test_hub_source_offline(folder, tmp_path, monkeypatch, archive):
    calls: list = []
    monkeypatch.setattr(hub, "_hf_download", _fake_download_factory(folder, archive, calls))
    ds = md.load_dataset("hf://khushpatel2002/triple-mnist", cache_dir=tmp_path)
    assert calls == ["khushpatel2002/triple-mnist"]
    assert len(ds.train) == 640 and len(ds.test) == 200
    assert ds.source == "hf://khushpatel2002/triple-mnist"


def test_hub_download_uses_snapshot_download(tmp_path, monkeypatch):
    """The real download function calls huggingface_hub with a dataset repo type."""
    hf = pytest.importorskip("huggingface_hub")
    seen = {}

    def fake_snapshot(**kwargs):
        seen.update(kwargs)
        return str(tmp_path)

    monkeypatch.setattr(hf, "snapshot_download", fake_snapshot)
    assert hub._hf_download("a/b", tmp_path) == tmp_path
    assert seen["repo_id"] == "a/b" and seen["repo_type"] == "dataset"

    def failing(**kwargs):
        raise OSError("offline")

    monkeypatch.setattr(hf, "snapshot_download", failing)
    with pytest.raises(DataError, match="could not download"):
        hub._hf_download("a/b", tmp_path)


def test_hub_download_without_layout(tmp_path, monkeypatch):
    def fake(repo_id, cache_dir):
        d = tmp_path / "dl"
        d.mkdir(exist_ok=True)
        (d / "README.md").write_text("nothing here")
        return d

    monkeypatch.setattr(hub, "_hf_download", fake)
    with pytest.raises(DataError, match="not laid out like Triple MNIST"):
        md.load_dataset("hf://a/b", cache_dir=tmp_path / "c")
