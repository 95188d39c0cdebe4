"""README.md opens with the two commands that CI runs; keep them well-formed."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.DOTALL)


def test_first_command_runs_the_study():
    blocks = _blocks(README.read_text())
    assert blocks, "README.md has no bash block"
    assert "pip install" in blocks[0] and "multidigit study" in blocks[0]


def test_second_command_installs_and_runs_the_tests():
    text = README.read_text()
    after = text.split("<!-- test-command -->", 1)[1]
    cmd = _blocks(after)[0]
    assert "pip install" in cmd and "pytest" in cmd
    assert _blocks(text)[1] == cmd  # it is the second command of the README
