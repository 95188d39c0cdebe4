"""CAM maps restricted to what head k reads (restrict_to_head)."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.explanation.methods.helpers import head_region


@pytest.fixture(scope="module")
def windowed():
    return md.build_model(seed=0)  # the default preset reads digit k in window k


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    x = np.zeros((2, 84, 84, 1), np.float32)
    for i, tops in enumerate([(50, 10, 30), (5, 60, 40)]):
        for k, top in enumerate(tops):
            x[i, top:top + 10, 28 * k + 5:28 * k + 15] = rng.uniform(0.5, 1.0, (10, 10, 1))
    return x


def test_head_region_is_window_k(windowed, blobs):
    region = head_region(windowed, blobs, 1)
    # a 28x28 window on the middle blob (rows 10-20, then 60-70), none of the others
    for i, tops in enumerate([(50, 10, 30), (5, 60, 40)]):
        assert region[i].sum() == 28 * 28
        for k, top in enumerate(tops):
            blob = region[i, top:top + 10, 28 * k + 5:28 * k + 15]
            assert blob.all() if k == 1 else not blob.any()
    plain = md.build_model(preset="small", input_shape=(28, 28, 1), seed=0)
    strip = head_region(plain, np.zeros((1, 28, 28, 1)), 2)[0]
    assert strip[:, 19:].all() and not strip[:, :19].any()


@pytest.mark.parametrize("method, options", [("gradcam", {}), ("gradcam++", {}),
                                             ("layercam", {}), ("scorecam", {"max_n": 4})])
def test_cams_are_restricted_by_default_on_windowed_models(windowed, blobs, method, options):
    on = md.explain(windowed, blobs, method, head=1, **options).maps
    off = md.explain(windowed, blobs, method, head=1, restrict_to_head=False, **options).maps
    region = head_region(windowed, blobs, 1) > 0
    assert np.all(on[~region] == 0)
    assert off[~region].max() > 0  # without it, the neighbours' windows light up too
    assert np.isfinite(on).all() and on.max() > 0


def test_restriction_is_off_by_default_without_windows(trained_small_model, tiny_ds):
    x = tiny_ds.test.images[:2]
    default = md.explain(trained_small_model, x, "gradcam", head=0).maps
    off = md.explain(trained_small_model, x, "gradcam", head=0, restrict_to_head=False).maps
    np.testing.assert_allclose(default, off)
    on = md.explain(trained_small_model, x, "gradcam", head=0, restrict_to_head=True).maps
    assert np.all(on[:, :, 10:] == 0)
    with pytest.raises(md.ParameterError, match="restrict_to_head"):
        md.explain(trained_small_model, x, "gradcam", head=0, restrict_to_head="yes")
