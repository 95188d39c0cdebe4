"""The Hugging Face hub source: ``"hf://owner/name"``, a dataset repository laid out
like Triple MNIST (plain folders, or an archive holding them)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from multidigit._io import swap_folder
from multidigit.data._warn import warn_user
from multidigit.data.cache import CacheWarning
from multidigit.data.dataset import SPLITS
from multidigit.data.folders import load_folder
from multidigit.errors import DataError

__all__ = ["HF_PREFIX", "load_hub"]

HF_PREFIX = "hf://"


def _hf_download(repo_id: str, cache_dir: Path) -> Path:
    """Download a dataset repository from the Hugging Face hub; returns its local path.

    Tests replace this function with one that copies a local fixture (no network).
    """
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:
        raise DataError(
            "hf:// sources need huggingface_hub: `pip install 'multidigit[hub]'`."
        ) from exc
    try:
        path = snapshot_download(
            repo_id=repo_id, repo_type="dataset", cache_dir=str(cache_dir / "hub")
        )
    except Exception as exc:
        raise DataError(
            f"could not download {repo_id!r} from the Hugging Face hub "
            f"({type(exc).__name__}: {exc}); check the name and your network, or "
            "download it yourself and pass the folder path."
        ) from exc
    return Path(path)


def _is_archive(p: Path) -> bool:
    name = p.name.lower()
    return name.endswith((".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))


def _search_root(base: Path) -> Path | None:
    """The folder under ``base`` that holds train/, val/ and test/, if any."""
    if all((base / s).is_dir() for s in SPLITS):
        return base
    for cand in sorted(base.rglob("train")):
        parent = cand.parent
        if all((parent / s).is_dir() for s in SPLITS):
            return parent
    return None


def _unpack(archive: Path, extract_dir: Path) -> Path:
    """Unpack ``archive`` once into ``extract_dir`` (atomically: a temp folder renamed)."""
    target = extract_dir / archive.name.split(".")[0]
    if not target.exists():
        with swap_folder(target) as tmp:
            shutil.unpack_archive(str(archive), str(tmp))
    return target


def _find_root(path: Path, extract_dir: Path) -> Path:
    """Find the folder holding train/ val/ test/ in a download, unpacking archives."""
    found = _search_root(path)
    if found is not None:
        return found
    archives = [p for p in sorted(path.rglob("*")) if p.is_file() and _is_archive(p)]
    for archive in archives:
        found = _search_root(_unpack(archive, extract_dir))
        if found is not None:
            return found
    raise DataError(
        f"the download in {str(path)!r} holds no train/, val/ and test/ folders "
        "(nor an archive with them); it is not laid out like Triple MNIST."
    )


def _download_base(cache_dir: Path | None) -> Path:
    """A writable folder for the download: the cache, else a temporary folder."""
    if cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            if os.access(cache_dir, os.W_OK):
                return cache_dir
        except OSError:
            pass
        warn_user(
            f"the cache folder {str(cache_dir)!r} is not writable; downloading into a "
            "temporary folder instead (it is not kept).", CacheWarning)
    return Path(tempfile.mkdtemp(prefix="multidigit-"))


def load_hub(
    src: str,
    image_size: tuple[int, int] | None,
    cache_dir: Path | None,
    n_digits: int | None,
    workers: int,
    progress: bool,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """Download ``hf://owner/name`` (once) and load it as a folder source."""
    repo_id = src[len(HF_PREFIX) :].strip("/")
    if repo_id.count("/") != 1:
        raise DataError(
            f"hub source {src!r} must look like 'hf://owner/name' "
            "(e.g. 'hf://khushpatel2002/triple-mnist')."
        )
    base = _download_base(cache_dir)
    local = _hf_download(repo_id, base)
    extract = base / "extracted" / repo_id.replace("/", "--")
    extract.mkdir(parents=True, exist_ok=True)
    root = _find_root(local, extract)
    raw, info = load_folder(root, image_size, cache_dir, n_digits, workers, progress)
    info["path"] = str(root)
    return raw, info
