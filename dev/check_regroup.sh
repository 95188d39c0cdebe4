#!/usr/bin/env bash
# The checks after `python dev/regroup.py` (about 6 minutes of one core, niced).
# Run from the repository root with the venv active and PYTHONPATH pointing here.
set -euo pipefail
export MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=3
N="nice -n 19"
PT="$N python -m pytest -q -p no:cacheprovider"
step() { echo; echo "=== [$SECONDS s] $*"; }

step "ruff"
ruff check .
step "import multidigit imports no TensorFlow; the public names are unchanged"
$N python - <<'PY'
import sys, multidigit as md
assert "tensorflow" not in sys.modules and "keras" not in sys.modules
for name in md.__all__:
    getattr(md, name)
print(len(md.__all__), "public names resolve")
PY
step "doctests collect and pass, with FutureWarning (an old path) an error"
$PT --doctest-modules multidigit -W error::FutureWarning
step "import graph, registry, plugins, old paths (one fresh process per old path)"
$PT tests/test_imports.py tests/explanation/test_registry.py tests/explanation/test_plugins.py tests/test_moved.py
step "save / load in fresh processes"
$PT tests/test_user_journeys.py -k load
step "a sample of the moved tests"
$PT -m "not slow" tests/model tests/training/test_schedules.py tests/evaluation/test_calibration.py \
    tests/explanation/metrics tests/demo/test_demo_inputs.py tests/test_param_validation.py \
    tests/test_cli.py tests/test_readme.py tests/explanation/test_layering.py \
    tests/explanation/methods/test_base.py $(ls tests/test_defaults.py 2>/dev/null || true)
step "the wheel ships the new packages, not the old modules"
rm -rf build /tmp/whl_regroup
$N python -m pip wheel . --no-deps -q -w /tmp/whl_regroup
rm -rf build
python - <<'PY'
import glob, zipfile
names = zipfile.ZipFile(glob.glob("/tmp/whl_regroup/*.whl")[0]).namelist()
for pkg in ("model", "training", "evaluation", "experiments", "explanation/methods",
            "explanation/metrics", "handwriting", "demo"):
    assert f"multidigit/{pkg}/__init__.py" in names, pkg
for old in ("losses", "models", "training", "explanation", "registry", "demo"):
    assert f"multidigit/{old}.py" not in names, old
assert not any(n.startswith("dev/") for n in names)
print("wheel ok:", len(names), "files")
PY
step "done"
