"""Tests of multidigit.data: every source and every bad input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import multidigit as md
from multidigit import data as D
from multidigit.errors import DataError, MultidigitError


# ---------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def mini1():
    return md.load_dataset("mini", images_per_class=1, use_cache=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, mini1):
    """The mini set exported as PNGs in the published layout."""
    root = tmp_path_factory.mktemp("export") / "triple"
    md.export_dataset(mini1, root)
    return root


def _copy(folder: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(folder, dst)
    return dst


# ---------------------------------------------------------------- class split / generator
def test_class_split_reproduces_original_recipe():
    s = md.class_split(3)
    assert [len(s[k]) for k in ("train", "val", "test")] == [640, 160, 200]
    allc = s["train"] + s["val"] + s["test"]
    assert sorted(allc) == [f"{i:03d}" for i in range(1000)]
    # the recipe: RandomState(123).shuffle(range(1000)), first 64 % train
    classes = list(range(1000))
    np.random.RandomState(123).shuffle(classes)
    assert s["train"][:5] == [f"{c:03d}" for c in classes[:5]]
    assert s["test"][-1] == f"{classes[-1]:03d}"


def test_mini_default_shapes_and_ranges(mini1):
    assert isinstance(mini1, md.MultiDigitDataset)
    assert [len(mini1[s]) for s in ("train", "val", "test")] == [640, 160, 200]
    for split in mini1.splits.values():
        assert split.images.dtype == np.float32
        assert split.images.shape[1:] == (84, 84, 1)
        assert split.images.min() >= 0.0 and split.images.max() <= 1.0
        assert split.labels.shape == (len(split), 3)
        assert split.labels.dtype.kind == "i"


def test_splits_are_class_disjoint(mini1):
    info = mini1.describe()
    assert info["splits"]["val"]["labels_shared_with_train"] == 0
    assert info["splits"]["test"]["labels_shared_with_train"] == 0
    assert set(mini1.test.label_strings) == set(md.class_split(3)["test"])


def test_digits_sit_at_their_positions(mini1):
    """Ink of digit i lies in columns 28*i .. 28*i+27, and matches its label's class."""
    img = mini1.train.images[0, ..., 0]
    for i in range(3):
        assert img[:, 28 * i : 28 * i + 28].sum() > 0


def test_digit_pools_are_disjoint():
    x, y = D._mnist_digits()
    pools = D._digit_pools(x, y)
    flat = {s: np.concatenate(pools[s]).reshape(-1, 784) for s in D.SPLITS}
    keys = {s: {row.tobytes() for row in flat[s]} for s in D.SPLITS}
    assert not keys["train"] & keys["test"]
    assert not keys["train"] & keys["val"]
    assert not keys["val"] & keys["test"]


def test_test_images_use_only_test_pool_digits():
    x, y = D._mnist_digits()
    pools = D._digit_pools(x, y)
    train_digits = {d.tobytes() for d in np.concatenate(pools["train"])}
    out = D.generate_dataset(images_per_class=1, seed=3)
    imgs, _ = out["test"]
    for img in imgs[:50]:
        for i in range(3):
            col = img[:, 28 * i : 28 * i + 28]
            rows = np.flatnonzero(col.any(axis=1))
            # find the 28-row window that holds this digit
            for y0 in range(max(0, rows.max() - 27), min(rows.min(), 84 - 28) + 1):
                if col[y0 : y0 + 28].tobytes() in train_digits:
                    pytest.fail("a test image holds a training digit")


def test_generator_is_deterministic_and_seeded():
    a = D.generate_dataset(images_per_class=1, seed=5)
    b = D.generate_dataset(images_per_class=1, seed=5)
    c = D.generate_dataset(images_per_class=1, seed=6)
    for s in D.SPLITS:
        assert a[s][0].tobytes() == b[s][0].tobytes()
        np.testing.assert_array_equal(a[s][1], b[s][1])
    assert a["train"][0].tobytes() != c["train"][0].tobytes()


@pytest.mark.parametrize("n_digits,size,n_train", [(2, 64, 64), (4, 112, 6400)])
def test_other_digit_counts(n_digits, size, n_train):
    out = D.generate_dataset(n_digits=n_digits, images_per_class=1)
    imgs, labels = out["train"]
    assert imgs.shape == (n_train, size, size)
    assert labels.shape == (n_train, n_digits)


def test_mini_cache_is_used_and_atomic(tmp_path):
    a = md.load_dataset(images_per_class=1, cache_dir=tmp_path)
    files = list(tmp_path.glob("mini-*.npz"))
    assert len(files) == 1 and not list(tmp_path.glob("*.part"))
    assert a.info["cached"] is False
    b = md.load_dataset(images_per_class=1, cache_dir=tmp_path)
    assert b.info["cached"] is True
    np.testing.assert_array_equal(a.train.images, b.train.images)


def test_corrupt_cache_is_rebuilt(tmp_path):
    md.load_dataset(images_per_class=1, cache_dir=tmp_path)
    (cache,) = tmp_path.glob("mini-*.npz")
    cache.write_bytes(b"half-written garbage")
    ds = md.load_dataset(images_per_class=1, cache_dir=tmp_path)
    assert ds.info["cached"] is False and len(ds.train) == 640


def test_interrupted_cache_write_leaves_nothing(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(KeyboardInterrupt):
        md.load_dataset(images_per_class=1, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_image_size_resizes_like_the_study(mini1):
    ds = md.load_dataset(images_per_class=1, image_size=(28, 28), use_cache=False)
    assert ds.train.images.shape == (640, 28, 28, 1)
    # same as PIL's bicubic resize of the 84x84 image (the study's loop)
    big = np.rint(mini1.train.images[0, ..., 0] * 255).astype(np.uint8)
    ref = np.asarray(Image.fromarray(big).resize((28, 28), Image.BICUBIC)) / 255.0
    np.testing.assert_allclose(ds.train.images[0, ..., 0], ref, atol=1e-6)


# ---------------------------------------------------------------- encodings / tf.data
def test_encodings(mini1):
    split = mini1.train
    oh = split.one_hot()
    assert list(oh) == ["digit_0", "digit_1", "digit_2"]
    assert oh["digit_2"].shape == (640, 10)
    np.testing.assert_array_equal(oh["digit_1"].argmax(1), split.labels[:, 1])
    mh = split.multi_hot()
    assert mh.shape == (640, 30) and (mh.sum(1) == 3).all()
    np.testing.assert_array_equal(mh[:, 20:30].argmax(1), split.labels[:, 2])
    assert split.label_strings[0] == "".join(map(str, split.labels[0]))
    assert split.label_ids[0] == int(split.label_strings[0])


def test_tf_dataset_batches_and_shuffles_deterministically(mini1):
    ds = mini1.val.to_tf_dataset(batch_size=32, seed=1)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (32, 84, 84, 1)
    assert set(y) == {"digit_0", "digit_1", "digit_2"}
    def epoch_sums(d):
        return [b[0].numpy().sum() for b in d.take(3)]

    first = epoch_sums(mini1.val.to_tf_dataset(batch_size=32, seed=1))
    again = epoch_sums(mini1.val.to_tf_dataset(batch_size=32, seed=1))
    np.testing.assert_allclose(first, again)  # same seed, same order
    fresh = mini1.val.to_tf_dataset(batch_size=32, seed=1)
    e1, e2 = epoch_sums(fresh), epoch_sums(fresh)
    assert not np.allclose(e1, e2)  # reshuffled every epoch
    flat = mini1.val.to_tf_dataset(batch_size=16, shuffle=False, targets="multi_hot")
    _, y2 = next(iter(flat))
    assert tuple(y2.shape) == (16, 30)
    with pytest.raises(DataError, match="targets"):
        mini1.val.to_tf_dataset(targets="nope")


# ---------------------------------------------------------------- export and folders
def test_export_layout(folder, mini1):
    files = sorted((folder / "test").rglob("*.png"))
    assert len(files) == 200
    f = files[0]
    assert f.parent.name.isdigit() and len(f.parent.name) == 3
    assert f.name == f"0_{f.parent.name}.png"
    with Image.open(f) as im:
        assert im.mode == "L" and im.size == (84, 84)


def test_export_refuses_to_overwrite(folder, mini1):
    with pytest.raises(DataError, match="overwrite=True"):
        md.export_dataset(mini1, folder)


def test_folder_round_trip_and_cache(folder, mini1, tmp_path):
    ds = md.load_dataset(folder, cache_dir=tmp_path)
    assert ds.info["cached"] is False
    assert len(ds.train) == 640 and ds.image_shape == (84, 84, 1)
    # the same images, in label order
    order = np.argsort(mini1.test.label_strings, kind="stable")
    np.testing.assert_allclose(ds.test.images, mini1.test.images[order], atol=1 / 255)
    np.testing.assert_array_equal(ds.test.labels, mini1.test.labels[order])
    again = md.load_dataset(folder, cache_dir=tmp_path)
    assert again.info["cached"] is True
    np.testing.assert_array_equal(again.train.images, ds.train.images)


def test_folder_cache_invalidated_when_files_change(folder, tmp_path):
    root = _copy(folder, tmp_path)
    md.load_dataset(root, cache_dir=tmp_path / "c")
    victim = next((root / "train").rglob("*.png"))
    victim.unlink()
    ds = md.load_dataset(root, cache_dir=tmp_path / "c")
    assert ds.info["cached"] is False and len(ds.train) == 639


def _study_loop(root: Path, size: tuple[int, int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The study's loader: PIL open, convert('L'), resize, one file at a time."""
    out = {}
    for split in D.SPLITS:
        xs, ys = [], []
        for label in sorted(os.listdir(root / split)):
            for name in sorted(os.listdir(root / split / label)):
                with Image.open(root / split / label / name) as im:
                    xs.append(np.asarray(im.convert("L").resize(size[::-1])))
                ys.append([int(c) for c in label])
        out[split] = (np.stack(xs).astype(np.float32)[..., None] / 255.0, np.array(ys))
    return out


@pytest.mark.parametrize("workers", [1, 3])
def test_folder_resize_is_byte_identical_to_the_study_loop(folder, monkeypatch, workers):
    monkeypatch.setattr(D, "_DECODE_BLOCK", 37)  # many blocks, a ragged last one
    ds = md.load_dataset(folder, image_size=(28, 28), use_cache=False, workers=workers)
    assert ds.train.images.shape == (640, 28, 28, 1)
    ref = _study_loop(folder, (28, 28))
    for s in D.SPLITS:
        np.testing.assert_array_equal(ds[s].images, ref[s][0])
        np.testing.assert_array_equal(ds[s].labels, ref[s][1])


def test_rgb_and_jpeg_images_are_converted_to_grey(folder, tmp_path):
    root = _copy(folder, tmp_path)
    png = next((root / "val").rglob("*.png"))
    with Image.open(png) as im:
        im.convert("RGB").save(png)
    ds = md.load_dataset(root, use_cache=False)
    assert ds.val.images.shape[-1] == 1
    # the grey levels are PIL's convert("L") (not OpenCV's rounding), resized or not
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, (84, 84, 3), dtype=np.uint8)
    Image.fromarray(colour, "RGB").save(png)
    rgba = png.with_name("7_" + png.parent.name + ".png")
    Image.fromarray(rng.integers(0, 256, (84, 84, 4), dtype=np.uint8), "RGBA").save(rgba)
    for size in (None, (28, 28)):
        ds = md.load_dataset(root, image_size=size, use_cache=False)
        ref = _study_loop(root, size or (84, 84))
        np.testing.assert_array_equal(ds.val.images, ref["val"][0])


# ---------------------------------------------------------------- bad input
def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        md.load_dataset(tmp_path / "nowhere")


def test_missing_split(folder, tmp_path):
    root = _copy(folder, tmp_path)
    shutil.rmtree(root / "val")
    with pytest.raises(DataError, match=r"val.*missing"):
        md.load_dataset(root, use_cache=False)


def test_bad_label_folder(folder, tmp_path):
    root = _copy(folder, tmp_path)
    (root / "train" / "4x2").mkdir()
    Image.new("L", (84, 84)).save(root / "train" / "4x2" / "0_4x2.png")
    with pytest.raises(DataError, match="4x2.*3-digit label"):
        md.load_dataset(root, use_cache=False)


def test_corrupt_png(folder, tmp_path):
    root = _copy(folder, tmp_path)
    bad = next((root / "test").rglob("*.png"))
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(DataError, match=rf"{bad.name}.*corrupt"):
        md.load_dataset(root, use_cache=False)


def test_truncated_png_one_clear_error_no_decoder_noise(folder, tmp_path, capfd):
    root = _copy(folder, tmp_path)
    bad = sorted((root / "val").rglob("*.png"))[3]
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    capfd.readouterr()
    with pytest.raises(DataError, match=rf"{bad.name}.*truncated.*delete or replace"):
        md.load_dataset(root, use_cache=False)
    assert "WARN" not in capfd.readouterr().err  # OpenCV's own warning is silenced


def test_opencv_settings_are_restored(folder, tmp_path):
    """OpenCV's thread count and log level are process-wide: loading must not change
    them for the user's own OpenCV code, also when loading fails."""
    cv2 = pytest.importorskip("cv2")
    threads, level = cv2.getNumThreads(), cv2.utils.logging.getLogLevel()
    cv2.setNumThreads(3)
    try:
        md.load_dataset(folder, use_cache=False)
        assert cv2.getNumThreads() == 3
        assert cv2.utils.logging.getLogLevel() == level
        root = _copy(folder, tmp_path)
        sorted((root / "test").rglob("*.png"))[0].write_bytes(b"not a png")
        with pytest.raises(DataError):
            md.load_dataset(root, use_cache=False)
        assert cv2.getNumThreads() == 3
        assert cv2.utils.logging.getLogLevel() == level
    finally:
        cv2.setNumThreads(threads)


def test_non_image_file(folder, tmp_path):
    root = _copy(folder, tmp_path)
    label_dir = next((root / "train").iterdir())
    (label_dir / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="notes.txt"):
        md.load_dataset(root, use_cache=False)


def test_mixed_sizes(folder, tmp_path):
    root = _copy(folder, tmp_path)
    label_dir = sorted((root / "train").iterdir())[-1]
    Image.new("L", (64, 64)).save(label_dir / "99_odd.png")
    with pytest.raises(DataError, match="image_size"):
        md.load_dataset(root, use_cache=False)
    ds = md.load_dataset(root, image_size=(84, 84), use_cache=False)
    assert len(ds.train) == 641
    # the odd one is resized like the rest: as the study's loop does
    ds = md.load_dataset(root, image_size=(28, 28), use_cache=False)
    np.testing.assert_array_equal(ds.train.images, _study_loop(root, (28, 28))["train"][0])


def test_empty_split(folder, tmp_path):
    root = _copy(folder, tmp_path)
    shutil.rmtree(root / "test")
    (root / "test").mkdir()
    with pytest.raises(DataError, match="no images"):
        md.load_dataset(root, use_cache=False)


def test_unknown_source():
    with pytest.raises(DataError, match="unknown dataset source"):
        md.load_dataset("imagenet")
    with pytest.raises(DataError, match="hf://owner/name"):
        md.load_dataset("hf://justaname")


def test_errors_share_a_base_class(tmp_path):
    with pytest.raises(MultidigitError):
        md.load_dataset(tmp_path / "missing")


def test_no_cache_written_on_error(folder, tmp_path):
    root = _copy(folder, tmp_path)
    bad = next((root / "test").rglob("*.png"))
    bad.write_bytes(b"junk")
    cache = tmp_path / "cache"
    with pytest.raises(DataError):
        md.load_dataset(root, cache_dir=cache)
    assert not cache.exists() or not any(cache.iterdir())


# ---------------------------------------------------------------- hub (offline)
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
    monkeypatch.setattr(D, "_hf_download", _fake_download_factory(folder, archive, calls))
    ds = md.load_dataset("hf://khushpatel2002/triple-mnist", cache_dir=tmp_path)
    assert calls == ["khushpatel2002/triple-mnist"]
    assert len(ds.train) == 640 and len(ds.test) == 200
    assert ds.source == "hf://khushpatel2002/triple-mnist"


def test_hub_download_uses_snapshot_download(tmp_path, monkeypatch):
    """The real download function calls huggingface_hub with a dataset repo type."""
    hub = pytest.importorskip("huggingface_hub")
    seen = {}

    def fake_snapshot(**kwargs):
        seen.update(kwargs)
        return str(tmp_path)

    monkeypatch.setattr(hub, "snapshot_download", fake_snapshot)
    assert D._hf_download("a/b", tmp_path) == tmp_path
    assert seen["repo_id"] == "a/b" and seen["repo_type"] == "dataset"

    def failing(**kwargs):
        raise OSError("offline")

    monkeypatch.setattr(hub, "snapshot_download", failing)
    with pytest.raises(DataError, match="could not download"):
        D._hf_download("a/b", tmp_path)


def test_hub_download_without_layout(tmp_path, monkeypatch):
    def fake(repo_id, cache_dir):
        d = tmp_path / "dl"
        d.mkdir(exist_ok=True)
        (d / "README.md").write_text("nothing here")
        return d

    monkeypatch.setattr(D, "_hf_download", fake)
    with pytest.raises(DataError, match="not laid out like Triple MNIST"):
        md.load_dataset("hf://a/b", cache_dir=tmp_path / "c")


# ---------------------------------------------------------------- read_images / CLI
def test_read_images(folder):
    paths = sorted((folder / "val").rglob("*.png"))[:3]
    x = D.read_images(paths, image_size=(28, 28))
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32
    with pytest.raises(DataError, match="does not exist"):
        D.read_images([folder / "nope.png"])


def test_cli_describe_and_generate(tmp_path, capsys):
    from multidigit.cli import main

    assert main(["data", "describe", "--images-per-class", "1", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"labels_shared_with_train": 0' in out
    assert main(["data", "generate", str(tmp_path / "g"), "--images-per-class", "1",
                 "--n-digits", "2"]) == 0
    assert len(list((tmp_path / "g" / "train").rglob("*.png"))) == 64
    assert main(["data", "describe", "--data", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_import_is_lazy():
    """`import multidigit` must not import TensorFlow (fast, and plugin-safe)."""
    import subprocess
    import sys

    code = "import sys, multidigit; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
