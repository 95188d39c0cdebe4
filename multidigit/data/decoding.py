"""Decoding image files into grey uint8 arrays, many at a time, in threads.

Used by the folder and hub sources and by :func:`read_images` (the images given to
``predict``).  Decoding goes through OpenCV (no GIL held) and falls back to PIL for
what OpenCV cannot read; resizing goes through :func:`multidigit._resize.resize_like_pil`,
byte-identical to the study's per-image ``Image.resize``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from multidigit._param_validation import Check, Free, check_int, fail, validate_params
from multidigit._resize import resize_like_pil
from multidigit.data.dataset import _to_float
from multidigit.errors import DataError

__all__ = ["read_images"]

_DECODE_BLOCK = 256  # images per task: decoded at native size, then resized together
#: The most pixels one image may have: Pillow's decompression-bomb limit
#: (``PIL.Image.MAX_IMAGE_PIXELS``, about 9,459 x 9,459), applied to every decoder and
#: to ``image_size``.  A 389 KB PNG can hold 20,000 x 20,000 pixels (5 GB decoded).
MAX_PIXELS = 89_478_485

try:  # OpenCV is a dependency, but decoding falls back to PIL without it.
    import cv2 as _cv2  # type: ignore[import-not-found]
except Exception:  # pragma: no cover
    _cv2 = None


def check_image_size(image_size: Any) -> tuple[int, int] | None:
    """``None``, an int ``N`` or ``(H, W)`` -> ``(H, W)`` with both >= 1 (or None)."""
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    try:
        h, w = image_size
        check_int("image_size", h, min=1)
        check_int("image_size", w, min=1)
        if int(h) * int(w) > MAX_PIXELS:
            raise ValueError
    except (TypeError, ValueError):
        raise fail("image_size", "None, an integer >= 1 or a pair (height, width) of "
                   f"integers >= 1, at most {MAX_PIXELS:,} pixels", image_size) from None
    return int(h), int(w)


def parallel_ranges(
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
            # silent: a corrupt PNG's "[ERROR:0@...] readHeader" lines reached stderr;
            # PIL then reads the file or we raise one DataError naming it
            _cv2.utils.logging.setLogLevel(_cv2.utils.logging.LOG_LEVEL_SILENT)
        except Exception:  # pragma: no cover - an OpenCV without these
            pass

    def __exit__(self, *exc: object) -> None:
        if self.threads is not None:
            _cv2.setNumThreads(self.threads)
        if self.level is not None:
            _cv2.utils.logging.setLogLevel(self.level)


def _corrupt_msg(path: str | os.PathLike[str], exc: BaseException) -> str:
    return (
        f"cannot read image {str(path)!r} ({type(exc).__name__}: {exc}); the file is "
        "corrupt or not an image: delete or replace it."
    )


def _unreadable_msg(path: str, exc: OSError) -> str:
    if os.path.isdir(path):
        return (f"{path!r} is a folder where an image file was expected; label folders "
                "must hold image files only: move its images up or remove it.")
    if os.path.islink(path):
        return (f"{path!r} is a broken or looping symbolic link ({exc.strerror}); "
                "point it at an image file or remove it.")
    return _corrupt_msg(path, exc)


def _header_size(path: str) -> tuple[int, int] | None:
    """(width, height) from the file's header, without decoding (None: unknown format).

    A PNG's size sits at bytes 16-24 (read by hand: one small read); other formats go
    through PIL's lazy ``Image.open``, which parses the header only.
    """
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except Exception:  # noqa: BLE001 - not an image PIL knows: the decoders say so
        return None


def _check_file(path: str) -> None:
    """Refuse, before any decoder sees it, what would crash or hang one: a name that
    is not valid UTF-8 (``cv2.imread`` segfaults), a FIFO or device (reading blocks),
    and an image over :data:`MAX_PIXELS` (a decompression bomb)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(f"the file name {path!r} is not valid UTF-8; rename the file "
                        "(e.g. with only ASCII letters and digits).") from None
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "Is a directory", path)
    if not stat.S_ISREG(mode):
        raise DataError(f"{path!r} is not a regular file (a FIFO, socket or device); "
                        "image folders must hold image files only: remove it.")
    size = _header_size(path)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise DataError(
            f"image {path!r} is {size[0]}x{size[1]} pixels, over the limit of "
            f"{MAX_PIXELS:,} (a decompression bomb?); shrink it first."
        )


def _read_one(path: str) -> np.ndarray:
    """Decode one image to grey uint8: OpenCV, else PIL (GIF, odd modes).

    Raises DataError naming the file when neither can read it (or it is a folder,
    a broken link, a symlink loop, a FIFO, a name that is not UTF-8, or too big).
    """
    try:
        _check_file(path)
        arr = _read_grey(path)
    except OSError as exc:
        raise DataError(_unreadable_msg(path, exc)) from exc
    if arr is not None:
        return arr
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"))
    except Image.DecompressionBombError as exc:
        raise DataError(_corrupt_msg(path, exc)) from exc
    except OSError as exc:
        raise DataError(_unreadable_msg(path, exc)) from exc
    except (UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise DataError(_corrupt_msg(path, exc)) from exc


def decode_files(
    entries: list[tuple[str, str]],
    image_size: tuple[int, int] | None,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``(path, label)`` entries into grey uint8 ``(N, H, W)`` and int labels.

    Written by hand (no library reads a labelled folder tree of grey PNGs into one
    array this fast): each thread takes a block of files, decodes them at their native
    size with OpenCV (no GIL held), then resizes the whole block at once with
    :func:`multidigit._resize.resize_like_pil` (NumPy / BLAS, no GIL held either),
    byte-identical to the study's per-image ``Image.resize`` and several times faster.
    An image whose size differs from the first one's is resized on its own (or
    rejected when no ``image_size`` is given).
    """
    with _opencv_settings():
        return _decode_quietly(entries, image_size, workers, progress)


def _decode_block(entries, lo, hi, out, native, image_size) -> None:
    """Decode ``entries[lo:hi]`` into ``out[lo:hi]`` (resized to ``out``'s size)."""
    h, w = out.shape[1:]
    resize = (h, w) != native
    buf = np.empty((hi - lo, *native), dtype=np.uint8) if resize else out[lo:hi]
    odd: dict[int, np.ndarray] = {}  # images of another size, already resized
    for i in range(lo, hi):
        path = entries[i][0]
        arr = _read_one(path)
        if arr.shape[:2] == native:
            buf[i - lo] = arr
        elif image_size is None:
            raise DataError(
                f"image {path!r} is {arr.shape[1]}x{arr.shape[0]} but "
                f"{entries[0][0]!r} is {native[1]}x{native[0]}; the images have mixed "
                "sizes: pass image_size=(H, W) to resize them all."
            )
        else:
            odd[i] = resize_like_pil(arr[None], (h, w))[0]
    if resize:
        out[lo:hi] = resize_like_pil(buf, (h, w))
    for i, arr in odd.items():
        out[i] = arr


def _decode_quietly(
    entries: list[tuple[str, str]],
    image_size: tuple[int, int] | None,
    workers: int,
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    n = len(entries)
    native = _read_one(entries[0][0]).shape[:2]
    h, w = image_size or native
    out = np.empty((n, h, w), dtype=np.uint8)
    labels = np.array([[int(c) for c in lab] for _, lab in entries], dtype=np.int64)
    errors: list[Exception] = []

    def work(lo: int, hi: int) -> None:
        if errors:
            return
        try:
            _decode_block(entries, lo, hi, out, native, image_size)
        except DataError as exc:
            errors.append(exc)
            return
        if progress is not None:
            progress(hi - lo)

    if workers > 1 and (h, w) != native:
        # One BLAS thread per decoding thread: OpenBLAS' own threads would otherwise
        # spin against ours (measured in benchmarks/README.md, "Why hand-written").
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            parallel_ranges(n, work, workers, block=_DECODE_BLOCK)
    else:
        parallel_ranges(n, work, workers, block=_DECODE_BLOCK)
    if errors:
        raise errors[0]
    return out, labels


@validate_params({
    "paths": Free("image file paths: a file that cannot be read raises DataError"),
    "image_size": Check(check_image_size, invalid=-1),
})
def read_images(
    paths: Sequence[str | os.PathLike[str]], image_size: tuple[int, int] | None = None
) -> np.ndarray:
    """Read image files as a float32 (N, H, W, 1) array in [0, 1] (grey, resized).

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> p = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> Image.new("L", (84, 84), 255).save(p)
    >>> read_images([p], image_size=(28, 28)).shape
    (1, 28, 28, 1)
    """
    size = check_image_size(image_size)
    entries = [(os.fspath(p), "0") for p in paths]
    if not entries:
        raise DataError("no image paths given.")
    for p, _ in entries:
        if not os.path.exists(p):
            raise DataError(f"image file {str(p)!r} does not exist.")
    x, _ = decode_files(entries, size, 1)
    return _to_float(x)
