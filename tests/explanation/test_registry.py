"""The registry: built-ins listed by dotted path and imported on first use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from multidigit.explanation import registry


def test_builtin_paths_resolve_to_their_classes():
    for name, path in registry.BUILTINS.items():
        cls = registry.get_explainer(name)
        assert f"{cls.__module__}:{cls.__qualname__}" == path
        assert cls.name == name


def test_listing_imports_no_explainer_module():
    code = (
        "import sys, multidigit as md\n"
        "names = md.list_explainers()\n"
        "assert 'saliency' in names and 'scorecam' in names, names\n"
        "loaded = [m for m in sys.modules if m.startswith('multidigit.explanation.methods.')]\n"
        "assert not loaded and 'tensorflow' not in sys.modules, loaded\n"
        "md.get_explainer('filters')\n"
        "assert 'multidigit.explanation.methods.features' in sys.modules\n"
        "assert 'multidigit.explanation.methods.gradients' not in sys.modules\n"
        "print('OK')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.getcwd(), *filter(None, [os.environ.get("PYTHONPATH")])]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=1800, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "OK"


def test_taken_builtin_name_before_it_is_loaded():
    """A built-in not imported yet still counts as taken."""
    registry._REGISTRY.pop("layercam", None)
    with pytest.raises(registry.ExplainerError, match="named .layercam. is already registered"):
        registry.register_explainer("layercam")(type("X", (), {"explain": lambda s: 0}))
    assert registry.get_explainer("layercam").__name__ == "LayerCAMExplainer"
