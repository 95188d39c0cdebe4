""":func:`export_dataset`: write a dataset as PNG folders in the published layout."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .._param_validation import check_bool, check_int, fail
from .._progress import progress_bar
from ..errors import DataError
from .dataset import MultiDigitDataset
from .decoding import parallel_ranges

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


def export_dataset(
    ds: MultiDigitDataset,
    root: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    workers: int | None = None,
    progress: bool = False,
) -> Path:
    """Write a dataset as PNGs in the published layout ``ROOT/split/label/k_label.png``.

    The folder is written next to ``root`` and moved into place at the end, so an
    interrupted export never leaves a half-written dataset.

    Examples
    --------
    >>> import multidigit as md, tempfile
    >>> ds = md.load_dataset(images_per_class=1, use_cache=False)   # doctest: +SKIP
    >>> md.export_dataset(ds, tempfile.mkdtemp() + "/triple")      # doctest: +SKIP
    """
    from PIL import Image

    func = "export_dataset"
    if not isinstance(ds, MultiDigitDataset):
        raise fail("ds", "a MultiDigitDataset (from load_dataset)", type(ds).__name__, func)
    check_bool("overwrite", overwrite, func=func)
    check_int("workers", workers, min=1, none_ok=True, func=func)
    check_bool("progress", progress, func=func)
    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise DataError(f"{str(root)!r} is a file; export_dataset writes a folder: "
                        "choose another path.")
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise DataError(
            f"{str(root)!r} already exists and is not empty; choose another folder "
            "or pass overwrite=True."
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}-"))
    try:
        jobs = _png_jobs(ds, tmp)
        for d in {p.parent for p, _ in jobs}:
            d.mkdir(parents=True, exist_ok=True)
        with progress_bar(progress, f"Writing {len(jobs)} PNGs", len(jobs)) as advance:

            def work(lo: int, hi: int) -> None:
                for p, img in jobs[lo:hi]:
                    Image.fromarray(img, mode="L").save(p, optimize=False, compress_level=1)
                advance(hi - lo)

            parallel_ranges(len(jobs), work, workers or os.cpu_count() or 1)
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root
