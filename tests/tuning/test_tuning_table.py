"""The trial table: readable in an 80-column terminal / log file, and in Jupyter (HTML)."""

from __future__ import annotations

import io
import re

from rich.console import Console

import multidigit as md
from multidigit.tuning.table import TrialTable


def _rows(space: str, n: int = 3) -> list[dict]:
    values = {name: (spec.get("min") or (spec.get("values") or [True])[0]
                     if spec["type"] != "fixed" else spec["value"])
              for name, spec in md.SEARCH_SPACES[space].items()}
    return [{"trial_id": f"{i:02d}", "hyperparameters": dict(values), "score": 1.5 - i / 10,
             "epochs": 2, "seconds": 12.25, "status": "COMPLETED", "worker": "tuner0",
             "error": None} for i in range(n)]


def _render(renderable, width: int = 80) -> str:
    buf = io.StringIO()
    Console(width=width, file=buf, color_system=None).print(renderable)
    return buf.getvalue()


def _header(text: str) -> str:
    return next(line for line in text.splitlines() if "trial" in line and "status" in line)


def test_wide_space_stays_readable_in_80_columns():
    text = _render(TrialTable(_rows("wide"), "val_digit_0_accuracy", title="random search"))
    assert max(len(line) for line in text.splitlines()) <= 80
    header = _header(text)
    assert "…" not in header
    for word in ("trial", "status", "score", "epochs", "sec", "hyperparameters"):
        assert word in header
    assert "learning_rate=" in text and "batch_norm=" in text
    assert "score: val_digit_0_accuracy, higher is better" in text
    assert "done" in text and "1.3" in text


def test_study_space_gets_one_column_per_hyperparameter_when_it_fits():
    text = _render(TrialTable(_rows("study"), "val_loss"), width=120)
    header = _header(text)
    for word in ("conv_1", "conv_2", "conv_3", "dense_units"):
        assert word in header
    assert "…" not in text
    # the same table in 80 columns is still readable
    narrow = _render(TrialTable(_rows("study"), "val_loss"), width=80)
    assert "…" not in _header(narrow) and max(map(len, narrow.splitlines())) <= 80


def test_worker_column_only_in_distributed_searches():
    rows = _rows("tiny")
    assert "worker" not in _header(_render(TrialTable(rows, "val_loss")))
    assert "tuner0" in _render(TrialTable(rows, "val_loss", show_worker=True))  # a worker
    rows[1]["worker"] = "tuner1"
    assert "worker" in _header(_render(TrialTable(rows, "val_loss")))


def _result(space: str = "tiny") -> md.TuneResult:
    rows = _rows(space)
    return md.TuneResult(best_hyperparameters=rows[-1]["hyperparameters"],
                         best_score=rows[-1]["score"], trials=rows, objective="val_loss",
                         direction="min", tuner="random",
                         search_space=md.SEARCH_SPACES[space], seconds=3.5)


def test_result_html_and_short_repr():
    res = _result()
    html = res._repr_html_()
    assert html.count("<table>") == 2
    assert "val_loss" in html and "1.3 (best)" in html and "3 of 3" in html
    assert "conv_1=4" in html and "<th>dense_units</th>" in html
    assert re.search(r"<td>done|<td>completed", html)
    text = repr(res)
    assert len(text) < 200 and text.startswith("TuneResult(tuner='random', trials=3/3")
    assert "val_loss=1.3" in text


def test_result_table_renders_in_a_log_file():
    text = _render(_result("wide").table(title="random search"))
    assert "random search" in text and "…" not in _header(text)
