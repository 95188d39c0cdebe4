"""multidigit.explanation.methods.base: the contract declared on Explainer, read by capabilities()."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.explanation.methods import helpers
from multidigit.explanation.methods.base import Capabilities, Explainer, capabilities


class _Maps(Explainer):
    name = "maps"


class _PerImage(Explainer):
    per_head = False


class _Model(Explainer):
    model_level = True
    backends = ["tensorflow"]  # a list is accepted, read as a tuple


class _Duck:  # a plugin need not derive from Explainer
    name = "duck"
    per_head = np.bool_(False)

    def explain(self, model, images, targets, head_index):
        return images[..., 0]


def test_the_flags_are_declared_on_the_base_class_with_their_defaults():
    assert (Explainer.per_head, Explainer.model_level, Explainer.backends) == (True, False, ())
    assert capabilities(Explainer) == Capabilities()


@pytest.mark.parametrize("cls, kind, backends", [
    (_Maps, "per_head", ()),
    (_PerImage, "per_image", ()),
    (_Model, "model_level", ("tensorflow",)),
    (_Duck, "per_image", ()),
])
def test_capabilities_read_the_declarations(cls, kind, backends):
    caps = capabilities(cls)
    assert caps.kind == kind and caps.backends == backends
    assert capabilities(cls()) == caps  # an instance reads its class
    assert isinstance(caps.per_head, bool)


@pytest.mark.parametrize("name, kind", [("saliency", "per_head"), ("feature_maps", "per_image"),
                                        ("filters", "model_level")])
def test_builtins_declare_their_kind(name, kind):
    assert capabilities(md.get_explainer(name)).kind == kind


@pytest.mark.parametrize("attr, value", [("per_head", "yes"), ("model_level", 1),
                                         ("backends", "tensorflow"), ("backends", (1,))])
def test_badly_typed_declarations_are_refused_at_registration(attr, value):
    cls = type("Bad", (Explainer,), {attr: value})
    with pytest.raises(md.ExplainerError, match=attr):
        capabilities(cls)
    with pytest.raises(md.ExplainerError, match=attr):
        md.register_explainer("bad_declaration_test")(cls)
    assert "bad_declaration_test" not in md.list_explainers()


def test_plugin_helpers_are_public_and_the_old_private_names_still_work():
    from multidigit.explanation import methods as explainers
    from multidigit.explanation.methods import _common

    for name in ("window_view", "score_model", "head_layers", "target_scores", "head_region",
                 "cached", "WindowView"):
        public = getattr(helpers, name)
        assert getattr(explainers, name) is public and getattr(_common, name) is public
        assert public.__doc__ and "Examples" in public.__doc__ or name == "WindowView"
        assert name in helpers.__all__
