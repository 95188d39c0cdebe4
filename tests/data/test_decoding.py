"""Tests of multidigit.data.decoding: the study's pixels, fast, and one clear error per
unreadable file."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

import multidigit as md
from multidigit.data import SPLITS, iter_image_paths, read_images
from multidigit.data import decoding as DEC
from multidigit.errors import DataError, ParameterError


@pytest.mark.parametrize("workers", [1, 3])
def test_folder_resize_is_byte_identical_to_the_study_loop(folder, monkeypatch, workers,
                                                            study_loader):
    monkeypatch.setattr(DEC, "_DECODE_BLOCK", 37)  # many blocks, a ragged last one
    ds = md.load_dataset(folder, image_size=(28, 28), use_cache=False, workers=workers)
    assert ds.train.images.shape == (640, 28, 28, 1)
    ref = study_loader(folder, (28, 28))
    for s in SPLITS:
        np.testing.assert_array_equal(ds[s].images, ref[s][0])
        np.testing.assert_array_equal(ds[s].labels, ref[s][1])


def test_rgb_and_jpeg_images_are_converted_to_grey(folder_copy, study_loader):
    png = next((folder_copy / "val").rglob("*.png"))
    with Image.open(png) as im:
        im.convert("RGB").save(png)
    ds = md.load_dataset(folder_copy, use_cache=False)
    assert ds.val.images.shape[-1] == 1
    # the grey levels are PIL's convert("L") (not OpenCV's rounding), resized or not
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (84, 84, 3), dtype=np.uint8), "RGB").save(png)
    rgba = png.with_name("7_" + png.parent.name + ".png")
    Image.fromarray(rng.integers(0, 256, (84, 84, 4), dtype=np.uint8), "RGBA").save(rgba)
    for size in (None, (28, 28)):
        ds = md.load_dataset(folder_copy, image_size=size, use_cache=False)
        ref = study_loader(folder_copy, size or (84, 84))
        np.testing.assert_array_equal(ds.val.images, ref["val"][0])


def test_corrupt_png(folder_copy):
    bad = next((folder_copy / "test").rglob("*.png"))
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(DataError, match=rf"{bad.name}.*corrupt"):
        md.load_dataset(folder_copy, use_cache=False)


def test_truncated_png_one_clear_error_no_decoder_noise(folder_copy, capfd):
    bad = sorted((folder_copy / "val").rglob("*.png"))[3]
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    capfd.readouterr()
    with pytest.raises(DataError, match=rf"{bad.name}.*truncated.*delete or replace"):
        md.load_dataset(folder_copy, use_cache=False)
    assert "WARN" not in capfd.readouterr().err  # OpenCV's own warning is silenced


def test_opencv_settings_are_restored(folder, folder_copy):
    """OpenCV's thread count and log level are process-wide: loading must not change
    them for the user's own OpenCV code, also when loading fails."""
    cv2 = pytest.importorskip("cv2")
    threads, level = cv2.getNumThreads(), cv2.utils.logging.getLogLevel()
    cv2.setNumThreads(3)
    try:
        md.load_dataset(folder, use_cache=False)
        assert cv2.getNumThreads() == 3
        assert cv2.utils.logging.getLogLevel() == level
        sorted((folder_copy / "test").rglob("*.png"))[0].write_bytes(b"not a png")
        with pytest.raises(DataError):
            md.load_dataset(folder_copy, use_cache=False)
        assert cv2.getNumThreads() == 3
        assert cv2.utils.logging.getLogLevel() == level
    finally:
        cv2.setNumThreads(threads)


def test_mixed_sizes(folder_copy, study_loader):
    label_dir = sorted((folder_copy / "train").iterdir())[-1]
    Image.new("L", (64, 64)).save(label_dir / "99_odd.png")
    with pytest.raises(DataError, match="image_size"):
        md.load_dataset(folder_copy, use_cache=False)
    ds = md.load_dataset(folder_copy, image_size=(84, 84), use_cache=False)
    assert len(ds.train) == 641
    # the odd one is resized like the rest: as the study's loop does
    ds = md.load_dataset(folder_copy, image_size=(28, 28), use_cache=False)
    np.testing.assert_array_equal(ds.train.images, study_loader(folder_copy, (28, 28))["train"][0])


def test_read_images(folder, tmp_path):
    paths = sorted((folder / "val").rglob("*.png"))[:3]
    x = md.data.read_images(paths, image_size=(28, 28))
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32
    with pytest.raises(DataError, match="does not exist"):
        md.data.read_images([folder / "nope.png"])
    with pytest.raises(ParameterError, match=r"read_images\(\): image_size"):
        md.data.read_images(paths, image_size=(0, 28))
    (tmp_path / "d.png").mkdir()
    with pytest.raises(DataError, match="is a folder where an image file was expected"):
        md.data.read_images([tmp_path / "d.png"])


def test_iter_image_paths(folder, tmp_path):
    found = md.data.iter_image_paths([folder / "val"])
    assert len(found) == 160 and found == sorted(found)
    with pytest.raises(DataError, match="does not exist"):
        md.data.iter_image_paths([tmp_path / "nope.png"])


# ---------------------------------------------------------------- issue 26
def _bad_name(folder):
    from PIL import Image

    path = os.path.join(os.fsencode(folder), b"scan\xff.png")
    Image.new("L", (84, 84)).save(os.fsdecode(path), format="PNG")
    return os.fsdecode(path)


def test_a_file_name_that_is_not_utf8_is_refused_before_opencv(tmp_path, folder_copy):
    """cv2.imread segfaulted (rc 139) on such a name; load_dataset gave UnicodeEncodeError."""
    path = _bad_name(tmp_path)
    with pytest.raises(DataError, match="not valid UTF-8"):
        read_images(iter_image_paths([tmp_path]))
    label_dir = next(p for p in (folder_copy / "test").iterdir() if p.is_dir())
    os.replace(path, os.path.join(os.fsencode(label_dir), b"0_x\xff.png"))
    with pytest.raises(DataError, match="not valid UTF-8"):
        md.load_dataset(folder_copy, use_cache=False)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_named_like_an_image_is_refused_not_read(tmp_path):
    """predict on a folder holding a FIFO named scan.png hung."""
    os.mkfifo(tmp_path / "scan.png")
    with pytest.raises(DataError, match="not a regular file"):
        read_images(iter_image_paths([tmp_path]))


def test_decompression_bombs_are_refused_from_the_header(tmp_path):
    """A 20000x20000 PNG (389 KB) took 96 s and 5 GB; 40000x40000 gave a raw cv2.error."""
    import struct
    import zlib

    for side in (20000, 40000):
        ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
        chunk = b"IHDR" + ihdr
        png = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
               + struct.pack(">I", zlib.crc32(chunk)))
        path = tmp_path / f"bomb{side}.png"
        path.write_bytes(png + b"\0" * 64)
        with pytest.raises(DataError, match="over the limit"):
            read_images([path])


def test_image_size_over_the_pixel_limit_is_refused():
    with pytest.raises(md.ParameterError, match="image_size"):
        md.load_dataset("mini", image_size=(100000, 100000))


def test_opencv_says_nothing_on_a_corrupt_png(tmp_path):
    """OpenCV's own "[ERROR:0@...] readHeader" lines reached stderr (fd 2)."""
    import subprocess
    import sys

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    code = ("import sys\nfrom multidigit.data import read_images\n"
            "try:\n    read_images([sys.argv[1]])\nexcept Exception as e:\n"
            "    print(type(e).__name__)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code, str(bad)], env=env,
                         capture_output=True, text=True)
    assert out.stdout.strip() == "DataError"
    assert "readHeader" not in out.stderr and "[ERROR" not in out.stderr, out.stderr
