"""The stage table is the one place a study stage is declared (issue 25, point 3):
the runner, its time estimate, the report and the command line all read it, so adding
a stage is one row plus its function.  The stages' work is faked (instant)."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from multidigit.study import StudyConfig, run_study, runner
from multidigit.study import report as R
from multidigit.study import stage_table as T
from multidigit.study import stages as S
from multidigit.study.config import EXPLAINER_OPTIONS, explainer_options
from multidigit.study.stage_table import STAGE_TABLE, Stage, check_table

NAMES = ["data", "compare", "cross_validation", "tuning", "final", "explain"]


def _report_cases():
    """The realistic stage results of the report tests (loaded from their file)."""
    path = Path(__file__).with_name("test_study_report.py")
    spec = importlib.util.spec_from_file_location("_study_report_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_data() -> SimpleNamespace:
    split = SimpleNamespace(images=np.zeros((2, 4, 4, 1), "float32"),
                            labels=np.zeros((2, 3), "int64"))
    return SimpleNamespace(splits={"train": split, "val": split, "test": split})


def _fake_stages(monkeypatch, calls: list) -> dict:
    """Each stage function returns the report tests' result of its stage, instantly."""
    results = _report_cases()._metrics()["stages"]
    results["compare"]["best"] = {"activation": "softmax", "loss": "binary_crossentropy"}
    monkeypatch.setattr(S, "load_data", lambda cfg: _fake_data())
    for stage in STAGE_TABLE:
        def fake(run, ds, *args, _name=stage.name):
            calls.append((_name, args))
            return copy.deepcopy(results[_name])
        monkeypatch.setattr(S, stage.function, fake)
    return results


def _noise_stage(calls: list, **kw) -> Stage:
    """A toy stage: reads the final model's test result, draws one figure."""
    import matplotlib.pyplot as plt

    def stage_noise(run, ds, test, progress):
        calls.append(("noise", (test["mean_digit_accuracy"], progress)))
        calls.append(("noise done_weight", run.done_weight))
        return {"accuracy": test["mean_digit_accuracy"] - 0.1,
                "figures": {"noise": run.figure(plt.figure(), "noise")}}

    row = {"name": "noise", "title": "Robustness to noise", "weight": 0.25,
           "function": stage_noise, "needs": ("final",), "inputs": ("final.test",),
           "progress": True}
    return Stage(**{**row, **kw})


def test_table_is_the_single_source():
    from multidigit import study
    from multidigit.cli import _stages_epilog

    names = [s.name for s in STAGE_TABLE]
    assert names == NAMES
    check_table(STAGE_TABLE)
    assert list(study.STAGES) == names
    # the runner: one step per row, in order
    steps = runner._steps(SimpleNamespace(config=StudyConfig.make(quick=True)),
                          _fake_data(), {}, False)
    assert [name for name, _ in steps] == names
    # the report: one numbered section per row, each with a builder and a macro
    sections = R._sections({}, lambda *a: None)
    assert [(s["number"], s["name"], s["title"]) for s in sections] == \
        [(i, s.name, s.title) for i, s in enumerate(STAGE_TABLE, start=1)]
    macros = R._environment().get_template("sections.html.j2").module
    for stage in STAGE_TABLE:
        assert callable(getattr(macros, stage.section)), stage.section
    # the command line lists the stages of the table
    listed = re.findall(r"^  (\S+) +(.+)$", _stages_epilog(), flags=re.M)
    assert listed == [(s.name, s.title) for s in STAGE_TABLE]


def test_weights_are_shares_of_the_run():
    assert sum(s.weight for s in STAGE_TABLE) == pytest.approx(1.0)
    assert all(s.weight > 0 for s in STAGE_TABLE)


def test_adding_a_stage_is_one_row(tmp_path, monkeypatch, capsys):
    """A toy stage appended to a copy of the table runs after its dependency, gets
    its input, is saved, resumed, counted in the progress and shown in the report and
    the command line's help."""
    from multidigit.cli import _stages_epilog

    calls: list = []
    results = _fake_stages(monkeypatch, calls)
    monkeypatch.setattr(T, "STAGE_TABLE", (*STAGE_TABLE, _noise_stage(calls)))
    out = tmp_path / "study"
    metrics = run_study(out=out, quick=True, progress=True)

    order = [name for name, _ in calls if name in (*NAMES, "noise")]
    assert order == [*NAMES, "noise"]  # after final, which it needs
    assert dict(calls)["noise"] == (results["final"]["test"]["mean_digit_accuracy"], True)
    # the time estimate reads the weights: all six real stages (total 1.0) were done
    # out of 1.25
    assert dict(calls)["noise done_weight"] == pytest.approx(1.0 / 1.25)
    assert metrics["stages"]["noise"]["accuracy"] == pytest.approx(0.8873)
    assert list(metrics["stages"]) == [*NAMES, "noise"]
    assert (out / "stages" / "noise.json").is_file()

    err = capsys.readouterr().err
    assert "stage 7/7: noise" in err and "stage noise done" in err
    assert "stage 1/7: data" in err

    page = (out / "report.html").read_text()
    assert "<h2>6. Explanations of test images</h2>" in page
    section = page[page.index("<h2>7. Robustness to noise</h2>"):]
    assert section.index('alt="noise"') < section.index("<h2>8. Conclusions")
    assert re.search(r"^  noise +Robustness to noise$", _stages_epilog(), flags=re.M)

    # resumed: nothing runs again
    calls.clear()
    run_study(out=out, quick=True, progress=True)
    assert calls == []
    assert "stage 7/7 noise: already done, resumed" in capsys.readouterr().err


def test_a_stage_before_its_dependency_is_refused(tmp_path, monkeypatch):
    calls: list = []
    _fake_stages(monkeypatch, calls)
    table = (*STAGE_TABLE[:2], _noise_stage(calls), *STAGE_TABLE[2:])
    monkeypatch.setattr(T, "STAGE_TABLE", table)
    with pytest.raises(ValueError, match="'noise' needs 'final' before it"):
        run_study(out=tmp_path / "study", quick=True)
    assert calls == []
    with pytest.raises(ValueError, match="two stages are named 'data'"):
        check_table((*STAGE_TABLE, STAGE_TABLE[0]))


@pytest.mark.parametrize("change, message", [
    ({"inputs": ("tuning",)}, "reads 'tuning': add 'tuning' to its needs"),
    ({"data": "half"}, "data is 'all' or 'experiment'"),
    ({"weight": -1.0}, "weight must be >= 0"),
])
def test_a_row_that_contradicts_itself_is_refused(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        _noise_stage([], **change)


def test_the_report_draws_a_stage_without_a_section_of_its_own(tmp_path, monkeypatch):
    """No builder, no macro: the generic section (heading, figures)."""
    (tmp_path / "noise.png").write_bytes(b"\x89PNG")
    metrics = _report_cases()._metrics()
    metrics["stages"]["noise"] = {"figures": {"noise": "noise.png"}}
    monkeypatch.setattr(T, "STAGE_TABLE", (*STAGE_TABLE, _noise_stage([])))
    page = R.render_report(StudyConfig.make(), metrics, tmp_path)
    assert re.search(r"<h2>7\. Robustness to noise</h2>\n<figure><img alt=\"noise\" "
                     r"src=\"data:image/png;base64,", page)
    monkeypatch.setattr(T, "STAGE_TABLE", (*STAGE_TABLE, dataclasses.replace(
        _noise_stage([]), section="nowhere")))
    with pytest.raises(ValueError, match="no section 'nowhere'"):
        R.render_report(StudyConfig.make(), metrics, tmp_path)


def test_stage_functions_are_looked_up_when_they_run(monkeypatch):
    """A row names its function, so that replacing it in stages (as tests do) works."""
    seen = []
    monkeypatch.setattr(S, "stage_data", lambda run, ds: seen.append(ds) or {})
    run = SimpleNamespace(config=StudyConfig.make(quick=True))
    ds = _fake_data()
    dict(runner._steps(run, ds, {}, False))["data"]()
    assert seen == [ds]


def test_explainer_options_are_the_study_defaults():
    assert explainer_options("deepdream", quick=True) == {"steps": 5}
    assert explainer_options("activation_maximization", quick=False) == {"steps": 20}
    assert explainer_options("scorecam", quick=True) == {"max_n": 32}
    assert explainer_options("rise", quick=False) == {"n_masks": 500}
    assert explainer_options("saliency", quick=True) == {}
    explainer_options("rise", quick=True)["n_masks"] = 1  # a copy: the table is unchanged
    assert EXPLAINER_OPTIONS["rise"][1] == {"n_masks": 100}
