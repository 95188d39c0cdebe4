"""Tests of multidigit.tuning.spaces: the named spaces, their check, model_kwargs."""

from __future__ import annotations

import pytest

import multidigit as md
from multidigit import tuning as T
from multidigit.errors import ParameterError


def test_named_spaces_are_valid_and_study_matches_the_paper():
    for name in md.SEARCH_SPACES:
        assert T.check_search_space(name) == md.SEARCH_SPACES[name]
    study = md.SEARCH_SPACES["study"]
    assert study["conv_1"] == {"type": "int", "min": 32, "max": 128, "step": 32}
    assert study["conv_3"]["max"] == 512 and study["dense_units"]["step"] == 128
    assert {"learning_rate", "dropout", "l2", "batch_norm", "batch_size"} <= set(
        md.SEARCH_SPACES["wide"]
    )


def test_model_kwargs_maps_the_study_best_onto_build_model():
    kw = T.model_kwargs({"conv_1": 96, "conv_2": 128, "conv_3": 128, "dense_units": 256})
    assert kw == {"filters": [96, 128, 128], "dense_units": 256, "preset": "tuned"}
    model = md.build_model(input_shape=(28, 28, 1), **kw)
    assert [model.get_layer(f"conv_{i}").filters for i in (1, 2, 3)] == [96, 128, 128]


@pytest.mark.parametrize(
    "space, match",
    [
        ("nope", "search_space must be one of 'shared', 'study', 'wide', 'tiny'; got 'nope'"),
        ({}, "non-empty"),
        ({"units": {"type": "int", "min": 1, "max": 2}}, "unknown hyperparameter 'units'"),
        ({"conv_1": {"type": "integer", "min": 1, "max": 2}}, "unknown type 'integer'"),
        ({"conv_1": {"type": "int", "min": 1}}, r"missing \['max'\]"),
        ({"conv_1": {"type": "int", "min": 1, "max": 2, "stp": 1}}, "unknown field"),
        ({"conv_1": {"type": "int", "min": 8, "max": 2}}, "min=8 > max=2"),
        ({"conv_1": {"type": "int", "min": "a", "max": 2}}, "must be numbers"),
        ({"learning_rate": {"type": "float", "min": 0, "max": 1, "sampling": "log"}},
         "log sampling needs min > 0"),
        ({"learning_rate": {"type": "float", "min": 0, "max": 1, "sampling": "cubic"}},
         "sampling must be one of"),
        ({"dropout": {"type": "choice", "values": []}}, "non-empty list"),
        ({"dropout": {"type": "choice", "values": [0.1, "a"]}}, "one type"),
        ({"conv_1": {"type": "int", "min": 4, "max": 8},
          "conv_3": {"type": "int", "min": 4, "max": 8}}, "without gaps"),
        ({"conv_1": {"type": "bool"}}, "number of filters"),
        ({"conv_1": "big"}, "must be a dict with a 'type'"),
    ],
)
def test_bad_search_space_raises_parameter_error(space, match):
    with pytest.raises(ParameterError, match=match) as info:
        T.check_search_space(space)
    assert "search_space" in str(info.value)
