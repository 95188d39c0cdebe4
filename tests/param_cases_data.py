"""Bad-argument cases of the data area for the table-driven parameter test (issue 15).

Not collected by pytest (no ``test_`` prefix): ``tests/test_param_validation.py``
runs them; the integrator merges every area's ``CASES`` into one table.  Each case:
``(callable, args, kwargs, parameter name, fragment of the allowed values)``.
"""

from __future__ import annotations

import numpy as np
import pytest

from multidigit.data import (
    MultiDigitDataset,
    Split,
    class_split,
    export_dataset,
    generate_dataset,
    load_dataset,
    read_images,
)

_split = Split(np.zeros((1, 28, 28, 1), np.float32), [[0, 4, 2]], "train")
_ds = MultiDigitDataset(_split, _split, _split, "toy")
_tf = _split.to_tf_dataset  # bound method: checks run before TensorFlow is imported

CASES = [
    pytest.param(load_dataset, ("mini",), {"n_digits": 0}, "n_digits", "integer in [1, 5]",
                 id="load_dataset-n_digits-0"),
    pytest.param(load_dataset, ("mini",), {"n_digits": 2.5}, "n_digits", "integer in [1, 5]",
                 id="load_dataset-n_digits-float"),
    pytest.param(load_dataset, ("some/folder",), {"n_digits": 0}, "n_digits", "integer >= 1",
                 id="load_dataset-folder-n_digits"),
    pytest.param(load_dataset, ("mini",), {"image_size": 0}, "image_size", "integer >= 1",
                 id="load_dataset-image_size-0"),
    pytest.param(load_dataset, ("mini",), {"image_size": (28, 0)}, "image_size",
                 "pair (height, width)", id="load_dataset-image_size-pair"),
    pytest.param(load_dataset, ("mini",), {"images_per_class": 0}, "images_per_class",
                 "integer >= 1", id="load_dataset-images_per_class"),
    pytest.param(load_dataset, ("mini",), {"seed": -1}, "seed", "integer >= 0",
                 id="load_dataset-seed"),
    pytest.param(load_dataset, ("mini",), {"workers": 0}, "workers", "integer >= 1",
                 id="load_dataset-workers"),
    pytest.param(load_dataset, ("mini",), {"use_cache": "no"}, "use_cache", "True or False",
                 id="load_dataset-use_cache"),
    pytest.param(load_dataset, ("mini",), {"progress": 1}, "progress", "True or False",
                 id="load_dataset-progress"),
    pytest.param(load_dataset, (3,), {}, "source", "'mini', a folder path",
                 id="load_dataset-source"),
    pytest.param(generate_dataset, (), {"n_digits": 6}, "n_digits", "integer in [1, 5]",
                 id="generate_dataset-n_digits"),
    pytest.param(generate_dataset, (), {"images_per_class": 0}, "images_per_class",
                 "integer >= 1", id="generate_dataset-images_per_class"),
    pytest.param(generate_dataset, (), {"seed": -3}, "seed", "integer >= 0",
                 id="generate_dataset-seed"),
    pytest.param(class_split, (0,), {}, "n_digits", "integer in [1, 5]",
                 id="class_split-n_digits"),
    pytest.param(export_dataset, (_split, "unused"), {}, "ds", "MultiDigitDataset",
                 id="export_dataset-ds"),
    pytest.param(export_dataset, (_ds, "unused"), {"workers": 0}, "workers", "integer >= 1",
                 id="export_dataset-workers"),
    pytest.param(export_dataset, (_ds, "unused"), {"overwrite": "yes"}, "overwrite",
                 "True or False", id="export_dataset-overwrite"),
    pytest.param(export_dataset, (_ds, 42), {}, "root", "a folder path",
                 id="export_dataset-root"),
    pytest.param(read_images, (["unused.png"],), {"image_size": -1}, "image_size",
                 "integer >= 1", id="read_images-image_size"),
    pytest.param(_tf, (), {"batch_size": 0}, "batch_size", "integer >= 1",
                 id="Split.to_tf_dataset-batch_size"),
    pytest.param(_tf, (), {"targets": "nope"}, "targets", "'heads', 'multi_hot', 'labels'",
                 id="Split.to_tf_dataset-targets"),
    pytest.param(_tf, (), {"shuffle": "yes"}, "shuffle", "True or False",
                 id="Split.to_tf_dataset-shuffle"),
]
