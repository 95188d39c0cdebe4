"""The study's explain stage and the report's explanation section."""

from __future__ import annotations

import numpy as np

from multidigit.model.heads import predict_heads
from multidigit.study import StudyConfig
from multidigit.study.report import render_report
from multidigit.study.stages import explained_images


def test_explained_images_differ_and_include_a_wrong_reading(trained_small_model, tiny_ds):
    test = tiny_ds.test
    picked = explained_images(trained_small_model, test, 4)
    assert len(picked) == 4
    assert len({p["label"] for p in picked}) == 4  # different labels
    read = predict_heads(trained_small_model, test.images[:500]).argmax(-1)
    wrong = np.flatnonzero((read != test.labels[:500]).any(axis=1))
    assert len(wrong) > 0  # a 3-epoch model misreads some
    assert picked[0]["index"] == wrong[0] and picked[0]["wrong"]
    for p in picked:
        assert p["label"] == test.label_strings[p["index"]]
        assert p["read"] == "".join(map(str, read[p["index"]]))
    # greedy: every position shows several different digits
    digits = np.array([[int(c) for c in p["label"]] for p in picked])
    assert all(len(set(digits[:, k])) >= 3 for k in range(3))


def test_report_explains_each_method_with_its_trust_line(tmp_path):
    (tmp_path / "explain_gradcampp.png").write_bytes(b"\x89PNG")
    metrics = {"seconds": 1.0, "stages": {"explain": {
        "images": [{"index": 7, "label": "042", "read": "043", "wrong": True}],
        "methods": {"gradcam++": {"seconds": 1.0, "description": "Channel weights.",
                                  "verdict": "Use it restricted."}},
        "figures": {"gradcampp": "explain_gradcampp.png"}}}}
    page = render_report(StudyConfig.make(quick=True), metrics, tmp_path)
    for text in ("<h3>gradcam++</h3>", "<p>Channel weights.</p>",
                 "<strong>Trust:</strong> Use it restricted.",
                 "<td>1</td><td>7</td><td>042</td><td>043</td><td>wrong</td>",
                 "<figcaption>gradcam++</figcaption>"):
        assert text in page, text
