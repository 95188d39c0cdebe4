""":func:`export_dataset`: write a dataset as PNG folders in the published layout."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from multidigit._io import swap_folder
from multidigit._param_validation import Body, Bool, Int, fail, validate_params
from multidigit._progress import progress_bar
from multidigit.data.dataset import MultiDigitDataset
from multidigit.data.decoding import parallel_ranges
from multidigit.errors import DataError

__all__ = ["export_dataset"]


def _png_jobs(ds: MultiDigitDataset, tmp: Path) -> list[tuple[Path, np.ndarray]]:
    """``(path, uint8 image)`` for every image: ``tmp/split/label/k_label.png``."""
    jobs: list[tuple[Path, np.ndarray]] = []
    for s, split in ds.splits.items():
        counts: dict[str, int] = {}
        pixels = np.clip(np.rint(split.images[..., 0] * 255.0), 0, 255).astype(np.uint8)
        for img, label in zip(pixels, split.label_strings):
            k = counts.get(label, 0)
            counts[label] = k + 1
            jobs.append((tmp / s / label / f"{k}_{label}.png", img))
    return jobs


@validate_params({
    "ds": Body("a MultiDigitDataset"),
    "root": Body("a folder path, not a symbolic link nor the current folder"),
    "overwrite": Bool(),
    "workers": Int(min=1, none_ok=True),
    "progress": Bool(),
})
def export_dataset(
    ds: MultiDigitDataset,
    root: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    workers: int | None = None,
    progress: bool = False,
) -> Path:
    """Write a dataset as PNGs in the published layout ``ROOT/split/label/k_label.png``.

    The folder is written next to ``root`` and swapped into place at the end, so an
    interrupted export never leaves a half-written dataset.  ``overwrite=True``
    replaces an earlier export and keeps every file in it that the export did not
    write (your notes); ``root`` must not be the current folder or a symbolic link.

    Examples
    --------
    >>> import multidigit as md, tempfile
    >>> ds = md.load_dataset(images_per_class=1, use_cache=False)   # doctest: +SKIP
    >>> md.export_dataset(ds, tempfile.mkdtemp() + "/triple")      # doctest: +SKIP
    """
    from PIL import Image

    if not isinstance(ds, MultiDigitDataset):
        raise fail("ds", "a MultiDigitDataset (from load_dataset)", type(ds).__name__)
    root = _check_root(root, overwrite)
    with swap_folder(root, keep=_not_ours if overwrite else None) as tmp:
        jobs = _png_jobs(ds, tmp)
        for d in {p.parent for p, _ in jobs}:
            d.mkdir(parents=True, exist_ok=True)
        with progress_bar(progress, f"Writing {len(jobs)} PNGs", len(jobs)) as advance:

            def work(lo: int, hi: int) -> None:
                for p, img in jobs[lo:hi]:
                    Image.fromarray(img, mode="L").save(p, optimize=False, compress_level=1)
                advance(hi - lo)

            parallel_ranges(len(jobs), work, workers or os.cpu_count() or 1)
    return root


#: What an export writes: split folders, label folders, ``k_label.png`` files.
_OURS = re.compile(r"^(train|val|test)(/(\d+)(/\d+_\3\.png)?)?$")


def _not_ours(rel: str) -> bool:
    """An entry of an earlier export folder that export did not write (kept on overwrite)."""
    return _OURS.match(rel) is None


def _check_root(root: str | os.PathLike[str], overwrite: bool) -> Path:
    """The export folder, refused where writing it would lose or hide anything."""
    if not isinstance(root, (str, os.PathLike)) or not os.fspath(root):
        raise fail("root", "a folder path", repr(root))
    root = Path(os.path.abspath(Path(root).expanduser()))
    if root.is_symlink():
        raise DataError(f"{str(root)!r} is a symbolic link; export_dataset replaces the "
                        "folder it names: give the real folder path instead.")
    if root.exists() and not root.is_dir():
        raise DataError(f"{str(root)!r} is a file; export_dataset writes a folder: "
                        "choose another path.")
    cwd = Path.cwd()
    if root == cwd or root in cwd.parents:
        raise DataError(f"{str(root)!r} is the current folder or holds it; export into a "
                        "new folder below it instead.")
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise DataError(
            f"{str(root)!r} already exists and is not empty; choose another folder "
            "or pass overwrite=True (it replaces an earlier export and keeps your "
            "other files)."
        )
    return root
