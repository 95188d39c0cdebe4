"""The `multidigit data` command and the lazy import of the package."""

from __future__ import annotations

import subprocess
import sys


def test_cli_describe_and_generate(tmp_path, capsys):
    from multidigit.cli import main

    assert main(["data", "describe", "--images-per-class", "1", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"labels_shared_with_train": 0' in out
    assert main(["data", "generate", str(tmp_path / "g"), "--images-per-class", "1",
                 "--n-digits", "2"]) == 0
    assert len(list((tmp_path / "g" / "train").rglob("*.png"))) == 64
    assert main(["data", "describe", "--data", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_import_is_lazy():
    """`import multidigit` must not import TensorFlow (fast, and plugin-safe)."""
    code = "import sys, multidigit; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
