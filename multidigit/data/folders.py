"""The folder source: ``ROOT/{train,val,test}/<label>/<k>_<label>.png``.

The published Triple MNIST layout: ``<label>`` is the digit string shown in the image
(``"042"``), the folder decides the label.  File names that carry a label of their
own (``<k>_<label>.png``) are checked against the folder; a disagreement is warned
about, naming the files.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from multidigit._param_validation import Free, validate_params
from multidigit._progress import progress_bar
from multidigit.data import cache
from multidigit.data._warn import warn_user
from multidigit.data.dataset import SPLITS
from multidigit.data.decoding import decode_files
from multidigit.errors import DataError

__all__ = ["LabelMismatchWarning", "iter_image_paths"]

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
#: ``<k>_<label>.<ext>``: the published file names, which repeat the folder's label.
_NAMED_LABEL = re.compile(r"^[^_]*_(\d+)\.[A-Za-z]+$")


class LabelMismatchWarning(UserWarning):
    """A file's name carries another label than the folder it lies in."""


@dataclass
class _FolderListing:
    files: dict[str, list[tuple[str, str]]]
    n_digits: int
    fingerprint: str


def _bad_entry(path: str, what: str, fix: str) -> DataError:
    return DataError(f"{path!r} is {what}; {fix}")


def _kind(entry: os.DirEntry) -> str:
    """``"dir"``, ``"file"`` or ``"bad"`` (broken link, symlink loop, socket...)."""
    try:
        return "dir" if entry.is_dir() else "file" if entry.is_file() else "bad"
    except OSError:  # ELOOP: DirEntry.is_dir only swallows "no such file"
        return "bad"


_BAD_LINK = "a broken or looping symbolic link (or not a regular file)"


def _label_files(label_dir: os.DirEntry, split: str) -> list[str]:
    """Sorted file names in one label folder; refuses sub-folders and bad links."""
    with os.scandir(label_dir.path) as it:
        entries = [e for e in it if not e.name.startswith(".")]
    for e in entries:
        kind = _kind(e)
        if kind == "dir":
            raise _bad_entry(e.path, "a folder inside a label folder",
                             f"{split}/{label_dir.name}/ must hold image files only: "
                             "move its images up or remove it.")
        if kind == "bad":
            raise _bad_entry(e.path, _BAD_LINK, "point it at an image file or remove it.")
        if not e.name.isascii():
            try:
                e.name.encode("utf-8")
            except UnicodeEncodeError:
                raise _bad_entry(e.path, "a file name that is not valid UTF-8",
                                 "rename the file (e.g. with only ASCII letters and "
                                 "digits).") from None
    return sorted(e.name for e in entries)


def _label_dirs(sdir: Path, split: str, n_digits: int | None) -> list[os.DirEntry]:
    """The label folders of one split, sorted; each must be an ``n_digits`` label."""
    with os.scandir(sdir) as it:
        dirs = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
    for entry in dirs:
        kind = _kind(entry)
        if kind == "bad":
            raise _bad_entry(entry.path, _BAD_LINK, "point it at a label folder or remove it.")
        if kind == "file":
            raise _bad_entry(entry.path, "a file where a label folder was expected",
                             f"{split}/ must only hold folders named by their digit "
                             "label (e.g. '042').")
        n = n_digits or len(dirs[0].name)
        if not re.fullmatch(rf"\d{{{n}}}", entry.name):
            raise DataError(
                f"folder {entry.path!r} is not a {n}-digit label; every "
                f"folder under {split}/ must be named by the digits in its images, "
                "like '042'. Rename or remove it."
            )
    return dirs


def _warn_mismatches(mismatched: list[str]) -> None:
    if mismatched:
        warn_user(
            f"{len(mismatched)} file(s) carry another label in their name than their "
            f"folder (e.g. {', '.join(repr(p) for p in mismatched[:3])}); the folder's "
            "label is used. Move each file into the folder of its label, or rename it.",
            LabelMismatchWarning,
        )


def _check_root(root: Path) -> None:
    if root.is_symlink() and not root.exists():
        raise _bad_entry(str(root), "a broken or looping symbolic link",
                         "pass the folder that holds train/, val/ and test/.")
    if not root.exists():
        raise DataError(
            f"dataset folder {str(root)!r} does not exist; pass the folder that holds "
            "train/, val/ and test/ (or use source='mini' for the offline dataset)."
        )
    if not root.is_dir():
        raise DataError(f"{str(root)!r} is not a folder; pass the dataset root folder.")


def _list_folder(root: Path, n_digits: int | None) -> _FolderListing:
    """List ``root/{train,val,test}/<label>/*`` and fingerprint it for the cache.

    The fingerprint covers every file name and the modification time of every
    folder (adding, removing or renaming a file changes it) but does not stat each
    file: that would cost more than the cached load itself.  A file whose content is
    rewritten in place under the same name is therefore not noticed; load with
    ``use_cache=False`` (or clear the cache) after such an edit.
    """
    _check_root(root)
    files: dict[str, list[tuple[str, str]]] = {}
    digest = hashlib.sha256(str(root.resolve()).encode())
    mismatched: list[str] = []
    for split in SPLITS:
        sdir = root / split
        if not sdir.is_dir():
            found = sorted(p.name for p in root.iterdir() if p.is_dir())
            raise DataError(
                f"split folder {str(sdir)!r} is missing (found: {found or 'nothing'}); "
                "a Triple MNIST root must hold train/, val/ and test/ sub-folders."
            )
        digest.update(f"{split}:{sdir.stat().st_mtime_ns};".encode())
        entries: list[tuple[str, str]] = []
        for entry in _label_dirs(sdir, split, n_digits):
            name = entry.name
            n_digits = len(name)
            names = _label_files(entry, split)
            digest.update(f"{name}:{entry.stat().st_mtime_ns}:{'/'.join(names)};".encode())
            prefix = entry.path + os.sep
            entries.extend((prefix + n, name) for n in names)
            for n in names:
                m = _NAMED_LABEL.match(n)
                if m and len(m.group(1)) == len(name) and m.group(1) != name:
                    mismatched.append(prefix + n)
        if not entries:
            raise DataError(
                f"split folder {str(sdir)!r} holds no images; every split needs at least "
                "one <label>/<file>.png."
            )
        files[split] = entries
    _warn_mismatches(mismatched)
    assert n_digits is not None
    return _FolderListing(files, n_digits, digest.hexdigest()[:20])


def load_folder(
    root: Path,
    image_size: tuple[int, int] | None,
    cache_dir: Path | None,
    n_digits: int | None,
    workers: int,
    progress: bool,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """Decode a dataset folder (or read it from the cache): uint8 splits and info."""
    listing = _list_folder(root, n_digits)
    key = cache.cache_key({"kind": "folder", "fp": listing.fingerprint, "size": image_size})
    cache_path = cache_dir / f"folder-{key}.npz" if cache_dir is not None else None
    cached = cache.load_cached(cache_path)
    if cached is not None:
        return cached, {"cached": True}
    total = sum(len(v) for v in listing.files.values())
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with progress_bar(progress, f"Decoding {total} images from {root}", total) as advance:
        for s in SPLITS:
            arrays[s] = decode_files(listing.files[s], image_size, workers, advance)
    shapes = {arrays[s][0].shape[1:] for s in SPLITS}
    if len(shapes) > 1 and image_size is None:
        raise DataError(
            f"the splits hold images of different sizes {sorted(shapes)}; pass "
            "image_size=(H, W) to resize them all."
        )
    # Uncompressed: a cached reload is then a plain read, 30x+ faster than decoding.
    cache.save_cached(cache_path, arrays, compressed=False)
    return arrays, {"cached": False}


@validate_params({"paths": Free("file and folder paths; a missing one raises DataError")})
def iter_image_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and folders into a sorted list of image files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "b.png").write_bytes(b""), (d / "a.png").write_bytes(b""), (d / "x.txt").write_text("")
    >>> [p.name for p in iter_image_paths([d])]
    ['a.png', 'b.png']
    """
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix.lower() in _IMAGE_SUFFIXES))
        elif p.exists():
            out.append(p)
        elif p.is_symlink():
            raise DataError(f"image file {str(p)!r} is a broken or looping symbolic link; "
                            "point it at an image file or remove it.")
        else:
            raise DataError(f"image file {str(p)!r} does not exist.")
    return out
