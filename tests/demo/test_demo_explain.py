"""The demo's explainer side: offered methods, the feature-map grid, the lasting note."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.demo.explain import LEFT_OUT, demo_methods, explanation_figure


@pytest.fixture(scope="module")
def model():
    return md.build_model(preset="small", input_shape=(28, 84, 1), seed=0)


def test_slow_unreadable_methods_are_left_out():
    methods = demo_methods()
    assert "activation_maximization" in LEFT_OUT and "activation_maximization" not in methods
    assert set(methods) == set(md.list_explainers()) - set(LEFT_OUT)


def test_feature_maps_are_a_readable_grid_of_one_layer(model):
    x = np.random.default_rng(0).random((28, 84), dtype=np.float32)
    fig = explanation_figure(model, x, "feature_maps")
    width, height = fig.get_size_inches()
    assert width / height < 4  # not a 2160x240 strip
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 1 + 16  # the input, then conv_1's 16 channels
    assert "conv_1" in fig._suptitle.get_text()
    maps = explanation_figure(model, x, "saliency")
    assert len([ax for ax in maps.axes if ax.images]) == 3  # one per head


def test_true_label_survives_a_change_of_explainer(model):
    from multidigit.demo.app import _read_random, _Session

    session = _Session(model)
    first = _read_random(session, "saliency")
    assert "true label" in first.message
    again = session.read_prepared(first.x, "gradcam")
    assert again.message == first.message and again.explanation is not None
    other = session.read_prepared(np.zeros_like(first.x), "gradcam")
    assert "true label" not in other.message
