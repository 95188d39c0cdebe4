"""Explainer plugins through the ``multidigit.explainers`` entry-point group.

The occlusion example plugin is *really* installed (``pip install --target``) and found
through ``importlib.metadata``; broken plugins are fake distributions on ``sys.path``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import multidigit as md
from multidigit.errors import ParameterError, PluginWarning
from multidigit.explanation import registry as ex_mod

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SRC = ROOT / "examples" / "occlusion_plugin"


@pytest.fixture
def registry():
    """Restore the registry, the plugin flag, sys.path and imported plugin modules."""
    saved = dict(ex_mod._REGISTRY)
    path = list(sys.path)
    modules = set(sys.modules)
    yield
    ex_mod._REGISTRY.clear()
    ex_mod._REGISTRY.update(saved)
    ex_mod._PLUGINS_LOADED = False
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.startswith(("multidigit_occlusion", "broken_plugin_mod", "clash_mod",
                            "override_mod")):
            del sys.modules[name]
    importlib.invalidate_caches()


def _activate(site: Path) -> None:
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    ex_mod._PLUGINS_LOADED = False


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory) -> Path:
    """pip-install examples/occlusion_plugin into a private --target folder (offline)."""
    tmp = tmp_path_factory.mktemp("plugin")
    src = tmp / "src"
    shutil.copytree(PLUGIN_SRC, src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    site = tmp / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--target", str(site), str(src)],
        capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr
    assert list(site.glob("multidigit_occlusion-*.dist-info"))
    return site


def _fake_dist(root: Path, dist: str, entry: str, module: str, code: str) -> Path:
    """A minimal installed distribution: ``dist-info`` with entry_points.txt + module."""
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[multidigit.explainers]\n{entry}\n")
    (root / f"{module}.py").write_text(textwrap.dedent(code))
    return root


@pytest.fixture
def tiny_model():
    return md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 28, 1),
                          preset="small", filters=(4, 8), dense_units=16, seed=0)


def test_installed_plugin_end_to_end(registry, installed_plugin, tiny_model, tiny_ds):
    assert "plugin_occlusion" not in ex_mod._REGISTRY
    _activate(installed_plugin)
    assert "plugin_occlusion" in md.list_explainers()
    cls = md.get_explainer("plugin_occlusion")
    assert cls.__module__ == "multidigit_occlusion"
    assert Path(sys.modules["multidigit_occlusion"].__file__).is_relative_to(installed_plugin)
    x = tiny_ds.test.images[:2]
    ex = md.explain(tiny_model, x, method="plugin_occlusion", size=7, stride=7)
    assert ex.maps.shape == (2, 3, 28, 28) and np.all(np.isfinite(ex.maps))
    one = md.explain(tiny_model, x, method="plugin_occlusion", head="digit_1", size=7,
                     stride=7)
    np.testing.assert_allclose(one.maps, ex.maps[:, 1], atol=1e-5)
    from multidigit.explanation.testing import check_explainer

    check_explainer(cls, options={"size": 5, "stride": 5})


def test_broken_plugin_warns_and_is_skipped(registry, tmp_path, tiny_model, tiny_ds):
    site = _fake_dist(tmp_path, "broken_plugin", "broken = broken_plugin_mod:Explainer",
                      "broken_plugin_mod", "raise ImportError('needs libfoo 9')\n")
    _activate(site)
    with pytest.warns(PluginWarning, match=r"'broken'.*broken_plugin.*libfoo 9"):
        names = md.list_explainers()
    assert "broken" not in names and "gradcam" in names
    ex = md.explain(tiny_model, tiny_ds.test.images[:2], "gradcam", head=0)
    assert ex.maps.shape == (2, 28, 28)
    with pytest.raises(ParameterError, match="unknown explainer 'broken'"):
        md.get_explainer("broken")


def test_plugin_clashing_with_builtin_is_skipped(registry, tmp_path):
    site = _fake_dist(
        tmp_path, "clash_plugin", "gradcam = clash_mod:Fake", "clash_mod",
        """
        class Fake:
            name = "gradcam"
            def explain(self, model, images, targets, head_index, **options):
                return None
        """,
    )
    builtin = md.get_explainer("gradcam")
    _activate(site)
    with pytest.warns(PluginWarning, match="already taken"):
        md.list_explainers()
    assert md.get_explainer("gradcam") is builtin


def test_import_multidigit_survives_broken_plugin(tmp_path):
    site = _fake_dist(tmp_path, "broken_plugin", "broken = broken_plugin_mod:Explainer",
                      "broken_plugin_mod", "raise RuntimeError('boom at import')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))
    code = (
        "import warnings, multidigit\n"
        "from importlib.metadata import entry_points\n"
        "assert any(e.name == 'broken' for e in entry_points(group='multidigit.explainers'))\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    names = multidigit.list_explainers()\n"
        "assert 'saliency' in names and 'broken' not in names, names\n"
        "assert any(issubclass(x.category, multidigit.PluginWarning)\n"
        "           and 'boom at import' in str(x.message) for x in w), \\\n"
        "    [str(x.message) for x in w]\n"
        "print('OK')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "OK"


def test_plugin_overriding_builtin_at_import_warns(registry, tmp_path):
    """register_explainer(..., override=True) in a plugin's import: warned, named."""
    site = _fake_dist(
        tmp_path, "override_plugin", "better_saliency = override_mod:Better", "override_mod",
        """
        import numpy as np
        import multidigit as md

        @md.register_explainer("saliency", override=True)
        class Better(md.Explainer):
            def explain(self, model, images, targets, head_index, **options):
                return np.zeros(images.shape[:3], np.float32)
        """,
    )
    _activate(site)
    with pytest.warns(PluginWarning, match=r"override_mod.*replaced the built-in explainer "
                                           r"'saliency'"):
        md.list_explainers()
    assert md.get_explainer("saliency").__module__ == "override_mod"


# ---------------------------------------------------------------- issue 26
def _run_with_plugin(tmp_path, module_code: str, code: str) -> subprocess.CompletedProcess:
    site = _fake_dist(tmp_path, "bad_plugin", "bad = bad_plugin_mod:Explainer",
                      "bad_plugin_mod", module_code)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=1800)


def test_plugin_raising_system_exit_is_a_warning(tmp_path):
    """A plugin raising SystemExit at import ended the interpreter without a word."""
    code = (
        "import warnings, multidigit\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    names = multidigit.list_explainers()\n"
        "assert 'bad' not in names and 'saliency' in names\n"
        "assert any(issubclass(x.category, multidigit.PluginWarning)\n"
        "           and 'SystemExit' in str(x.message) for x in w)\n"
        "print('OK')\n"
    )
    proc = _run_with_plugin(tmp_path, "raise SystemExit(3)\n", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "OK"


def test_builtins_do_not_wait_for_plugins(tmp_path):
    """A plugin sleeping at import blocked even the built-in explainers (41 s)."""
    code = (
        "import sys, multidigit\n"
        "cls = multidigit.get_explainer('saliency')\n"
        "print('bad_plugin_mod' in sys.modules)\n"
    )
    proc = _run_with_plugin(tmp_path, "import time\ntime.sleep(5)\n", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"  # the plugin was never imported
