"""Tests of multidigit.data.generation and the "mini" source of load_dataset."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import multidigit as md
from multidigit.data import SPLITS
from multidigit.data import generation as G
from multidigit.errors import ParameterError


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
    x, y = G._mnist_digits()
    pools = G._digit_pools(x, y)
    flat = {s: np.concatenate(pools[s]).reshape(-1, 784) for s in SPLITS}
    keys = {s: {row.tobytes() for row in flat[s]} for s in SPLITS}
    assert not keys["train"] & keys["test"]
    assert not keys["train"] & keys["val"]
    assert not keys["val"] & keys["test"]


def test_test_images_use_only_test_pool_digits():
    x, y = G._mnist_digits()
    pools = G._digit_pools(x, y)
    train_digits = {d.tobytes() for d in np.concatenate(pools["train"])}
    out = G.generate_dataset(images_per_class=1, seed=3)
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
    a = G.generate_dataset(images_per_class=1, seed=5)
    b = G.generate_dataset(images_per_class=1, seed=5)
    c = G.generate_dataset(images_per_class=1, seed=6)
    for s in SPLITS:
        assert a[s][0].tobytes() == b[s][0].tobytes()
        np.testing.assert_array_equal(a[s][1], b[s][1])
    assert a["train"][0].tobytes() != c["train"][0].tobytes()


@pytest.mark.parametrize("n_digits,size,n_train", [(2, 64, 64), (4, 112, 6400)])
def test_other_digit_counts(n_digits, size, n_train):
    out = G.generate_dataset(n_digits=n_digits, images_per_class=1)
    imgs, labels = out["train"]
    assert imgs.shape == (n_train, size, size)
    assert labels.shape == (n_train, n_digits)


def test_image_size_resizes_like_the_study(mini1):
    ds = md.load_dataset(images_per_class=1, image_size=(28, 28), use_cache=False)
    assert ds.train.images.shape == (640, 28, 28, 1)
    # same as PIL's bicubic resize of the 84x84 image (the study's loop)
    big = np.rint(mini1.train.images[0, ..., 0] * 255).astype(np.uint8)
    ref = np.asarray(Image.fromarray(big).resize((28, 28), Image.BICUBIC)) / 255.0
    np.testing.assert_allclose(ds.train.images[0, ..., 0], ref, atol=1e-6)


# ---------------------------------------------------------------- issue 16: bad arguments
@pytest.mark.parametrize("n_digits", [0, -1, 6, 2.5])
def test_mini_with_a_bad_n_digits_is_refused(n_digits):
    """n_digits=0 used to generate 3-digit data (``n_digits or 3``)."""
    with pytest.raises(ParameterError, match=r"load_dataset\(\): n_digits must be an integer"):
        md.load_dataset("mini", n_digits=n_digits, images_per_class=1, use_cache=False)


@pytest.mark.parametrize("image_size", [0, (0, 28), (28, -1), (28,), "big", 2.5])
def test_a_bad_image_size_is_refused(image_size):
    with pytest.raises(ParameterError, match="image_size must be None, an integer >= 1"):
        md.load_dataset("mini", image_size=image_size, images_per_class=1, use_cache=False)


def test_cli_n_digits_zero_is_one_line_error(tmp_path, capsys):
    from multidigit.cli import main

    assert main(["data", "generate", str(tmp_path / "g"), "--n-digits", "0",
                 "--images-per-class", "1"]) == 2
    err = capsys.readouterr().err
    assert "n_digits must be an integer in [1, 5]" in err and "got 0" in err
    assert "Traceback" not in err and not (tmp_path / "g").exists()


def test_cli_image_size_zero_is_one_line_error(capsys):
    from multidigit.cli import main

    assert main(["data", "describe", "--images-per-class", "1", "--image-size", "0"]) == 2
    assert "image_size must be" in capsys.readouterr().err
