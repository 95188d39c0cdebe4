"""The trust table and its verdicts."""

from __future__ import annotations

import numpy as np

import multidigit as md
from multidigit.explanation.metrics.trust import (
    DESCRIPTIONS,
    VERDICTS,
    attribution_methods,
    trust_table,
)


def test_every_builtin_attribution_method_has_a_verdict_and_a_description():
    methods = attribution_methods()
    assert {"saliency", "integrated_gradients", "rise", "occlusion", "vargrad"} <= set(methods)
    assert "feature_maps" not in methods and "activation_maximization" not in methods
    builtins = [m for m in methods if m in md.explanation.registry.BUILTINS]
    assert set(builtins) <= set(VERDICTS) and set(builtins) <= set(DESCRIPTIONS)


def test_trust_table_scores_and_renders(trained_small_model, tiny_ds):
    seen = []
    table = trust_table(trained_small_model, tiny_ds.test, ["saliency", "gradcam"],
                        n_images=3, steps=4, progress=seen.append)
    assert seen == ["saliency", "gradcam"]  # no windows: no unrestricted variant
    assert table.n_images == 3 and table.heads == ["digit_0", "digit_1", "digit_2"]
    r = table.row("saliency")
    for value in (r.pointing_game, r.relevance_mass, r.rank_accuracy, r.deletion_auc,
                  r.insertion_auc):
        assert 0.0 <= value <= 1.0
    assert -1.0 <= r.sanity_correlation <= 1.0 and r.seconds_per_map > 0
    assert 0 < table.box_share < 0.3
    md_table = table.to_markdown()
    assert md_table.count("\n") == 3 and "| gradcam |" in md_table
    assert "Trust table" in table._repr_html_()
    assert np.isfinite(table.to_dict()["rows"][0]["relevance_mass"])


def test_windowed_models_get_both_cam_settings():
    from multidigit.explanation.metrics.trust import _variants

    labels = [v[0] for v in _variants(md.build_model(seed=0), ["saliency", "gradcam"], {})]
    assert labels == ["saliency", "gradcam", "gradcam (whole image)"]


def test_faithfulness_over_a_fraction_of_the_pixels(trained_small_model, tiny_ds):
    from multidigit.explanation.metrics.checks import faithfulness

    x = tiny_ds.test.images[:3]
    maps = md.explain(trained_small_model, x, "saliency", head=0).maps
    part = faithfulness(trained_small_model, x, "saliency", head=0, steps=4, maps=maps,
                        max_fraction=0.5)
    np.testing.assert_allclose(part.fractions, [0, 0.125, 0.25, 0.375, 0.5])
    np.testing.assert_allclose(part.deletion_auc,
                               np.trapezoid(part.deletion, part.fractions) / 0.5)
    whole = faithfulness(trained_small_model, x, "saliency", head=0, steps=4)
    assert whole.fractions[-1] == 1.0
    np.testing.assert_allclose(whole.deletion[:3], part.deletion[::2][:3], atol=1e-6)
