"""The study report: rendered from a Jinja2 template, every value escaped, and it reads
as a study (issue 27): honest intervals, one unit, metrics defined once, a paragraph
per stage, a diagram without Graphviz, and verdicts computed from the run's numbers."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from multidigit.study import StudyConfig, stages
from multidigit.study import conclusions as C
from multidigit.study.narrative import GLOSSARY
from multidigit.study.report import pct, render_report

COMBOS = ("softmax+binary_crossentropy", "sigmoid+binary_crossentropy",
          "softmax+categorical_crossentropy", "sigmoid+categorical_crossentropy")


def _folds(scores, n_train=640, n_val=640):
    return [{"fold": i, "n_train": n_train, "n_val": n_val, "mean_digit_accuracy": s,
             "whole_accuracy": s ** 3, "hamming_loss": (1 - s) / 5,
             "mean_brier_score": 2 * (1 - s), "mean_ece": (1 - s) / 3}
            for i, s in enumerate(scores)]


def _compare(scores: dict) -> dict:
    from multidigit.experiments.comparison import corrected_interval

    rows = []
    for key, x in sorted(scores.items(), key=lambda kv: -np.mean(kv[1])):
        act, loss = key.split("+")
        lo, hi = corrected_interval(np.array(x), 1.0)  # linear, as older studies saved
        rows.append({"key": key, "activation": act, "loss": loss, "n": len(x),
                     "mean": float(np.mean(x)), "std": float(np.std(x, ddof=1)),
                     "ci_low": lo, "ci_high": hi, "whole_accuracy": 0.5,
                     "mean_brier_score": 0.3, "mean_ece": 0.05})
    return {"rows": rows, "scores": scores, "verdict": "the verdict",
            "cv": {k: [{"k": len(v), "folds": _folds(v)}] for k, v in scores.items()},
            "figures": {"comparison": "comparison.png"}}


def _metrics(evil: str = "x", *, test_acc: float = 0.9873, scores: dict | None = None,
             trials_acc=(0.93, 0.91)) -> dict:
    scores = scores or {COMBOS[0]: [0.9197, 0.7797], COMBOS[1]: [0.88, 0.80],
                        COMBOS[2]: [0.85, 0.75], COMBOS[3]: [0.80, 0.70]}
    cv_scores = scores[max(scores, key=lambda k: np.mean(scores[k]))]
    test = {"mean_digit_accuracy": test_acc, "whole_accuracy": 0.964,
            "digit_accuracy": [test_acc] * 3, "hamming_loss": (1 - test_acc) / 5,
            "mean_brier_score": 0.0213, "mean_ece": 0.0071, "n_images": 2000,
            "reports": [{"3": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667,
                               "support": 2}}] * 3}
    splits = {n: {"images": i, "labels": i // 10, "image_shape": [84, 84, 1],
                  "labels_shared_with_train": 0}
              for n, i in (("train", 6400), ("val", 1600), ("test", 2000))}
    hp = [{"conv_1": 24, "learning_rate": 0.001}, {"conv_1": 32, "learning_rate": 0.002}]
    return {"seconds": 312.4, "stages": {
        "data": {"describe": {"splits": splits}, "figures": {}},
        "compare": {**_compare(scores), "verdict": evil},
        "cross_validation": {"k": 2, "folds": _folds(cv_scores),
                             "summary": {"mean_digit_accuracy": {
                                 "mean": float(np.mean(cv_scores)),
                                 "std": float(np.std(cv_scores, ddof=1))}},
                             "model_params": {"preset": "shared"}, "figures": {}},
        "tuning": {"trials": [{"trial_id": str(i), "hyperparameters": h,
                               "score": 0.2345678901234567 + i, "val_accuracy": a,
                               "status": "COMPLETED"} for i, (h, a) in
                              enumerate(zip(hp, trials_acc))],
                   "best_hyperparameters": hp[0], "best_score": 0.2345678901234567,
                   "tuner": "random", "figures": {}},
        "final": {"test": test, "model_params": {"preset": evil}, "epochs": 8,
                  "batch_size": 128, "train_seconds": 145.0, "train_images": 8000,
                  "layers": [{"name": "conv_1", "type": "Conv2D", "output": "28x84x32",
                              "params": 320, "inputs": ["image"]}],
                  "figures": {"architecture": "architecture.png"}},
        "explain": {"methods": {"saliency": {"error": evil}, evil: {"seconds": 1.0}},
                    "figures": {}},
    }}


def _page(tmp_path, metrics=None, **kw) -> str:
    for name in ("comparison.png", "architecture.png"):
        (tmp_path / name).write_bytes(b"\x89PNG")
    return render_report(StudyConfig.make(**kw), metrics or _metrics(), tmp_path)


def _text(page: str) -> str:
    """The page without its embedded images and style sheet."""
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]*", "", page)
    return re.sub(r"<style>.*?</style>", "", page, flags=re.S)


def test_report_escapes_every_value(tmp_path):
    evil = "<script>alert(1)</script>"
    cfg = StudyConfig.make(quick=True, data="<b>folder</b>")
    (tmp_path / "comparison.png").write_bytes(b"\x89PNG")
    page = render_report(cfg, _metrics(evil), tmp_path)
    assert "<script>" not in page and "<b>folder" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("&lt;script&gt;") >= 4  # verdict, model params, error, method name
    assert page.startswith("<!DOCTYPE html>")


def test_no_interval_outside_0_100(tmp_path):
    page = _text(_page(tmp_path))
    found = re.findall(r"\[(-?[\d.]+) %, (-?[\d.]+) %\]", page)
    assert len(found) >= 4 + 2 + 1  # compare rows, cross-validation, headline
    for lo, hi in found:
        assert 0 <= float(lo) <= float(hi) <= 100, (lo, hi)
    # the 2-fold scores that gave "[72.19 %, 111.74 %]" before
    assert "111.74" not in page and "-49.50" not in page


def test_one_unit_throughout(tmp_path):
    page = _text(_page(tmp_path))
    for value in re.findall(r"(-?[\d.]+) %", page):
        assert 0 <= float(value) <= 100, value
    # accuracies appear as percentages, never as fractions
    assert "91.97 %" in page and "98.73 %" in page and "96.40 %" in page
    assert not re.search(r"\b0\.\d{4,}", page), re.search(r"\b0\.\d{4,}", page)
    assert "0.2345678901234567" not in page and "0.235" in page  # tuning score rounded


def test_every_metric_defined_once(tmp_path):
    page = _page(tmp_path)
    for term in ("Per-digit accuracy", "Whole-number accuracy", "Hamming loss",
                 "Brier score", "ECE", "95 % interval", "Tuning score"):
        assert len(re.findall(rf"<dfn id=\"[\w-]+\">{re.escape(term)}", page)) == 1, term
    assert page.count("<dfn") == len(GLOSSARY) == 7  # each once, nothing defined twice


def test_each_stage_has_its_paragraph(tmp_path):
    page = _page(tmp_path)
    paragraphs = re.findall(r'<p class="stage">(.*?)</p>', page, flags=re.S)
    assert len(paragraphs) == 5  # data, compare, cross-validation, tuning, final
    for p in paragraphs:
        assert "What:" in p and "On:" in p and "Budget:" in p, p
    for p in paragraphs[1:4]:  # the experiments say why their number is lower
        assert "Why it differs from the final 98.73 %" in p and "8,000 images" in p, p
    assert "8 epochs, batch 128, 145 s" in paragraphs[4]
    assert "on 640 images" in paragraphs[1] or "about 640 images" in paragraphs[1]


def test_findings_not_history_and_a_what_we_learned_box(tmp_path):
    page = _page(tmp_path)
    assert "Earlier versions" not in page
    box = page[page.index('<div class="box">'):]
    assert "What we learned" in box and 'objective="keras"' in box.split("</div>")[0]
    assert "dropout and augmentation are active only" in page


def test_print_ready_and_self_contained(tmp_path):
    page = _page(tmp_path)
    assert "@page{size:A4" in page and "break-inside:avoid" in page
    assert "<link" not in page and 'src="http' not in page and "<script" not in page
    assert "`" not in page  # no literal backticks (the old Graphviz message had them)


def test_conclusions_table_and_limits(tmp_path):
    page = _text(_page(tmp_path))
    section = page[page.index("7. Conclusions"):]
    for claim in ("softmax + binary cross-entropy is the best", "tuning the hyperparameters",
                  "the test accuracy is 98.6 %"):
        assert claim in section, claim
    assert "Limits of this run" in section and "Try next" in section
    assert "auto_examples/index.html" in section and "multidigit demo" in section


@pytest.mark.parametrize("acc, verdict", [(0.9873, "reproduced"), (0.9950, "exceeded"),
                                          (0.90, "not reached")])
def test_test_accuracy_verdict_follows_the_numbers(acc, verdict):
    row = C.claim_test_accuracy(_metrics(test_acc=acc)["stages"]["final"])
    assert row["verdict"] == verdict and pct(acc) in row["measured"]


def test_best_combination_verdict_follows_the_numbers():
    clear = {COMBOS[0]: [0.95, 0.951, 0.949, 0.95], COMBOS[1]: [0.80, 0.79, 0.81, 0.80],
             COMBOS[2]: [0.7] * 4, COMBOS[3]: [0.6] * 4}
    assert C.claim_best_combination(_compare(clear))["verdict"] == "supported"
    flipped = {COMBOS[1]: clear[COMBOS[0]], COMBOS[0]: clear[COMBOS[1]],
               COMBOS[2]: clear[COMBOS[2]], COMBOS[3]: clear[COMBOS[3]]}
    assert C.claim_best_combination(_compare(flipped))["verdict"] == "not supported"
    noisy = _metrics()["stages"]["compare"]  # 2 folds, 1-point lead: cannot tell
    assert C.claim_best_combination(noisy)["verdict"] == "inconclusive"


def test_tuning_verdict_follows_the_numbers():
    st = _metrics(trials_acc=(0.95, 0.60))["stages"]
    assert C.claim_tuning(st["tuning"], st["cross_validation"])["verdict"] == "supported"
    st = _metrics(trials_acc=(0.851, 0.85))["stages"]
    assert C.claim_tuning(st["tuning"], st["cross_validation"])["verdict"] == "inconclusive"
    st["tuning"]["trials"] = st["tuning"]["trials"][:1]
    assert C.claim_tuning(st["tuning"], st["cross_validation"])["verdict"] == "not tested"


def test_diagram_without_graphviz(tmp_path, monkeypatch):
    """No `dot` on this machine: the final stage still draws the network (matplotlib)."""
    import multidigit as md

    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    model = md.build_model(input_shape=(28, 84, 1), preset="small", seed=0)
    saved = []

    class Run:  # the one StudyFolder method _final_figures uses
        def figure(self, fig, name):
            fig.savefig(tmp_path / f"{name}.png", dpi=30)
            saved.append(name)
            return f"{name}.png"

    figs = stages._final_figures(Run(), model, _FakeResult(), {"loss": [1.0, 0.5]})
    assert "architecture" in figs and "model" not in figs and "model_error" not in figs
    metrics = _metrics()
    metrics["stages"]["final"]["figures"] = figs
    page = render_report(StudyConfig.make(), metrics, tmp_path)
    assert "the network, drawn from its layers" in page and "Graphviz's" not in page
    assert 'alt="the same network as Keras' not in page  # no Graphviz picture here


def test_graphviz_picture_kept_where_dot_exists(tmp_path, monkeypatch):
    import multidigit as md
    from multidigit import plots

    monkeypatch.setattr(shutil, "which", lambda *a, **k: "/usr/bin/dot")
    monkeypatch.setattr(plots, "plot_model", lambda model: plots.plot_architecture(model))

    class Run:
        def figure(self, fig, name):
            return f"{name}.png"

    model = md.build_model(input_shape=(28, 84, 1), preset="small", seed=0)
    figs = stages._final_figures(Run(), model, _FakeResult(), {"loss": [1.0]})
    assert figs["model"] == "model.png" and figs["architecture"] == "architecture.png"


class _FakeResult:
    confusion_matrices = np.stack([np.eye(10, dtype=int)] * 3)
    digit_accuracy = [1.0, 1.0, 1.0]


def test_missing_figure_is_named(tmp_path):
    page = render_report(StudyConfig.make(quick=True), _metrics("x"), tmp_path)
    assert "figure comparison.png missing" in page


def test_pct():
    assert pct(None) == "n/a" and pct(0.12345) == "12.35 %"
