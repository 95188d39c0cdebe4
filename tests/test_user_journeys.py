"""What a user runs, the way they run it: every step in a fresh Python process.

A model saved in one process is loaded, read and explained in another (for every
preset, through ``md.load_model`` and through Keras' own ``load_model`` after ``import
multidigit``); README's study -> demo path runs as shell commands and the demo is read
over HTTP; README's notebook snippet runs as a script.  Timeouts only catch a true hang:
they are far above what a busy 2-core machine needs.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import multidigit as md

ROOT = Path(__file__).resolve().parents[1]
HANG = 1800  # seconds: only a hang gets near this


def _env() -> dict[str, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg",
               GRADIO_ANALYTICS_ENABLED="False")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _python(code: str, cwd: Path) -> str:
    """Run ``code`` in a new interpreter; return its stdout (fail with its stderr)."""
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=_env(), text=True,
                          capture_output=True, timeout=HANG)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "multidigit", *args], cwd=cwd, env=_env(),
                          text=True, capture_output=True, timeout=HANG)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


SAVE_EVERY_PRESET = """
import multidigit as md
for preset in md.PRESETS:
    model = md.build_model(preset=preset, input_shape=(28, 84, 1), seed=0)
    md.save_model(model, f"{preset}.keras")
print("saved")
"""

LOAD_EVERY_PRESET = """
import json, numpy as np
import multidigit as md
x = np.random.default_rng(0).random((2, 28, 84, 1), dtype=np.float32)
out = {}
for preset in md.PRESETS:
    if LOADER == "keras":
        import keras   # imported after multidigit: Keras' own loader must find our classes
        model = keras.saving.load_model(f"{preset}.keras")
    else:
        model = md.load_model(f"{preset}.keras")
    labels = md.predict(model, x).labels
    maps = md.explain(model, x, method="gradcam", head=0).maps
    out[preset] = [labels, list(np.asarray(maps).shape)]
print(json.dumps(out))
"""


@pytest.mark.parametrize("loader", ["multidigit", "keras"])
def test_every_preset_saved_in_one_process_loads_in_another(tmp_path, loader):
    assert _python(SAVE_EVERY_PRESET, tmp_path).strip() == "saved"
    out = json.loads(_python(f"LOADER = {loader!r}\n" + LOAD_EVERY_PRESET, tmp_path))
    assert sorted(out) == sorted(md.PRESETS)
    for preset, (labels, shape) in out.items():
        assert len(labels) == 2 and all(re.fullmatch(r"\d{3}", s) for s in labels), preset
        assert shape[0] == 2 and shape[-2:] == [28, 84], (preset, shape)


def test_a_saved_model_reads_the_same_in_a_fresh_process(tmp_path):
    code = """
import numpy as np, multidigit as md
x = np.random.default_rng(1).random((3, 84, 84, 1), dtype=np.float32)
if MODE == "save":
    model = md.build_model(seed=3)
    md.save_model(model, "m.keras")
else:
    model = md.load_model("m.keras")
np.save(MODE + ".npy", md.predict(model, x).probabilities)
"""
    _python("MODE = 'save'\n" + code, tmp_path)
    _python("MODE = 'load'\n" + code, tmp_path)
    import numpy as np

    np.testing.assert_allclose(np.load(tmp_path / "save.npy"), np.load(tmp_path / "load.npy"),
                               atol=1e-6)


def _readme_python_block() -> str:
    text = (ROOT / "README.md").read_text()
    block = text.split("## In a script or notebook", 1)[1]
    return re.search(r"```python\n(.*?)\n```", block, flags=re.DOTALL).group(1)


def test_readme_notebook_snippet_runs_as_a_script(tmp_path):
    """README's snippet, with the data and the training made tiny (and nothing else)."""
    code = _readme_python_block()
    tiny = {"md.load_dataset()": "md.load_dataset(images_per_class=1)",
            "md.train(model, ds)": "md.train(model, ds, epochs=1)",
            "ex.plot()": "ex.plot().savefig('explained.png')"}
    for old, new in tiny.items():
        assert old in code, f"README's snippet changed: update this test ({old!r})"
        code = code.replace(old, new)
    out = _python(code + "\nprint('labels', md.predict(model, ds.test.images[:4]).labels)",
                  tmp_path)
    assert re.search(r"labels \['\d{3}', '\d{3}', '\d{3}', '\d{3}'\]", out), out
    assert (tmp_path / "explained.png").stat().st_size > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited ({proc.returncode}): "
                                 f"{proc.stderr.read()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(1)
    raise AssertionError("the demo never listened")


def _check_study_console(proc: subprocess.CompletedProcess, out: Path) -> None:
    """No TensorFlow chatter; tables and messages fit 80 columns; a path is never split
    (the terminal wraps it visually, a copy gets it whole), so a line may be longer only
    by its last word, a path."""
    for word in ("oneDNN", "absl", "port.cc", "Traceback"):
        assert word not in proc.stderr, proc.stderr
    assert "stage 6/6: explain" in proc.stderr
    assert "per-digit accuracy" in proc.stderr and "report.html" in proc.stderr
    lines = (proc.stdout + proc.stderr).splitlines()
    too_wide = [ln for ln in lines if len(ln) > 80
                and not (len(ln.rsplit(" ", 1)[0]) <= 80 and "/" in ln.rsplit(" ", 1)[-1])]
    assert not too_wide, too_wide
    assert f"report: {out / 'report.html'}" in proc.stderr


@pytest.mark.slow
def test_readme_study_then_demo_then_a_reading_over_http(tmp_path):
    """README's "Try it live": the study writes a model (its console as a user sees it),
    the demo serves it, a browser (gradio_client) gets a reading; each command is its
    own process."""
    pytest.importorskip("gradio")
    gradio_client = pytest.importorskip("gradio_client")
    # as a user's shell runs it: no TF_CPP_MIN_LOG_LEVEL, an 80-column terminal
    env = {**_env(), "COLUMNS": "80"}
    env.pop("TF_CPP_MIN_LOG_LEVEL")
    study = subprocess.run([sys.executable, "-m", "multidigit", "study", "--quick", "--out",
                            "multidigit-study"], cwd=tmp_path, env=env, text=True,
                           capture_output=True, timeout=HANG)
    assert study.returncode == 0, study.stderr[-3000:]
    _check_study_console(study, Path("multidigit-study"))  # the path as typed
    assert (tmp_path / "multidigit-study" / "report.html").exists()
    metrics = json.loads((tmp_path / "multidigit-study" / "metrics.json").read_text())
    accuracy = metrics["final"]["test"]["mean_digit_accuracy"]
    assert 0.2 < accuracy <= 1.0, accuracy  # above chance (0.1) even for --quick
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "multidigit", "demo", "--port", str(port)],
                            cwd=tmp_path, env=_env(), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        _wait_for(port, proc)
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        out = client.predict("none", api_name="/random_test_image")
        labels = [o for o in out if isinstance(o, str) and re.fullmatch(r"\d{3}", o)]
        assert labels, out
        assert any(isinstance(o, str) and "true label" in o for o in out), out
    finally:
        proc.terminate()
        proc.wait(timeout=HANG)


# ------------------------------------------------------- every documented command has a home

#: How each command that README.md and docs/*.rst tell a user to type is exercised: by
#: a test of this file, by another test, or by .ci/run.  A new command in the docs
#: fails test_every_documented_command_is_exercised until it gets a line here.
COMMANDS = {
    r"pip install .*": ".ci/run installs the package with its extras, as documented",
    r"multidigit study --out multidigit-study": "test_readme_study_then_demo_then_a_reading_over_http",
    r"multidigit demo": "test_readme_study_then_demo_then_a_reading_over_http",
    r"python -m pytest -q -n 2": ".ci/run runs README's test command verbatim",
    r"python -m sphinx .*": ".ci/run builds the documentation so",
    r"MULTIDIGIT_FAST=1 python examples/plot_\d\d_\w+\.py": "test_documented_fast_examples_run",
    r"multidigit tune --search-space '.*'": "test_documented_tune_command_runs",
    r"multidigit tune --(chief|worker) .*": "tests/tuning/test_tuning_cli.py (chief and "
    "workers on loopback; the documented addresses are other machines)",
    r"chromium --headless .*": "a browser's own command (docs/study_report.rst: print the "
    "report to PDF); the report's print CSS is tested in tests/study/test_study_report.py",
    r"python docs/screenshot_(demo|report).py .*": "needs Chromium: run by hand for the "
    "docs' screenshots (docs/try_it_live.rst, docs/study_report.rst)",
}


def _documented_commands() -> list[str]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]:
        text = path.read_text()
        if path.suffix == ".md":
            for block in re.findall(r"```bash\n(.*?)\n```", text, flags=re.DOTALL):
                found += [ln.strip() for ln in block.splitlines() if ln.strip()]
        else:
            found += [m.strip() for m in re.findall(r"^\s*\$ (.*)$", text, flags=re.M)]
    commands = []
    for line in found:
        line = line.split("  #", 1)[0].rstrip(" \\")
        commands += [part.strip() for part in line.split("&&")]
    return commands


def test_every_documented_command_is_exercised():
    commands = _documented_commands()
    assert any("multidigit study" in c for c in commands)  # the scan finds them
    here = Path(__file__).read_text()
    for command in commands:
        homes = [home for pattern, home in COMMANDS.items() if re.fullmatch(pattern, command)]
        assert homes, f"no test or CI step runs the documented command {command!r}"
        for home in homes:
            if home.startswith("test_"):
                assert f"def {home}(" in here, home


def _documented(pattern: str) -> list[str]:
    return [c for c in _documented_commands() if re.fullmatch(pattern, c)]


@pytest.mark.slow
def test_documented_fast_examples_run(tmp_path):
    commands = _documented(r"MULTIDIGIT_FAST=1 python examples/plot_\d\d_\w+\.py")
    assert commands
    for command in commands:
        script = ROOT / command.split()[-1]
        done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, text=True,
                              env={**_env(), "MULTIDIGIT_FAST": "1"}, capture_output=True,
                              timeout=HANG)
        assert done.returncode == 0, (command, done.stderr[-3000:])


def test_documented_tune_command_runs(tmp_path):
    """The docs' search-space command, with the data and the budget made tiny."""
    (command,) = _documented(r"multidigit tune --search-space '.*'")
    space = re.search(r"--search-space '(.*)'", command).group(1)
    done = _cli("tune", "--search-space", space, "--data", "mini", "--images-per-class", "1",
                "--image-size", "28", "--max-trials", "1", "--epochs", "1",
                "--directory", "tuning", cwd=tmp_path)
    assert "conv_1=" in done.stdout
