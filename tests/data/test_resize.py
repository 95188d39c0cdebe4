"""Tests of multidigit._resize: Pillow's bicubic resize, vectorised."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from multidigit import _resize as R


def _pil(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(a).resize(size[::-1], Image.BICUBIC)) for a in images])


def _images(kind: str, shape: tuple[int, int], n: int = 6) -> np.ndarray:
    rng = np.random.default_rng(sum(shape))
    x = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    if kind == "binary":  # saturated edges: the uint8 clipping between passes matters
        x = np.where(rng.random(x.shape) < 0.5, 0, 255).astype(np.uint8)
    if kind == "digit":
        x = np.zeros((n, *shape), np.uint8)
        x[:, shape[0] // 4 : shape[0] // 2, shape[1] // 3 : shape[1] // 2] = 255
    return x


@pytest.mark.parametrize("kind", ["noise", "binary", "digit"])
@pytest.mark.parametrize(
    "src,dst",
    [
        ((84, 84), (28, 28)),  # the study
        ((84, 84), (42, 42)),
        ((84, 84), (112, 112)),  # upscale
        ((84, 84), (13, 61)),  # height shrinks much more: Pillow 13 goes vertical first
        ((84, 84), (61, 13)),
        ((100, 37), (28, 28)),
        ((84, 84), (84, 28)),  # one pass only
        ((84, 84), (28, 84)),
        ((5, 7), (3, 200)),
        ((84, 252), (28, 84)),  # a wide canvas
        ((9, 9), (1, 1)),
    ],
)
def test_byte_identical_to_pillow(kind, src, dst):
    x = _images(kind, src)
    np.testing.assert_array_equal(R.resize_like_pil(x, dst), _pil(x, dst))


def test_pass_order_is_probed_from_the_installed_pillow():
    # Pillow 13 runs the vertical pass first here, Pillow 12 the horizontal one; the
    # two orders give different bytes, and the probe picks the installed Pillow's.
    x = _images("noise", (84, 84))
    want = _pil(x, (13, 61))
    order = R._order_for((84, 84), (13, 61))
    assert order in (True, False)
    np.testing.assert_array_equal(R._vectorised(x, (13, 61), order), want)
    assert not np.array_equal(R._vectorised(x, (13, 61), not order), want)


def test_falls_back_to_pillow_when_the_algorithm_differs(monkeypatch):
    x = _images("noise", (84, 84))
    R._order_for.cache_clear()
    monkeypatch.setattr(R, "_vectorised", lambda images, size, order: images[:, : size[0], : size[1]] // 2)
    try:
        np.testing.assert_array_equal(R.resize_like_pil(x, (28, 28)), _pil(x, (28, 28)))
    finally:
        R._order_for.cache_clear()


def test_chunks_same_size_noop_and_bad_input(monkeypatch):
    monkeypatch.setattr(R, "_CHUNK", 4)
    x = _images("noise", (84, 84), n=11)
    np.testing.assert_array_equal(R.resize_like_pil(x, (28, 28)), _pil(x, (28, 28)))
    same = R.resize_like_pil(x, (84, 84))
    np.testing.assert_array_equal(same, x)
    assert same is not x
    assert R.resize_like_pil(x[:0], (28, 28)).shape == (0, 28, 28)
    with pytest.raises(ValueError, match="uint8"):
        R.resize_like_pil(x.astype(np.float32), (28, 28))
