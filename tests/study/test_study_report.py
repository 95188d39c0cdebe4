"""The study report: rendered from a Jinja2 template, every value escaped."""

from __future__ import annotations

from multidigit.study import StudyConfig
from multidigit.study.report import pct, render_report


def _metrics(evil: str) -> dict:
    test = {"mean_digit_accuracy": 0.9, "whole_accuracy": 0.75, "digit_accuracy": [0.9, 0.8],
            "hamming_loss": 0.1234, "n_images": 20,
            "reports": [{"3": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667,
                               "support": 2}}]}
    return {"seconds": 12.4, "stages": {
        "compare": {"rows": [{"activation": "softmax", "loss": "categorical_crossentropy",
                              "mean": 0.9, "std": 0.01, "ci_low": 0.8, "ci_high": 0.95}],
                    "verdict": evil, "figures": {"comparison": "comparison.png"}},
        "final": {"test": test, "model_params": {"preset": evil}, "epochs": 2,
                  "batch_size": 64, "train_seconds": 3.0,
                  "figures": {"model_error": evil}},
        "explain": {"methods": {"saliency": {"error": evil}, evil: {"seconds": 1.0}},
                    "figures": {}},
    }}


def test_report_escapes_every_value(tmp_path):
    evil = "<script>alert(1)</script>"
    cfg = StudyConfig.make(quick=True, data="<b>folder</b>")
    (tmp_path / "comparison.png").write_bytes(b"\x89PNG")
    page = render_report(cfg, _metrics(evil), tmp_path)
    assert "<script>" not in page and "<b>folder" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("&lt;script&gt;") >= 4  # verdict, model error, error, method name
    assert page.startswith("<!DOCTYPE html>")


def test_report_content(tmp_path):
    (tmp_path / "comparison.png").write_bytes(b"\x89PNG")
    page = render_report(StudyConfig.make(quick=True), _metrics("grouped folds agree"),
                         tmp_path)
    for text in ("seed 0, quick settings, total 12 s.", "90.00 %", "75.00 %",
                 "90.00 %, 80.00 %", "0.1234", "<strong>Verdict:</strong> grouped folds agree",
                 "data:image/png;base64,iVBORw==", "<figcaption>comparison</figcaption>",
                 "2 epochs, batch 64, 3 s.", "<td>3</td><td>1.000</td><td>0.500</td>",
                 "failed: grouped folds agree"):
        assert text in page, text
    assert "2. Output activation x loss" in page and "1. Data" not in page


def test_missing_figure_is_named(tmp_path):
    page = render_report(StudyConfig.make(quick=True), _metrics("x"), tmp_path)
    assert "figure comparison.png missing" in page


def test_pct():
    assert pct(None) == "n/a" and pct(0.12345) == "12.35 %"
