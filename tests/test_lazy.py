"""multidigit._lazy: every package's lazy public names come from one helper."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import multidigit
from multidigit._lazy import attach


def test_a_name_resolves_once_and_is_then_a_plain_attribute():
    getattr_, dir_, all_ = attach("multidigit.training", {"train": "fit"}, ("fit",))
    train = getattr_("train")
    assert train is importlib.import_module("multidigit.training.fit").train
    assert vars(sys.modules["multidigit.training"])["train"] is train
    assert "train" in all_ and {"train", "fit"} <= set(dir_())


def test_unknown_names_raise_attribute_error_and_fallback_decides():
    getattr_, _, _ = attach("multidigit.training", {}, ())
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        getattr_("nope")
    getattr_, _, _ = attach("multidigit.training", {}, (), fallback=lambda n: n == "fit")
    assert getattr_("fit") is importlib.import_module("multidigit.training.fit")


def test_every_package_uses_the_helper_and_imports_nothing_heavy():
    """Each sub-package's public names resolve, and importing all the packages
    imports neither TensorFlow nor Keras (a fresh process)."""
    packages = [m.name for m in pkgutil.walk_packages(multidigit.__path__, "multidigit.")
                if m.ispkg]
    code = (
        "import importlib, sys\n"
        f"for p in {packages!r}:\n"
        "    importlib.import_module(p)\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "raise SystemExit(f'imported {bad}' if bad else 0)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=1800, check=False)  # only a hang gets near it
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    for name in packages:
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", ()):
            assert getattr(module, public) is not None, f"{name}.{public}"
