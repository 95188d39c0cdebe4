"""The on-disk cache of generated and decoded datasets (one ``.npz`` per dataset).

A cache only ever saves time: a cache entry that cannot be read (corrupt, a folder,
other arrays inside, no permission) is a miss, and a cache that cannot be written
(read-only folder, full disk) means loading without caching.  Both say so with a
:class:`CacheWarning` instead of failing the load.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from multidigit._io import atomic_path
from multidigit._param_validation import validate_params
from multidigit.data._warn import warn_user
from multidigit.data.dataset import SPLITS

__all__ = ["CacheWarning", "default_cache_dir"]

#: Version of the on-disk cache layout; bump to invalidate old caches.
_CACHE_VERSION = 1


class CacheWarning(UserWarning):
    """The dataset cache could not be read or written; the load went on without it."""


@validate_params({})
def default_cache_dir() -> Path:
    """Where generated and decoded datasets are cached.

    ``$MULTIDIGIT_CACHE`` if set, else ``$XDG_CACHE_HOME/multidigit``, else
    ``~/.cache/multidigit``.

    Examples
    --------
    >>> default_cache_dir().name != ""
    True
    """
    env = os.environ.get("MULTIDIGIT_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "multidigit"


def cache_key(payload: Mapping[str, Any]) -> str:
    """A short hash of everything that determines a cached dataset."""
    text = json.dumps({"v": _CACHE_VERSION, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _flatten_splits(raw: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """``{"train": (x, y), ...}`` -> ``{"train_images": x, "train_labels": y, ...}``."""
    flat: dict[str, np.ndarray] = {}
    for s in SPLITS:
        flat[f"{s}_images"], flat[f"{s}_labels"] = raw[s]
    return flat


def _unflatten_splits(flat: Mapping[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Inverse of :func:`_flatten_splits`."""
    return {s: (flat[f"{s}_images"], flat[f"{s}_labels"]) for s in SPLITS}


_KEYS = frozenset(f"{s}_{kind}" for s in SPLITS for kind in ("images", "labels"))


def _miss(path: Path, why: str) -> None:
    warn_user(
        f"ignoring the dataset cache {str(path)!r}: {why}; the data are built afresh. "
        "Delete it (or pass use_cache=False) to silence this.",
        CacheWarning,
    )


def load_cached(path: Path | None) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """The cached splits at ``path``, or None on a miss (absent or unusable file)."""
    if path is None:
        return None
    if path.is_dir():
        _miss(path, "it is a folder, not a cache file")
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            flat = {k: z[k] for k in z.files}
    except FileNotFoundError:
        return None
    except PermissionError as exc:
        _miss(path, f"it cannot be read ({exc.strerror})")
        return None
    except Exception:  # a corrupt cache file is discarded and rebuilt
        try:
            path.unlink()
        except OSError:
            pass
        return None
    if set(flat) != _KEYS:
        _miss(path, f"it holds other arrays ({', '.join(sorted(flat)) or 'none'})")
        return None
    return _unflatten_splits(flat)


def save_cached(
    path: Path | None, raw: Mapping[str, tuple[np.ndarray, np.ndarray]], compressed: bool
) -> None:
    """Write ``raw`` to ``path`` atomically; on an OS error, warn and go on uncached."""
    if path is None or path.is_dir():  # a folder in the way was warned about on reading
        return
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            (np.savez_compressed if compressed else np.savez)(fh, **_flatten_splits(raw))
    except OSError as exc:
        warn_user(
            f"could not write the dataset cache {str(path)!r} ({type(exc).__name__}: "
            f"{exc.strerror or exc}); loaded without caching. Point MULTIDIGIT_CACHE or "
            "cache_dir= at a writable folder, or pass use_cache=False.",
            CacheWarning,
        )
