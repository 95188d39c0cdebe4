"""Regroup multidigit's modules by concept (issue 25): one table, one run, one commit.

Run from the repository root on a clean tree (``git status`` empty)::

    python dev/regroup.py            # does it, then prints a summary
    python dev/regroup.py --dry-run  # prints what it would move, changes nothing

Steps, in order:

1. the package's relative imports become absolute (``from .errors import X`` ->
   ``from multidigit.errors import X``; from the ``ast`` positions, so multi-line
   imports, ``from . import x`` and imports inside functions are all covered);
2. every dotted reference to a moved module (``multidigit.losses``, ``md.losses``,
   ``multidigit/losses.py``, ``tests/test_losses.py``) is rewritten in the package, the
   tests, docs, examples, benchmarks, README, pyproject.toml, tox.ini and .ci/: whole
   dotted names only (``multidigit.explain`` never matches ``multidigit.explanation``),
   and the ``multidigit.explainers`` *entry-point group* is left alone;
   ``from multidigit import losses`` becomes ``from multidigit.model import losses``;
3. the modules are ``git mv``-ed (table :data:`MODULES`), the new packages get an
   ``__init__.py`` (docstring, lazy sub-modules, and for a package that replaces a module
   of the same name the old module's public names, so ``from multidigit.training import
   train`` keeps working);
4. the content splits of :data:`SPLITS` (classes that sat in the wrong module) are cut
   into their new modules, and imports of the split names follow them;
5. the top-level lazy tables (``_LAZY``, ``_SUBMODULES``) and
   ``_keras_objects.SERIALIZABLE_MODULES`` follow; ``multidigit._moved.MOVED`` gets one
   entry per moved module (old import paths keep working for one release);
6. the tests are ``git mv``-ed to mirror the package (table :data:`TESTS`);
7. ``ruff check --fix`` (import order, unused imports left by the splits), then a summary.

Not idempotent by design but safe to re-run: it refuses to start unless every source
exists, no target exists and the tree is clean (a second run says "already regrouped").
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

PKG = "multidigit"

#: old module (dotted, below multidigit) -> new module.  A module whose old name is the
#: new package's name (``training`` -> ``training.fit``) is named for what it does and
#: its package re-exports the old module's public names.
MODULES: dict[str, str] = {
    # the model: build / save / load, its parts, its losses, its inspection
    "models": "model.build",
    "presets": "model.presets",
    "_blocks": "model._blocks",
    "windows": "model.windows",
    "layout": "model.layout",
    "heads": "model.heads",
    "losses": "model.losses",
    "architecture": "model.architecture",
    # training
    "training": "training.fit",
    "callbacks": "training.callbacks",
    "schedules": "training.schedules",
    # evaluation of one trained model
    "evaluation": "evaluation.measure",
    "calibration": "evaluation.calibration",
    "robustness": "evaluation.robustness",
    "conditions": "evaluation.conditions",
    # experiments: many models, honest statistics
    "cross_validation": "experiments.cross_validation",
    "comparison": "experiments.comparison",
    # explanations: api, registry, methods (plug-ins), metrics, testing kit, plots
    "explanation": "explanation.api",
    "registry": "explanation.registry",
    "testing": "explanation.testing",
    "_explanation_plots": "explanation._plots",
    "explainers.metrics": "explanation.metrics.checks",
    "explainers.localisation": "explanation.metrics.localisation",
    "explainers.trust": "explanation.metrics.trust",
    "explainers": "explanation.methods",
    # handwriting: a photo or a drawing prepared as MNIST prepared its digits
    "handwriting": "handwriting.prepare",
    "_digits": "handwriting._digits",
    "_strokes": "handwriting._strokes",
    # the browser demo
    "demo": "demo.app",
    "demo_inputs": "demo.inputs",
    "demo_explain": "demo.explain",
}

#: new package -> its docstring (first line: the concept; then what goes there)
PACKAGES: dict[str, str] = {
    "model": """The model: build, save and load it, its presets, blocks, heads and losses.

A new architecture is a preset (:mod:`multidigit.model.presets`); a new layer that a
saved model names is registered in :mod:`multidigit._keras_objects`.
""",
    "training": """Training one model: :func:`~multidigit.train`, its callbacks, schedules and augmentation.
""",
    "evaluation": """Measuring one trained model: accuracy, calibration, robustness to how people write.
""",
    "experiments": """Experiments over many models: cross-validation and the fair comparison of objectives.
""",
    "explanation": """Explaining a model: :func:`~multidigit.explain`, the registry, the methods and metrics.

* :mod:`~multidigit.explanation.api`: :func:`~multidigit.explain` and :class:`Explanation`;
* :mod:`~multidigit.explanation.registry`: names -> explainer classes (built-ins, plugins);
* :mod:`~multidigit.explanation.methods`: the built-in explainers (a new one goes here);
* :mod:`~multidigit.explanation.metrics`: how far to trust them (sanity, faithfulness,
  localisation, the trust table);
* :mod:`~multidigit.explanation.testing`: the test kit for explainer authors;
* ``_plots``: the figures of :meth:`Explanation.plot` (private).
""",
    "explanation.metrics": """How far to trust an explanation: sanity checks, faithfulness, localisation, trust.

These measure explainers from the outside (through :func:`multidigit.explain`), so they
sit beside the methods, not among them.
""",
    "handwriting": """Handwritten digits prepared as MNIST prepared its digits: find, centre, thin or thicken.
""",
    "demo": """``multidigit demo``: the browser app, its inputs and its explanations.
""",
}

#: content splits: (module after the move, names cut out, new module, its docstring,
#: options).  Names the cut code takes from the old module are imported from it, except
#: ``copy`` (constants written again) and ``call_time`` (imported inside the functions
#: that use them: a module of SERIALIZABLE_MODULES must not import another one's names
#: at import time, since ``import keras`` inside one registers them all).
SPLITS: list[tuple[str, list[str], str, str, dict[str, list[str]]]] = [
    ("model.losses", ["_Recent", "ProbabilityHead", "MultiDigitModel"], "model.outputs",
     """The model's output side: probability heads that remember their logits, and the
model class that hands those logits to the loss (see :mod:`multidigit.model.losses`).
""", {"copy": ["_PACKAGE"], "call_time": ["logits_from_probabilities"]}),
    ("training.callbacks", ["default_augmentation"], "training.augmentation",
     "The training-time augmentation :func:`multidigit.train` adds by default.", {}),
]

#: test file (below tests/) -> new place; tests mirror the package
TESTS: dict[str, str] = {
    "test_models.py": "model/test_models.py",
    "test_losses.py": "model/test_losses.py",
    "test_windows.py": "model/test_windows.py",
    "test_training.py": "training/test_training.py",
    "test_schedules.py": "training/test_schedules.py",
    "test_evaluation.py": "evaluation/test_evaluation.py",
    "test_calibration.py": "evaluation/test_calibration.py",
    "test_robustness.py": "evaluation/test_robustness.py",
    "test_cross_validation.py": "experiments/test_cross_validation.py",
    "test_comparison.py": "experiments/test_comparison.py",
    "test_explanation.py": "explanation/test_explanation.py",
    "test_registry.py": "explanation/test_registry.py",
    "test_plugins.py": "explanation/test_plugins.py",
    "test_explainer_fixes.py": "explanation/methods/test_explainer_fixes.py",
    "explainers/test_attribution_methods.py": "explanation/methods/test_attribution_methods.py",
    "explainers/test_head_region.py": "explanation/methods/test_head_region.py",
    "explainers/test_base.py": "explanation/methods/test_base.py",
    "explainers/test_layering.py": "explanation/test_layering.py",
    "explainers/test_localisation.py": "explanation/metrics/test_localisation.py",
    "explainers/test_trust.py": "explanation/metrics/test_trust.py",
    "test_handwriting.py": "handwriting/test_handwriting.py",
    "test_demo.py": "demo/test_demo.py",
    "test_demo_inputs.py": "demo/test_demo_inputs.py",
    "test_demo_explain.py": "demo/test_demo_explain.py",
}

#: exact edits after the rewrite, where a dotted name is not the right answer (a table
#: of the README names packages now).  One that does not match is reported, not fatal.
TEXT_EDITS: list[tuple[str, str, str]] = [
    ("README.md", "| `multidigit.model.build`, `multidigit.model.losses` |", "| `multidigit.model` |"),
    ("README.md", "| `multidigit.training.fit`, `.evaluation`, `.cross_validation`, `.comparison` |",
     "| `multidigit.training`, `.evaluation`, `.experiments` |"),
    ("README.md", "| `multidigit.explanation.api`, `.registry`, `.explainers` |",
     "| `multidigit.explanation` (`.api`, `.registry`, `.methods`, `.metrics`) |"),
    ("README.md", "| `multidigit.handwriting.prepare`, `.conditions`, `.robustness` |",
     "| `multidigit.handwriting`, `multidigit.evaluation.conditions`, `.robustness` |"),
    ("README.md", "| `multidigit.demo.app` |", "| `multidigit.demo` |"),
    # the metrics' ``localisation`` function was shadowed by its sub-module in the old
    # explainers package, so the declared-rules and shared-defaults tests never saw it
    ("tests/test_param_validation.py",
     '    # explainer helpers and metrics (being moved in a parallel change)\n',
     '    # explainer helpers and metrics (being moved in a parallel change)\n'
     '    "localisation",  # seen since the regroup (its sub-module hid it before)\n'),
    ("tests/test_defaults.py",
     '    ("head", "sanity_check"): "a metric scores one head",\n',
     '    ("head", "sanity_check"): "a metric scores one head",\n'
     '    ("head", "localisation"): "a metric scores one head",\n'
     '    ("batch_size", "localisation"): "explanations in batches, as explain",\n'),
]
HAND_FIXES: list[str] = []
#: regex edits in tests/ after the rewrite: tests that read every public function from
#: the public sub-modules read the same modules at their new paths
TEST_REGEX_EDITS: list[tuple[str, str]] = [
    (r"\b(md|multidigit)\._SUBMODULES\b", r"\1._PUBLIC_MODULES"),
]

#: files rewritten for the new layout, copied over after the rewrite (test_layering read
#: the relative imports of ``multidigit/explainers/``; it reads the new packages now)
REPLACE_FILES: dict[str, str] = {
    "tests/explanation/test_layering.py": "dev/regroup_files/tests/explanation/test_layering.py",
}
#: the old modules that were packages (filled before the move)
OLD_PACKAGES: set[str] = set()

#: modules that stay at the top on purpose (the private core, the API, the CLI)
KEPT_AT_TOP = {"__init__", "__main__", "errors", "cli", "plots", "_param_validation",
               "_results", "_io", "_progress", "_inputs", "_resize", "_keras_objects",
               "_moved", "_figures", "_defaults"}

#: where references are rewritten (files, or folders searched recursively)
TARGETS = ["multidigit", "tests", "docs", "examples", "benchmarks", "pyproject.toml",
           "README.md", "tox.ini", ".ci"]
TEXT_SUFFIXES = {".py", ".rst", ".md", ".toml", ".ini", ".cfg", ".txt", ".j2", ".html",
                 ".yml", ".yaml", ""}
#: never rewritten: history, this script, the layout page (written for the new tree)
SKIP = {"CHANGELOG.md", "dev/regroup.py", "docs/code_layout.rst", "docs/changelog.rst",
        "multidigit/_moved.py"}
SKIP_DIRS = {"_build", "auto_examples", "gen_modules", "__pycache__", ".git", "regroup_files"}
#: a match on a line that says this (or whose previous line does) is a name that is
#: not a module path: the entry-point group ``multidigit.explainers`` keeps its name
PROTECT = re.compile(r"entry[-_ ]?point|entry_points|\[multidigit\.explainers\]", re.I)
PROTECT_PREV = re.compile(r"entry[-_ ]?point\W*group", re.I)  # the group named on the next line


def sh(*cmd: str, check: bool = True) -> str:
    return subprocess.run(cmd, check=check, capture_output=True, text=True).stdout


def module_file(mod: str) -> Path:
    """``multidigit/<mod>.py`` or ``multidigit/<mod>/__init__.py`` (dotted, below PKG)."""
    base = Path(PKG, *mod.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def is_package(mod: str) -> bool:
    return Path(PKG, *mod.split(".")).is_dir()


def files_to_rewrite() -> list[Path]:
    out = []
    for t in TARGETS:
        p = Path(t)
        cands = [p] if p.is_file() else (sorted(p.rglob("*")) if p.is_dir() else [])
        for f in cands:
            if (f.is_file() and f.suffix in TEXT_SUFFIXES and f.as_posix() not in SKIP
                    and not SKIP_DIRS & set(f.parts)):
                try:
                    f.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
                out.append(f)
    return out


# ---------------------------------------------------------------- 1. absolute imports
def absolute_imports(path: Path, old_path: Path) -> int:
    """Rewrite ``from .x import y`` as ``from multidigit.<...>.x``, read from ``old_path``
    (where the file was when its relative imports were written)."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    parts = list(old_path.with_suffix("").parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    if package[-1] == "__init__":
        package = package[:-1]
    lines = text.splitlines(keepends=True)
    n = 0
    for node in sorted((n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level),
                       key=lambda n: (n.lineno, n.col_offset), reverse=True):
        base = package[: len(package) - (node.level - 1)]
        absolute = ".".join(base + ([node.module] if node.module else []))
        i = node.lineno - 1
        line = lines[i]
        pat = re.compile(r"from\s+(\.+[\w.]*)\s+import\b")
        m = pat.match(line, node.col_offset)
        if m is None:
            raise SystemExit(f"{path}:{node.lineno}: cannot read the relative import")
        lines[i] = line[: m.start(1)] + absolute + line[m.end(1):]
        n += 1
    if n:
        path.write_text("".join(lines), encoding="utf-8")
    return n


# ---------------------------------------------------------------- 2. references
def _alternation(names: list[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


def make_rewriters() -> list[tuple[re.Pattern[str], object]]:
    old = list(MODULES)
    top_old = [m for m in old if "." not in m]
    dotted = re.compile(rf"(?<![\w.]){PKG}\.({_alternation(old)})(?!\w)")
    md = re.compile(rf"(?<![\w.])md\.({_alternation(top_old)})(?:\.(\w+))?(?!\w)")
    top_lazy = _top_lazy()

    def md_sub(m: re.Match[str]) -> str:
        # md.models.PRESETS -> md.PRESETS where the top level offers the same object
        old, name = m.group(1), m.group(2)
        if name and top_lazy.get(name) == old:
            return f"md.{name}"
        return f"md.{MODULES[old]}" + (f".{name}" if name else "")


    def slash_map() -> dict[str, str]:
        out = {}
        for o, n in MODULES.items():
            op, np_ = o.replace(".", "/"), n.replace(".", "/")
            if o in OLD_PACKAGES:
                out[f"{PKG}/{op}/"] = f"{PKG}/{np_}/"
                out[f"{PKG}/{op}/__init__.py"] = f"{PKG}/{np_}/__init__.py"
                out[f"{PKG}/{op}"] = f"{PKG}/{np_}"
            else:
                out[f"{PKG}/{op}.py"] = f"{PKG}/{np_}.py"
        for o, n in TESTS.items():
            out[f"tests/{o}"] = f"tests/{n}"
        return out

    smap = slash_map()
    # a folder key ends in "/" (anything may follow); a file key is a whole name
    keys = sorted(smap, key=len, reverse=True)
    slash = re.compile(r"(?<![\w/.])(" + "|".join(
        re.escape(k) + ("" if k.endswith("/") else r"(?![\w.])") for k in keys) + ")")
    return [
        (dotted, lambda m: f"{PKG}.{MODULES[m.group(1)]}"),
        (md, md_sub),
        (slash, lambda m: smap[m.group(1)]),
    ]


def _top_lazy() -> dict[str, str]:
    """``multidigit.__init__._LAZY``: public name -> sub-module (below multidigit)."""
    tree = ast.parse(Path(PKG, "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "_LAZY":
            return ast.literal_eval(node.value)
    return {}


def text_edits() -> int:
    """The hand edits of :data:`TEXT_EDITS` (after the rewrite); warns where one no longer fits."""
    done = 0
    for file, old, new in TEXT_EDITS:
        path = Path(file)
        if not path.exists():
            HAND_FIXES.append(f"{file}: not there, edit skipped: {old[:70]!r}")
            continue
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            HAND_FIXES.append(f"{file}: edit did not apply (text changed?): {old[:70]!r}")
            continue
        path.write_text(text.replace(old, new), encoding="utf-8")
        done += 1
    return done


def rewrite_references(path: Path, rewriters, protected: list[str]) -> int:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    count = 0
    for i, line in enumerate(lines):
        guard = bool(PROTECT.search(line) or (i and PROTECT_PREV.search(lines[i - 1])))
        where = f"{path}:{i + 1}: {line.strip()[:90]}"
        for pattern, repl in rewriters:
            def sub(m, repl=repl, guard=guard, where=where):
                nonlocal count
                if guard and m.group(0) == f"{PKG}.explainers":
                    protected.append(where)
                    return m.group(0)
                count += 1
                return repl(m)
            line = pattern.sub(sub, line)
        lines[i] = line
    if count:
        path.write_text("".join(lines), encoding="utf-8")
    return count


def _statement_span(lines: list[str], node: ast.stmt) -> tuple[int, int, str]:
    indent = lines[node.lineno - 1][: node.col_offset]
    return node.lineno - 1, node.end_lineno, indent


def split_from_package_imports(path: Path) -> int:
    """``from multidigit import losses`` -> ``from multidigit.model import losses``."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return 0
    lines = text.splitlines(keepends=True)
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level
             and n.module and (n.module == PKG or n.module.startswith(PKG + "."))]
    n_done = 0
    for node in sorted(nodes, key=lambda n: n.lineno, reverse=True):
        below = node.module[len(PKG) + 1:] if node.module != PKG else ""
        moved, kept = [], []
        for alias in node.names:
            full = f"{below}.{alias.name}" if below else alias.name
            (moved if full in MODULES else kept).append(alias)
        if not moved:
            continue
        start, end, indent = _statement_span(lines, node)
        tail = lines[end - 1][node.end_col_offset:]
        comment = tail.strip()
        new = []
        if kept:
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in kept)
            new.append(f"{indent}from {node.module} import {names}")
        for a in moved:
            full = f"{below}.{a.name}" if below else a.name
            target = f"{PKG}.{MODULES[full]}"
            parent, leaf = target.rsplit(".", 1)
            local = a.asname or a.name
            new.append(f"{indent}from {parent} import {leaf}"
                       + (f" as {local}" if local != leaf else ""))
        if comment:
            new[0] += "  " + comment
        lines[start:end] = [s + "\n" for s in new]
        n_done += 1
    if n_done:
        path.write_text("".join(lines), encoding="utf-8")
    return n_done


# ---------------------------------------------------------------- 3. moves, packages
def public_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


INIT_TEMPLATE = '''"""{doc}"""

from __future__ import annotations

import importlib
from typing import Any

{lazy_comment}_LAZY: dict[str, str] = {lazy}

#: public sub-modules, imported on first attribute access
_SUBMODULES = {subs}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{{__name__}}.{{name}}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
'''


def _quoted(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _pyrepr_dict(d: dict[str, str]) -> str:
    if not d:
        return "{}"
    body = "".join(f'    "{k}": "{v}",\n' for k, v in d.items())
    return "{\n" + body + "}"


def write_package_init(pkg: str, reexport: dict[str, str]) -> None:
    folder = Path(PKG, *pkg.split("."))
    subs = sorted(p.stem if p.suffix == ".py" else p.name for p in folder.iterdir()
                  if not p.name.startswith("_") and (p.suffix == ".py" or p.is_dir()))
    clash = set(reexport) & set(subs)
    if clash:
        raise SystemExit(f"{pkg}: a sub-module has the name of a re-exported name: {clash}")
    comment = (f"# name -> module: the public names of the former module {PKG}.{pkg},\n"
               "# imported on first use (old imports keep working, nothing heavy at import)\n"
               if reexport else "")
    doc = PACKAGES[pkg].rstrip("\n")
    text = INIT_TEMPLATE.format(
        doc=doc + ("\n" if "\n" in doc else ""), lazy=_pyrepr_dict(reexport),
        lazy_comment=comment,
        subs="(" + _quoted(subs) + ("," if len(subs) == 1 else "") + ")")
    (folder / "__init__.py").write_text(text, encoding="utf-8")
    sh("git", "add", str(folder / "__init__.py"))


def git_mv(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    sh("git", "mv", str(src), str(dst))


def move_modules(old_of: dict[Path, Path]) -> dict[str, list[str]]:
    """git mv every module; returns {new same-named package: old module's public names}
    and fills ``old_of`` (new file -> where it was)."""
    same_named: dict[str, list[str]] = {}
    for old, new in MODULES.items():  # submodules of a moved package come first
        src = module_file(old) if not is_package(old) else Path(PKG, *old.split("."))
        if new.split(".")[0] == old:  # multidigit/x.py -> multidigit/x/<y>.py
            same_named[old] = public_names(src)
        dst = (Path(PKG, *new.split(".")).with_suffix(".py") if src.suffix == ".py"
               else Path(PKG, *new.split(".")))
        files = [src] if src.suffix == ".py" else sorted(src.rglob("*.py"))
        git_mv(src, dst)
        for f in files:
            old_of[dst if src.suffix == ".py" else dst / f.relative_to(src)] = f
    return same_named


# ---------------------------------------------------------------- 4. splits
def _top_names(tree: ast.Module) -> dict[str, ast.stmt]:
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, ast.Name):
                    out[t.id] = node
    return out


def split_module(src_mod: str, names: list[str], new_mod: str, doc: str,
                 options: dict[str, list[str]]) -> None:
    src = module_file(src_mod)
    text = src.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    defined = _top_names(tree)
    missing = [n for n in names if n not in defined]
    if missing:
        raise SystemExit(f"{src}: cannot split, no top-level {missing}")
    spans = []
    for name in names:
        node = defined[name]
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        spans.append((start, node.end_lineno))
    cut_text = "".join("".join(lines[a:b]) + "\n\n" for a, b in sorted(spans)).rstrip() + "\n"
    for a, b in sorted(spans, reverse=True):
        while b < len(lines) and not lines[b].strip():
            b += 1
        del lines[a:b]
    # the source keeps every name it had for one release (a FutureWarning names the new home)
    rest = "".join(lines)
    rest = _drop_from_all(rest, names)
    used = _used_names(cut_text)
    imports = [line for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
               for line in _needed(n, used)]
    tc = [line for n in tree.body if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
          for m in n.body if isinstance(m, (ast.Import, ast.ImportFrom)) for line in _needed(m, used)]
    if tc:
        if not any("TYPE_CHECKING" in i for i in imports):
            imports.insert(0, "from typing import TYPE_CHECKING")
        imports.append("\nif TYPE_CHECKING:  # pragma: no cover\n" + "\n".join("    " + t for t in tc))
    copy, call_time = options.get("copy", []), options.get("call_time", [])
    from_src = sorted((used & set(defined)) - set(names) - set(copy) - set(call_time))
    for name in call_time:
        cut_text = _import_at_call_time(cut_text, f"{PKG}.{src_mod}", name)
    copied = "".join(ast.get_source_segment(text, defined[n]) + "\n" for n in copy)
    doc = doc.rstrip()
    new_text = (f'"""{doc}' + ('\n"""' if "\n" in doc else '"""')
                + "\n\nfrom __future__ import annotations\n\n"
                + "\n".join(imports) + "\n"
                + (f"from {PKG}.{src_mod} import {', '.join(from_src)}\n" if from_src else "")
                + f"\n__all__ = [{_quoted(sorted(n for n in names if not n[0] == '_'))}]\n\n"
                + (copied + "\n" if copied else "") + "\n"
                + cut_text)
    new_path = Path(PKG, *new_mod.split(".")).with_suffix(".py")
    new_path.write_text(new_text, encoding="utf-8")
    public = [n for n in names if not n.startswith("_")]
    rest = rest.rstrip("\n") + "\n\n\n" + MOVED_GETATTR.format(
        names=_quoted(public), new=f"{PKG}.{new_mod}")
    src.write_text(rest, encoding="utf-8")
    sh("git", "add", str(new_path), str(src))


def _import_at_call_time(code: str, module: str, name: str) -> str:
    """Put ``from module import name`` first in every function of ``code`` that uses it."""
    lines = code.splitlines(keepends=True)
    inserts = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)):
            body = node.body
            first = body[1] if (len(body) > 1 and isinstance(body[0], ast.Expr)
                                and isinstance(body[0].value, ast.Constant)) else body[0]
            inserts.append((first.lineno - 1, " " * first.col_offset))
    for i, indent in sorted(inserts, reverse=True):
        lines.insert(i, f"{indent}# imported at call time: {module} registers this module's\n"
                        f"{indent}# classes as it imports keras (multidigit._keras_objects)\n"
                        f"{indent}from {module} import {name}\n\n")
    return "".join(lines)


def _used_names(code: str) -> set[str]:
    """Names the code reads, string annotations included."""
    used, local = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):  # imported where used
            local |= {a.asname or a.name.split(".")[0] for a in node.names}
        if isinstance(node, ast.Name):
            used.add(node.id)
        ann = [getattr(node, "annotation", None), getattr(node, "returns", None)]
        for a in ann:
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                used |= {n.id for n in ast.walk(ast.parse(a.value, mode="eval"))
                         if isinstance(n, ast.Name)}
    return used - local


def _needed(node: ast.Import | ast.ImportFrom, used: set[str]) -> list[str]:
    """The part of an import statement that binds a name in ``used`` (one line)."""
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return []
    keep = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
    if not keep:
        return []
    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in keep)
    if isinstance(node, ast.Import):
        return [f"import {names}"]
    return [f"from {'.' * node.level}{node.module or ''} import {names}"]


MOVED_GETATTR = '''def __getattr__(name: str) -> object:
    # names that moved to another module keep working here for one release
    if name in {{{names}}}:
        import importlib
        import warnings

        warnings.warn(f"{{__name__}}.{{name}} moved to {new}.{{name}}; "
                      "import it from there (the old path goes in the next release).",
                      FutureWarning, stacklevel=2)
        return getattr(importlib.import_module("{new}"), name)
    raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
'''


def _drop_from_all(text: str, names: list[str]) -> str:
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            values = [v for v in ast.literal_eval(node.value) if v not in names]
            lines = text.splitlines(keepends=True)
            body = "__all__ = [\n" + "".join(f'    "{v}",\n' for v in values) + "]\n"
            return "".join(lines[: node.lineno - 1] + [body] + lines[node.end_lineno:])
    return text


def redirect_names(path: Path, moves: dict[tuple[str, str], str]) -> int:
    """``from <old module> import <moved name>`` -> from its new module."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text) if path.suffix == ".py" else ast.Module(body=[], type_ignores=[])
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    lines = text.splitlines(keepends=True)
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level
             and any((n.module, a.name) in moves for a in n.names)]
    for node in sorted(nodes, key=lambda n: n.lineno, reverse=True):
        groups: dict[str, list[ast.alias]] = {}
        for a in node.names:
            groups.setdefault(moves.get((node.module, a.name), node.module), []).append(a)
        start, end, indent = _statement_span(lines, node)
        comment = lines[end - 1][node.end_col_offset:].strip()
        new = []
        for module, aliases in groups.items():
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in aliases)
            new.append(f"{indent}from {module} import {names}")
        if comment:
            new[0] += "  " + comment
        lines[start:end] = [s + "\n" for s in new]
    # dotted uses: multidigit.model.losses.ProbabilityHead (strings, docs)
    out = "".join(lines)
    for (module, name), new_module in moves.items():
        out = re.sub(rf"(?<![\w.]){re.escape(module)}\.{name}(?!\w)", f"{new_module}.{name}", out)
        md_module, md_new = "md" + module[len(PKG):], "md" + new_module[len(PKG):]
        out = re.sub(rf"(?<![\w.]){re.escape(md_module)}\.{name}(?!\w)", f"{md_new}.{name}", out)
    if out != text:
        path.write_text(out, encoding="utf-8")
        return 1
    return 0


# ---------------------------------------------------------------- 5. tables
def update_tables(moved_top: dict[str, str]) -> None:
    init = Path(PKG, "__init__.py")
    text = init.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    edits = []
    for node in tree.body:
        target = (node.target if isinstance(node, ast.AnnAssign) else
                  node.targets[0] if isinstance(node, ast.Assign) else None)
        if not isinstance(target, ast.Name):
            continue
        if target.id == "_LAZY":
            seg = ast.get_source_segment(text, node.value)
            new = re.sub(r'(:\s*)"([\w.]+)"',
                         lambda m: m.group(1) + '"' + _new_rel(m.group(2)) + '"', seg)
            edits.append((node.value, new))
        elif target.id == "_SUBMODULES":
            old = ast.literal_eval(node.value)
            new_set = sorted({_new_rel(s).split(".")[0] for s in old} | {
                p.split(".")[0] for p in PACKAGES})
            body = "{\n" + _wrap(new_set, "    ") + "}"
            # the same modules as before, at their new paths: tests that read every
            # public function from their __all__ keep reading exactly those
            public = {_new_rel(s) for s in old}
            public |= {new for src, _n, new, _d, _o in SPLITS if src in public}
            public = sorted(public)
            body += ("\n\n# modules whose ``__all__`` is public API besides the top level (the former\n"
                     "# public sub-modules at their new paths; tests read every public function)\n"
                     "_PUBLIC_MODULES = (\n" + _wrap(public, "    ") + ")")
            edits.append((node.value, body))
    for node, new in sorted(edits, key=lambda e: e[0].lineno, reverse=True):
        a, b = node.lineno - 1, node.end_lineno
        first = lines[a][: node.col_offset]
        last = lines[b - 1][node.end_col_offset:]
        lines[a:b] = [first + new + last]
    init.write_text("".join(lines), encoding="utf-8")

    ko = Path(PKG, "_keras_objects.py")
    kt = ko.read_text(encoding="utf-8")
    for src_mod, _names, new_mod, _doc, _options in SPLITS:
        if f'"{PKG}.{src_mod}"' in kt and f'"{PKG}.{new_mod}"' not in kt:
            kt = kt.replace(f'"{PKG}.{src_mod}"', f'"{PKG}.{src_mod}", "{PKG}.{new_mod}"')
    m = re.search(r"SERIALIZABLE_MODULES = \(([^)]*)\)", kt)
    if m:
        mods = sorted(set(re.findall(r'"([\w.]+)"', m.group(1))))
        body = ",\n".join(f'    "{x}"' for x in mods)
        kt = kt[: m.start()] + f"SERIALIZABLE_MODULES = (\n{body},\n)" + kt[m.end():]
    ko.write_text(kt, encoding="utf-8")

    mv = Path(PKG, "_moved.py")
    mt = mv.read_text(encoding="utf-8")
    entries = "".join(f'    "{PKG}.{o}": "{PKG}.{n}",\n' for o, n in moved_top.items())
    mt, k = re.subn(r"MOVED: dict\[str, str\] = \{\n?((?:.*\n)*?)\}",
                    lambda m: "MOVED: dict[str, str] = {\n" + m.group(1) + entries + "}", mt,
                    count=1)
    if not k:
        raise SystemExit("multidigit/_moved.py: MOVED table not found")
    mv.write_text(mt, encoding="utf-8")


def _new_rel(rel: str) -> str:
    full = f"{PKG}.{rel}"
    for old in sorted(MODULES, key=len, reverse=True):
        if full == f"{PKG}.{old}" or full.startswith(f"{PKG}.{old}."):
            return MODULES[old] + full[len(PKG) + 1 + len(old):]
    return rel


def _wrap(items: list[str], indent: str, width: int = 92) -> str:
    out, line = [], indent
    for it in items:
        piece = f'"{it}", '
        if len(line) + len(piece) > width:
            out.append(line.rstrip() + "\n")
            line = indent
        line += piece
    out.append(line.rstrip() + "\n")
    return "".join(out)


# ---------------------------------------------------------------- 6. tests
def move_tests() -> None:
    for old, new in TESTS.items():
        git_mv(Path("tests", old), Path("tests", new))
    for d in sorted({p for p in Path("tests").rglob("*") if p.is_dir()}):
        if (d.name != "__pycache__" and d.exists()
                and not any(p.name != "__pycache__" for p in d.iterdir())):
            shutil.rmtree(d)


def fix_test_paths() -> None:
    """A test moved k folders down reads the repository root k ``parents`` further up."""
    for old, new in TESTS.items():
        dst = Path("tests", new)
        delta = len(Path(new).parts) - len(Path(old).parts)
        if delta:
            t = dst.read_text(encoding="utf-8")
            t2 = re.sub(r"(Path\(__file__\)\.resolve\(\)\.parents\[)(\d+)\]",
                        lambda m, d=delta: f"{m.group(1)}{int(m.group(2)) + d}]", t)
            t2 = re.sub(r"Path\(__file__\)\.resolve\(\)\.parent(?=\s*/\s*\"param_cases)",
                        f"Path(__file__).resolve().parents[{delta}]", t2)
            if t2 != t:
                dst.write_text(t2, encoding="utf-8")


def unplaced() -> list[str]:
    """Package files and top-level tests that no table placed (added since the tables?)."""
    out = [f"{p} (not in MODULES: still at the top)" for p in sorted(Path(PKG).glob("*.py"))
           if p.stem not in KEPT_AT_TOP]
    old = [o for o in MODULES if "." not in o]
    for t in sorted(Path("tests").glob("test_*.py")):
        stem = t.stem[len("test_"):]
        if any(stem == o.lstrip("_") or stem.startswith(o.lstrip("_") + "_") for o in old):
            out.append(f"{t} (tests a moved module: add it to TESTS?)")
    return out


# ---------------------------------------------------------------- main
def preflight() -> str | None:
    if sh("git", "status", "--porcelain").strip():
        return "the tree is not clean: commit or stash first"
    # an old module is there as a file, or as a package that is not its own new home
    missing = [o for o in MODULES if not (
        Path(PKG, *o.split(".")).with_suffix(".py").exists()
        or (Path(PKG, *o.split(".")).is_dir() and MODULES[o].split(".")[0] != o))]
    if missing and len(missing) == len(MODULES):
        return "already regrouped (no old module left): nothing to do"
    if missing:
        return f"some old modules are missing (half-done?): {missing}"
    for new in [*MODULES.values(), *(s[2] for s in SPLITS)]:
        p = Path(PKG, *new.split("."))
        if p.with_suffix(".py").exists() or p.is_dir():
            return f"{p} exists already"
    for pkg in PACKAGES:  # a package may replace a module of its name, not a folder
        if Path(PKG, *pkg.split(".")).is_dir():
            return f"{PKG}/{pkg}/ exists already"
    for old, new in TESTS.items():
        if not Path("tests", old).exists() or Path("tests", new).exists():
            return f"tests/{old} -> tests/{new}: source missing or target present"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--commit", action="store_true",
                    help="commit twice: the pure moves (history follows every file), then "
                         "the rewrites")
    args = ap.parse_args()
    if not Path(PKG, "__init__.py").exists():
        print("run from the repository root")
        return 2
    problem = preflight()
    if problem:
        print("regroup:", problem)
        return 0 if problem.startswith("already") else 1
    if args.dry_run:
        for o, n in MODULES.items():
            print(f"{PKG}.{o:28} -> {PKG}.{n}")
        return 0

    OLD_PACKAGES.update(o for o in MODULES if is_package(o))
    # 1/2: the moves alone (git sees pure renames: log --follow and blame keep the history)
    old_of: dict[Path, Path] = {}
    same_named = move_modules(old_of)
    move_tests()
    if args.commit:
        sh("git", "commit", "-q", "-m", "Regroup the modules by concept (1/2): git mv only\n\n"
           "dev/regroup.py; the package imports again after 2/2 (do not bisect here).")

    # 2/2: the rewrites
    n_abs = sum(absolute_imports(p, old_of.get(p, p)) for p in sorted(Path(PKG).rglob("*.py")))
    rewriters = make_rewriters()
    protected: list[str] = []
    files = files_to_rewrite()
    n_refs = sum(rewrite_references(p, rewriters, protected) for p in files)
    n_split = sum(split_from_package_imports(p) for p in files if p.suffix == ".py")

    # the MOVED entries: every moved module (not those now shadowed by a same-named package)
    moved_top = {o: n for o, n in MODULES.items() if n.split(".")[0] != o}
    moves: dict[tuple[str, str], str] = {}
    for src_mod, names, new_mod, doc, options in SPLITS:
        split_module(src_mod, names, new_mod, doc, options)
        for n in names:
            moves[(f"{PKG}.{src_mod}", n)] = f"{PKG}.{new_mod}"
    for pkg in PACKAGES:
        reexport = {}
        if pkg in same_named:
            reexport = {name: f"{PKG}.{MODULES[pkg]}" for name in same_named[pkg]}
        write_package_init(pkg, reexport)
    # metrics names that the methods package re-exports for the old path
    for metrics in ("explainers.metrics", "explainers.localisation", "explainers.trust"):
        new_mod = f"{PKG}.{MODULES[metrics]}"
        for n in public_names(module_file(MODULES[metrics])):
            moves[(f"{PKG}.{MODULES['explainers']}", n)] = new_mod
    files = files_to_rewrite()
    n_names = sum(redirect_names(p, moves) for p in files)
    n_edits = text_edits()
    for path in files_to_rewrite():
        if path.parts[0] == "tests" and path.suffix == ".py":
            text = path.read_text(encoding="utf-8")
            new = text
            for pattern, repl in TEST_REGEX_EDITS:
                new = re.sub(pattern, repl, new)
            if new != text:
                path.write_text(new, encoding="utf-8")
                n_edits += 1
    for target, source in REPLACE_FILES.items():
        if Path(target).exists():
            shutil.copyfile(source, target)
        else:
            HAND_FIXES.append(f"{target}: not there, {source} not copied")
    update_tables(moved_top)
    fix_test_paths()

    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--fix", "-q", "."],
                          capture_output=True, text=True)
    sh("git", "add", "-A")
    print(f"regroup: {len(MODULES)} modules moved into {len(PACKAGES)} new packages, "
          f"{len(TESTS)} test files moved")
    print(f"  {n_abs} relative imports made absolute; {n_refs} references rewritten; "
          f"{n_split} 'from {PKG} import <module>' statements split; "
          f"{n_names} files with names that moved in a split")
    print(f"  {len(moved_top)} old paths added to {PKG}._moved.MOVED")
    if protected:
        print("  left alone (entry-point group, not a module path):")
        for line in protected:
            print("   ", line)
    print(f"  {n_edits} text edits applied ({len(TEXT_EDITS)} fixed ones, then regex ones)")
    for line in HAND_FIXES:
        print("  HAND FIX NEEDED:", line)
    print("  ruff check --fix:", "clean" if ruff.returncode == 0 else "NOT clean:")
    if ruff.returncode:
        print(ruff.stdout[-3000:], ruff.stderr[-1000:])
    for line in unplaced():
        print("  LOOK:", line)
    if args.commit:
        sh("git", "commit", "-q", "-m", "Regroup the modules by concept (2/2): imports and "
           "references follow\n\ndev/regroup.py: absolute imports, dotted references, "
           "splits, lazy tables, multidigit._moved.MOVED.")
        print("committed (1/2 moves, 2/2 rewrites); next: bash dev/check_regroup.sh")
    else:
        print("next: review `git diff --cached --stat -M`, bash dev/check_regroup.sh, commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
