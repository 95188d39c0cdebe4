"""Explainers: shapes, heads, targets, registry, contract kit, metrics, no mutation."""

from __future__ import annotations

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ExplainerError, ParameterError
from multidigit.explanation import registry
from multidigit.explanation.testing import check_explainer
from multidigit.model.heads import predict_heads

BUILTINS = ["saliency", "gradcam", "gradcam++", "guided_backprop", "deepdream", "rise",
            "integrated_gradients", "smoothgrad_squared", "vargrad", "occlusion",
            "feature_maps", "filters", "scorecam", "layercam", "activation_maximization"]
PER_HEAD = ["saliency", "gradcam", "gradcam++", "guided_backprop", "scorecam", "layercam"]
FAST = {"deepdream": {"steps": 3, "octaves": 2}, "scorecam": {"max_n": 4},
        "rise": {"n_masks": 8}, "integrated_gradients": {"steps": 4},
        "smoothgrad_squared": {"samples": 3}, "vargrad": {"samples": 3},
        "occlusion": {"size": 7, "stride": 7},
        "activation_maximization": {"steps": 3}}


@pytest.fixture(scope="module")
def x(small_ds):
    return small_ds.test.images[:4]


@pytest.fixture(scope="module")
def random_model():
    return md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                          preset="small", seed=1)


def _state(model, x):
    import keras

    probe = keras.Model(model.inputs[0], {l.name: l.output for l in model.layers[1:]})
    acts = {k: np.asarray(v) for k, v in probe(x, training=False).items()}
    attrs = [(l.name, getattr(l, "activation", None)) for l in model.layers]
    return [w.copy() for w in model.get_weights()], attrs, acts


def test_builtins_registered():
    names = md.list_explainers()
    assert set(BUILTINS) <= set(names)
    assert md.get_explainer("gradcam").name == "gradcam"


def test_backend_requirements_give_one_clear_error(trained_small_model, x):
    ex_mod = registry

    @md.register_explainer("test_jax_only")
    class JaxOnly(md.Explainer):
        backends = ("jax",)

        def explain(self, model, images, targets, head_index, **options):
            return images[..., 0].copy()

    @md.register_explainer("test_needs_tf")
    class NeedsTF(md.Explainer):
        def explain(self, model, images, targets, head_index, **options):
            raise ModuleNotFoundError("No module named 'tensorflow'", name="tensorflow")

    try:
        with pytest.raises(ExplainerError, match=r"needs the Keras backend 'jax'.*KERAS_BACKEND=jax") as err:
            md.explain(trained_small_model, x[:2], "test_jax_only")
        # the hint lists the explainers usable on the current backend, from the registry
        hint = str(err.value).split("these work on 'tensorflow': ", 1)[1]
        assert "'feature_maps'" in hint and "'saliency'" in hint
        assert "test_jax_only" not in hint
        with pytest.raises(ExplainerError, match=r"needs TensorFlow.*pip install tensorflow"):
            md.explain(trained_small_model, x[:2], "test_needs_tf")
    finally:
        del ex_mod._REGISTRY["test_jax_only"], ex_mod._REGISTRY["test_needs_tf"]
    # the built-in gradient explainers declare it; filters and feature maps do not
    assert md.get_explainer("saliency").backends == ("tensorflow",)
    assert md.get_explainer("feature_maps").backends == ()


@pytest.mark.parametrize("method", PER_HEAD)
def test_per_head_shapes_all_int_name(trained_small_model, x, method):
    ex = md.explain(trained_small_model, x, method, head="all")
    assert ex.maps.shape == (4, 3, 28, 28)
    assert ex.heads == ["digit_0", "digit_1", "digit_2"]
    assert ex.targets.shape == (4, 3)
    assert np.all(np.isfinite(ex.maps))
    assert ex.maps.min() >= 0 and ex.maps.max() <= 1 + 1e-6
    # default targets are the predicted digits
    pred = predict_heads(trained_small_model, x).argmax(-1)
    np.testing.assert_array_equal(ex.targets, pred)
    one = md.explain(trained_small_model, x, method, head=1)
    named = md.explain(trained_small_model, x, method, head="digit_1")
    assert one.maps.shape == (4, 28, 28) and one.heads == ["digit_1"]
    np.testing.assert_allclose(one.maps, named.maps, atol=1e-6)
    np.testing.assert_allclose(one.maps, ex.maps[:, 1], atol=1e-5)
    # batching does not change the result (up to max-pool tie-breaking on the blank
    # background, which oneDNN resolves differently for different batch sizes)
    small_batches = md.explain(trained_small_model, x, method, head=1, batch_size=3)
    assert np.abs(small_batches.maps - one.maps).mean() < 1e-2


@pytest.mark.parametrize("method", BUILTINS)
def test_trained_vs_random_and_no_mutation(trained_small_model, random_model, x, method):
    opts = FAST.get(method, {})
    before = _state(trained_small_model, x)
    a = md.explain(trained_small_model, x, method, head=0, **opts)
    after = _state(trained_small_model, x)
    assert all(np.array_equal(p, q) for p, q in zip(before[0], after[0]))
    assert before[1] == after[1] and all(before[1][i][1] is after[1][i][1]
                                         for i in range(len(before[1])))
    for k in before[2]:
        np.testing.assert_array_equal(before[2][k], after[2][k])
    b = md.explain(random_model, x, method, head=0, target=a.targets, **opts)
    assert a.maps.shape == b.maps.shape
    assert np.all(np.isfinite(a.maps))
    assert not np.allclose(a.maps, b.maps, atol=1e-3)


def test_non_head_method_shapes(trained_small_model, x):
    fm = md.explain(trained_small_model, x, "feature_maps")
    assert fm.maps.shape == (4, 16, 28, 28) and fm.heads == [] and fm.targets is None
    fm2 = md.explain(trained_small_model, x, "feature_maps", layer="conv_2", channels=[0, 3])
    assert fm2.maps.shape == (4, 2, 14, 14)
    fl = md.explain(trained_small_model, x, "filters")
    assert fl.maps.shape == (16, 3, 3) and fl.model_level
    kernel = trained_small_model.get_layer("conv_1").kernel.numpy()
    np.testing.assert_allclose(fl.maps[2], kernel[:, :, 0, 2], atol=1e-6)
    dd = md.explain(trained_small_model, x, "deepdream", steps=4, octaves=2)
    assert dd.maps.shape == (4, 28, 28)
    assert 0.0 <= dd.maps.min() and dd.maps.max() <= 1.0
    assert np.abs(dd.maps - x[..., 0]).mean() > 1e-3  # the dream changed the image


def test_targets_and_inputs(trained_small_model, x, small_ds):
    labels = small_ds.test.labels[:4]
    ex = md.explain(trained_small_model, x, "saliency", target=labels)
    np.testing.assert_array_equal(ex.targets, labels)
    ex7 = md.explain(trained_small_model, x, "saliency", head=2, target=7)
    assert (ex7.targets == 7).all()
    ex3 = md.explain(trained_small_model, x, "saliency", head=2, target=3)
    assert not np.allclose(ex7.maps, ex3.maps)
    # one image, (N, H, W) and a Split are accepted
    assert md.explain(trained_small_model, x[0], "gradcam", head=0).maps.shape == (1, 28, 28)
    assert md.explain(trained_small_model, x[..., 0], "gradcam", head=0).maps.shape == (4, 28, 28)
    split = small_ds.test.subset(np.arange(2))
    assert md.explain(trained_small_model, split, "gradcam", head=0).maps.shape == (2, 28, 28)
    with pytest.raises(ParameterError, match="target"):
        md.explain(trained_small_model, x, "saliency", target=np.zeros((3,), int))
    with pytest.raises(ParameterError, match="0..9"):
        md.explain(trained_small_model, x, "saliency", target=12)
    with pytest.raises(ParameterError, match="head"):
        md.explain(trained_small_model, x, "saliency", head="digit_7")
    with pytest.raises(ParameterError, match="head"):
        md.explain(trained_small_model, x, "saliency", head=3)
    with pytest.raises(ParameterError, match="expects"):
        md.explain(trained_small_model, np.zeros((2, 30, 30, 1)), "saliency")
    with pytest.raises(ParameterError, match="conv_1"):
        md.explain(trained_small_model, x, "gradcam", layer="nope")
    with pytest.raises(ParameterError, match="smoth.*absolute, noise, normalize, score"):
        md.explain(trained_small_model, x, "saliency", smoth=3)
    with pytest.raises(ParameterError, match="score.*'logit', 'probability'"):
        md.explain(trained_small_model, x, "saliency", score="prob")


def test_smoothgrad_seeded(trained_small_model, x):
    a = md.explain(trained_small_model, x, "saliency", head=0, smooth=4, seed=0).maps
    b = md.explain(trained_small_model, x, "saliency", head=0, smooth=4, seed=0).maps
    c = md.explain(trained_small_model, x, "saliency", head=0, smooth=4, seed=1).maps
    v = md.explain(trained_small_model, x, "saliency", head=0).maps
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, v)


def test_matches_tf_keras_vis(trained_small_model, x):
    """Our compiled maps equal tf-keras-vis' on a per-head sub-model."""
    import keras
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.utils.scores import CategoricalScore

    m = trained_small_model
    ours = md.explain(m, x, "saliency", head=1, score="probability")
    sub = keras.Model(m.inputs[0], m.get_layer("digit_1").output)
    score = CategoricalScore(ours.targets[:, 0].tolist())
    ref = Saliency(sub)(score, x)
    np.testing.assert_allclose(ours.maps, ref, atol=1e-4)
    import tensorflow as tf

    from multidigit.explanation.methods.base import normalize_maps

    for method, cls in (("gradcam", Gradcam), ("gradcam++", GradcamPlusPlus)):
        ours = md.explain(m, x, method, head=1, score="probability").maps
        # tf-keras-vis upsamples with scipy.zoom, we with tf.image.resize: compare the
        # CAMs at the conv resolution, upsampled the same way
        cam = cls(sub)(score, x, penultimate_layer="conv_2", expand_cam=False,
                       normalize_cam=False)
        ref = tf.image.resize(cam[..., None], (28, 28), method="bilinear").numpy()[..., 0]
        np.testing.assert_allclose(ours, normalize_maps(ref), atol=2e-3, err_msg=method)


def test_plot(trained_small_model, x):
    from matplotlib.figure import Figure

    fig = md.explain(trained_small_model, x[:2], "gradcam").plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * 3
    fig = md.explain(trained_small_model, x[:2], "gradcam", head=1).plot()
    assert len(fig.axes) == 2
    fig = md.explain(trained_small_model, x[:2], "feature_maps").plot(max_channels=4)
    assert len(fig.axes) == 2 * 5
    assert isinstance(md.explain(trained_small_model, x, "filters").plot(), Figure)


def test_registry_errors():
    with pytest.raises(ParameterError, match="gradcam"):  # lists the available names
        md.get_explainer("grad-cam")
    with pytest.raises(ParameterError, match="unknown explainer.*method must be one of"):
        md.explain(None, None, "grad-cam")
    with pytest.raises(ExplainerError, match="already registered"):
        md.register_explainer("gradcam")(type("Dup", (md.Explainer,), {}))
    with pytest.raises(ExplainerError, match="explain"):
        md.register_explainer("not_an_explainer")(type("NoExplain", (), {}))
    with pytest.raises(ParameterError, match="non-empty"):
        md.register_explainer("")
    ex_mod = registry

    original = md.get_explainer("saliency")
    try:
        with pytest.warns(md.PluginWarning, match="replaced the built-in explainer 'saliency'"):
            @md.register_explainer("saliency", override=True)
            class Replacement(md.Explainer):
                def explain(self, model, images, targets, head_index, **options):
                    return np.zeros(images.shape[:3], np.float32)

        assert md.get_explainer("saliency") is Replacement
    finally:
        ex_mod._REGISTRY["saliency"] = original

    @md.register_explainer("test_input")
    class InputExplainer(md.Explainer):
        def explain(self, model, images, targets, head_index, **options):
            return images[..., 0].copy()

    try:
        assert "test_input" in md.list_explainers()
        check_explainer(InputExplainer)
    finally:
        del ex_mod._REGISTRY["test_input"]


@pytest.mark.parametrize("method", BUILTINS)
def test_check_explainer_builtins(method):
    check_explainer(md.get_explainer(method), options=FAST.get(method))


class _Base(md.Explainer):
    name = "broken"

    def explain(self, model, images, targets, head_index, **options):
        return np.zeros(images.shape[:3], np.float32)


class _WrongShape(_Base):
    def explain(self, model, images, targets, head_index, **options):
        return np.zeros((len(images), 5), np.float32)


class _NaN(_Base):
    def explain(self, model, images, targets, head_index, **options):
        return np.full(images.shape[:3], np.nan, np.float32)


class _Random(_Base):
    def explain(self, model, images, targets, head_index, **options):
        return np.random.default_rng().random(images.shape[:3]).astype(np.float32)


class _Mutates(_Base):
    def explain(self, model, images, targets, head_index, **options):
        w = model.get_layer("conv_1").kernel
        w.assign(w * 1.5)
        return np.zeros(images.shape[:3], np.float32)


class _SwapsActivation(_Base):
    def explain(self, model, images, targets, head_index, **options):
        import keras

        model.get_layer("conv_1").activation = keras.activations.linear
        return np.zeros(images.shape[:3], np.float32)


class _BatchDependent(_Base):
    def explain(self, model, images, targets, head_index, **options):
        return np.broadcast_to(images.mean(axis=(0, 3)), images.shape[:3]).astype(np.float32)


class _NoName(_Base):
    name = ""


class _BadFlag(_Base):
    per_head = "yes"  # the contract's flags are bools


@pytest.mark.parametrize(
    "cls, message",
    [
        (_WrongShape, "shape"),
        (_NaN, "NaN"),
        (_Random, "deterministic"),
        (_Mutates, "weights"),
        (_SwapsActivation, "changed layer"),
        (_BatchDependent, "rest of the batch"),
        (_NoName, "name"),
        (_BadFlag, "per_head"),
    ],
)
def test_check_explainer_catches_broken(cls, message):
    with pytest.raises(AssertionError, match=message):
        check_explainer(cls)


def test_sanity_check(trained_small_model, x):
    from multidigit.explanation.metrics.checks import sanity_check

    before = [w.copy() for w in trained_small_model.get_weights()]
    res = sanity_check(trained_small_model, x, "gradcam", head=0)
    assert res.mode == "cascading" and res.layers[0] == "digit_0" and res.layers[-1] == "conv_1"
    assert "digit_1" not in res.layers
    assert res.correlations.shape == (len(res.layers),)
    assert np.all(np.abs(res.correlations) <= 1)
    assert res.passed == (res.final_correlation <= res.threshold)
    allr = sanity_check(trained_small_model, x, "saliency", head="digit_2", mode="all",
                        threshold=0.99)
    assert allr.layers == ["all"] and allr.correlations.shape == (1,)
    assert allr.correlations[0] < 0.99 and allr.passed
    # threshold -1 can never pass: the verdict comes from the numbers
    assert not sanity_check(trained_small_model, x, "saliency", mode="all", threshold=-1).passed
    assert all(np.array_equal(a, b) for a, b in zip(before, trained_small_model.get_weights()))
    with pytest.raises(ParameterError, match="mode"):
        sanity_check(trained_small_model, x, "gradcam", mode="bottom")
    with pytest.raises(ParameterError, match="attribution"):
        sanity_check(trained_small_model, x, "feature_maps")


def test_faithfulness(trained_small_model, x):
    from multidigit.explanation.metrics.checks import faithfulness, faithfulness_table

    r = faithfulness(trained_small_model, x, "gradcam", head=1, steps=4)
    assert r.fractions.shape == r.deletion.shape == r.insertion.shape == (5,)
    assert np.all((r.deletion >= 0) & (r.deletion <= 1))
    # fraction 0 of deletion = the untouched images; fraction 1 = the blank baseline
    p = predict_heads(trained_small_model, x)[:, 1]
    t = p.argmax(-1)
    assert r.deletion[0] == pytest.approx(p[np.arange(4), t].mean(), abs=1e-5)
    blank = predict_heads(trained_small_model, np.zeros_like(x))[:, 1]
    assert r.deletion[-1] == pytest.approx(blank[np.arange(4), t].mean(), abs=1e-5)
    assert r.insertion[0] == pytest.approx(r.deletion[-1], abs=1e-5)
    assert r.deletion_auc == pytest.approx(np.trapezoid(r.deletion, r.fractions))
    table = faithfulness_table(trained_small_model, x, ["saliency", "gradcam"], steps=3)
    assert [res.method for res in table.results] == ["saliency", "gradcam", "random"]
    assert "gradcam" in table.to_markdown() and "random" in str(table)
    assert table.best() in {"saliency", "gradcam", "random"}
    assert set(table.to_dict()["gradcam"]) == {"deletion_auc", "insertion_auc", "score"}
    page = table._repr_html_()
    assert "<caption>Faithfulness</caption>" in page and "<td>gradcam</td>" in page
    assert f"{table.results[1].deletion_auc:.4f}" in page


def test_check_explainer_reports_every_failure():
    class _NaNAndMutates(_Base):
        def explain(self, model, images, targets, head_index, **options):
            w = model.get_layer("conv_1").kernel
            w.assign(w * 1.5)
            return np.full((len(images), 5), np.nan, np.float32)

    with pytest.raises(AssertionError) as info:
        check_explainer(_NaNAndMutates)
    message = str(info.value)
    assert "check(s) failed" in message
    assert "NaN" in message and "weights" in message  # both, not only the first


def test_unknown_options_come_from_the_signature(trained_small_model, x):
    """Options are checked before the explainer runs, from its signature."""
    calls = []

    @md.register_explainer("test_typed_options")
    class Typed(md.Explainer):
        def explain(self, model, images, targets, head_index, *, size=3):
            calls.append(size)
            raise TypeError("got an unexpected keyword argument 'inner'")  # not ours

    @md.register_explainer("test_any_options")
    class Anything(md.Explainer):
        def explain(self, model, images, targets, head_index, **options):
            return images[..., 0].copy()

    try:
        with pytest.raises(ParameterError, match="sise.*size"):
            md.explain(trained_small_model, x[:1], "test_typed_options", sise=4)
        assert calls == []
        # a TypeError raised inside the explainer is the explainer's own bug: not hidden
        with pytest.raises(TypeError, match="inner"):
            md.explain(trained_small_model, x[:1], "test_typed_options", head=0, size=4)
        assert md.explain(trained_small_model, x[:1], "test_any_options", head=0,
                          whatever=1).maps.shape == (1, 28, 28)
    finally:
        del registry._REGISTRY["test_typed_options"], registry._REGISTRY["test_any_options"]


def test_builtins_keep_only_their_method():
    """The shared options live in the base class; built-ins implement attribute()."""
    from multidigit.explanation.methods.base import Explainer, accepted_options

    for name in ("saliency", "gradcam", "guided_backprop", "layercam"):
        cls = md.get_explainer(name)
        assert cls.explain is Explainer.explain and cls.attribute is not Explainer.attribute
        assert {"score", "normalize"} <= accepted_options(cls)
    assert accepted_options(md.get_explainer("saliency")) == {
        "score", "absolute", "normalize", "smooth", "noise", "seed"}


def test_explanation_repr_and_html(trained_small_model, x):
    ex = md.explain(trained_small_model, x[:2], "gradcam", head="all", target=[3, 5],
                    layer="conv_1")
    assert len(repr(ex)) < 200 and "gradcam" in repr(ex) and "(2, 3, 28, 28)" in repr(ex)
    page = ex._repr_html_()
    assert page.count("<table>") == 1 and "<caption>Explanation</caption>" in page
    assert "<td>gradcam</td>" in page and "2 x 3 x 28 x 28" in page
    assert "digit_0, digit_1, digit_2" in page
    assert "3 3 3; 5 5 5" in page  # the targets, per image
    assert "option layer" in page and "&#x27;conv_1&#x27;" in page  # escaped
    assert '<img src="data:image/png;base64,' in page
    fm = md.explain(trained_small_model, x[:2], "feature_maps")._repr_html_()
    assert "(not per head)" in fm and "data:image/png" in fm
    assert ex.to_dict()["method"] == "gradcam"


@pytest.mark.parametrize("method", ["scorecam", "layercam", "activation_maximization"])
def test_tf_keras_vis_explainers(trained_small_model, random_model, x, method):
    """Score-CAM, Layer-CAM and activation maximisation, per head, through tf-keras-vis."""
    opts = FAST.get(method, {})
    ex = md.explain(trained_small_model, x, method, head="all", **opts)
    assert ex.maps.shape == (4, 3, 28, 28) and np.all(np.isfinite(ex.maps))
    assert not np.allclose(ex.maps[:, 0], ex.maps[:, 1])  # the heads differ
    rnd = md.explain(random_model, x, method, head="all", **opts).maps
    assert not np.allclose(ex.maps, rnd)


def test_layercam_matches_tf_keras_vis_default(trained_small_model, x):
    """Our registered Layer-CAM is tf-keras-vis' own on the head's probability."""
    import keras
    from tf_keras_vis.layercam import Layercam
    from tf_keras_vis.utils.scores import CategoricalScore

    m = trained_small_model
    ours = md.explain(m, x, "layercam", head=2, score="probability", target=4)
    sub = keras.Model(m.inputs[0], m.get_layer("digit_2").output)
    ref = Layercam(sub)(CategoricalScore([4] * len(x)), x, penultimate_layer="conv_2")
    np.testing.assert_allclose(ours.maps, ref, atol=2e-3)


@pytest.fixture(scope="module")
def default_model(small_ds):
    """multidigit's default model (preset "shared"), trained one epoch."""
    model = md.build_model(input_shape=small_ds.image_shape, seed=0)
    md.train(model, small_ds, epochs=1, seed=0)
    return model


@pytest.mark.parametrize("method", sorted(md.list_explainers()))
def test_every_explainer_works_on_the_default_model(default_model, x, method):
    """The shared preset (resize, augmentation layers, column strips, one dense layer
    called three times) with every registered explainer, on every head."""
    kwargs = {"steps": 2} if method in ("deepdream", "activation_maximization") else {}
    ex = md.explain(default_model, x[:2], method, **kwargs)
    maps = np.asarray(ex.maps)
    assert maps.size and np.isfinite(maps).all()
    assert np.abs(maps).max() > 0  # a map, not an empty answer


# ------------------------------------------------------------------ issue 26
@pytest.mark.parametrize("bad, message", [
    ("x255", r"float pixels must lie in \[0, 1\]"),
    ("minus", "must not be negative"),
    ("int64", "int64 pixels are ambiguous"),
    ("nan", "NaN or infinite"),  # a DataError like predict's (was a ParameterError)
])
def test_explain_checks_pixels_like_predict(random_model, x, bad, message):
    images = {"x255": x * 255, "minus": x - 0.5,
              "int64": np.rint(x * 255).astype(np.int64),
              "nan": np.full_like(x, np.nan)}[bad]
    with pytest.raises(md.DataError, match=message):
        md.explain(random_model, images, "saliency")


def test_gradcam_on_a_head_layer_is_one_clear_error(random_model, x):
    with pytest.raises(md.ParameterError, match="image-shaped output"):
        md.explain(random_model, x, "gradcam", layer="digit_0")
