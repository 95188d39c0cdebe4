"""A model saved before the modules moved (issue 25) loads, in a fresh process, unchanged.

A ``.keras`` file names each multidigit class twice: by its registered name
(``multidigit>ProbabilityHead``), which Keras looks up, and by the module that defined
it when it was saved.  A file saved before the move names the old modules; this test
writes such a file (the new module paths swapped back for the old ones of
``multidigit._moved.MOVED``) and reads it where nothing has been imported yet.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import multidigit as md
from multidigit._moved import MOVED


def _swap_back(node, old_of: dict[str, str], swapped: list[str]) -> None:
    """Put the old module path wherever a config names a moved module."""
    if isinstance(node, dict):
        if node.get("module") in old_of:
            swapped.append(node["module"])
            node["module"] = old_of[node["module"]]
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            _swap_back(value, old_of, swapped)


def _as_saved_before_the_move(src, dst) -> list[str]:
    """Copy of ``src`` whose config names the old modules; returns the ones swapped."""
    old_of = {new: old for old, new in MOVED.items()}
    swapped: list[str] = []
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                _swap_back(config, old_of, swapped)
                data = json.dumps(config).encode()
            zout.writestr(item, data)
    return swapped


@pytest.mark.skipif(not MOVED, reason="no module has moved")
def test_a_model_saved_before_the_move_loads_in_a_fresh_process(tmp_path):
    model = md.build_model(input_shape=(28, 28, 1), filters=(4,), dense_units=8, seed=0)
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    out = model.predict(x, verbose=0)
    expected = np.stack(list(out.values()) if isinstance(out, dict) else out)
    saved = md.save_model(model, tmp_path / "now.keras")
    swapped = _as_saved_before_the_move(saved, tmp_path / "before.keras")
    assert swapped, "the config names no moved module: nothing is tested"
    np.save(tmp_path / "x.npy", x)
    code = (
        "import sys, numpy as np, multidigit as md\n"
        f"m = md.load_model({str(tmp_path / 'before.keras')!r})\n"
        f"p = m.predict(np.load({str(tmp_path / 'x.npy')!r}), verbose=0)\n"
        "p = np.stack(list(p.values()) if isinstance(p, dict) else p)\n"
        f"np.save({str(tmp_path / 'got.npy')!r}, p)\n"
    )
    # an old module path imported while loading would warn: make that an error
    subprocess.run([sys.executable, "-W", "error::FutureWarning", "-c", code], check=True,
                   timeout=1800)
    np.testing.assert_allclose(np.load(tmp_path / "got.npy"), expected, rtol=1e-6, atol=1e-6)
