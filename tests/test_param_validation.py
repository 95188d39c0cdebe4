"""One table-driven test: every public function refuses a bad argument with
:class:`multidigit.ParameterError` whose message names the parameter and the allowed
values (issue 15).

The rows live beside each area (``param_cases_<area>.py``: data, heads, models,
training, tuning, explain, study, demo) and are gathered here into one table; a second test
checks that every public function of ``multidigit.__all__`` has at least one row.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from pathlib import Path

import pytest

import multidigit as md
from multidigit.errors import ParameterError

_AREAS = sorted(p.stem for p in Path(__file__).parent.glob("param_cases_*.py"))
CASES = [case for area in _AREAS for case in importlib.import_module(area).CASES]


def _resolve(value):
    """Arguments that need data are built when the row runs, not at collection."""
    fn = getattr(value, "fn", None)
    return fn() if callable(fn) and type(value).__name__ == "_Lazy" else value


@pytest.mark.parametrize("func, args, kwargs, name, allowed", CASES)
def test_bad_argument_raises_parameter_error(func, args, kwargs, name, allowed, tmp_path,
                                             monkeypatch):
    monkeypatch.chdir(tmp_path)  # a call that wrongly passed would write here only
    args = [_resolve(a) for a in args]
    kwargs = {k: _resolve(v) for k, v in kwargs.items()}
    if getattr(func, "__name__", "") == "tune":
        kwargs = {"directory": tmp_path / "tuning", **kwargs}
    with pytest.raises(ParameterError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert name in message, message
    assert allowed in message, message
    assert list(tmp_path.iterdir()) == []  # checked before anything was written


def _public_functions() -> dict[str, object]:
    out = {}
    for name in md.__all__:
        obj = getattr(md, name)
        if inspect.isfunction(obj) and inspect.signature(obj).parameters:
            out[name] = obj
    return out


def test_every_public_function_has_a_bad_argument_row():
    covered = {getattr(c.values[0], "__name__", None) for c in CASES}
    missing = sorted(set(_public_functions()) - covered)
    assert not missing, f"public functions without a bad-argument row: {missing}"


# ---------------------------------------------------------------- declared rules (issue 25)
# Every public function declares one rule per parameter with
# ``multidigit._param_validation.validate_params``; the rows below are generated from the
# declarations, so a new parameter cannot go unchecked.

#: public functions of the public sub-modules that do not declare their rules yet; the
#: functions of ``multidigit.__all__`` all do.  Remove a name when its function declares.
NOT_YET_DECLARED = {
    # the CLI's entry point: the outermost declared function names every message, so a
    # declared main() would turn "train(): epochs ..." into "main(): epochs ..." for every
    # command it runs; its one argument is argparse's to check
    "main",
}

#: parameters declared ``Body`` (checked in the function's body) without a bad-argument
#: row in ``param_cases_*.py`` yet: (function, parameter) -> why
BODY_WITHOUT_ROW = {
    ("generate_dataset", "digits"): "a data pool: bad pools raise DataError, tested apart",
    ("generate_dataset", "pool_fractions"): "fractions of a pool, tested apart",
    ("evaluate_robustness", "digits"): "a data pool (as generate_dataset)",
    ("make_condition_images", "digits"): "a data pool (as generate_dataset)",
    ("evaluate_robustness", "conditions"): "names checked against CONDITIONS",
    ("explain", "model"): "any keras.Model; a wrong one fails in the explainer",
    ("predict", "model"): "any keras.Model with digit_k heads (ModelError otherwise)",
    ("predict", "images_or_png_paths"): "arrays, Splits or files: DataError rows apart",
    ("prepare_handwriting", "image"): "a picture: DataError rows in tests/handwriting/test_handwriting.py",
    ("evaluate", "model"): "any keras.Model (ModelError rows in tests/evaluation/test_evaluation.py)",
    ("explain", "options"): "a row names the unknown option itself (explain-unknown-option)",
    ("save_model", "path"): "needs a built model: tests/model/test_models.py saves to 'm.h5'",
    ("sanity_check", "model"): "any keras.Model, as explain's",
    ("faithfulness", "model"): "any keras.Model, as explain's",
    ("faithfulness_table", "model"): "any keras.Model, as explain's",
    ("faithfulness_table", "methods"): "each name goes to faithfulness (faithfulness-method)",
    ("plot_samples", "predictions"): "needs a Split: tests/test_plots.py passes too few",
    ("sanity_check", "options"): "a row names the unknown option (sanity_check-options)",
    ("faithfulness", "options"): "a row names the unknown option (faithfulness-options)",
    ("faithfulness_table", "kwargs"): "a row names the keyword (faithfulness_table-kwargs)",
    ("trust_table", "model"): "any keras.Model, as explain's",
    ("resolve_heads", "model"): "any keras.Model with digit_k heads, as explain's",
    ("head_output_layer", "model"): "any keras.Model with digit_k heads, as explain's",
    ("predict_heads", "model"): "any keras.Model, as explain's",
    ("model_head_names", "model"): "any keras.Model: no digit_k output gives all outputs",
    ("as_image_batch", "model"): "any keras.Model, as explain's",
    ("resolve_targets", "model"): "any keras.Model, as explain's",
    ("resolve_targets", "images"): "the output of as_image_batch (its images row)",
    ("resolve_targets", "heads"): "the output of resolve_heads (its head row)",
    ("randomize_weights", "model"): "any keras.Model (a clone), as sanity_check's",
    ("randomize_weights", "layers"): "Keras' get_layer refuses an unknown name (ValueError)",
    ("predict_heads", "images"): "an array the model reads: Keras checks it",
    ("trust_table", "split"): "a Split with boxes; its images go to faithfulness's rows",
    ("trust_table", "methods"): "each name goes to faithfulness (faithfulness-method)",
    ("trust_table", "options"): "per-method options go to explain (explain-unknown-option)",
    # localisation: the metric behind pointing_game / relevance_mass (their rows cover
    # images, boxes, head and target); model, method and options go to explain
    ("localisation", "model"): "any keras.Model, as explain's",
    ("localisation", "images"): "a batch or a Split, as pointing_game's rows",
    ("localisation", "method"): "goes to explain (explain's method rows)",
    ("localisation", "boxes"): "checked against the images, as pointing_game's rows",
    ("localisation", "head"): "resolved by resolve_heads, as pointing_game's rows",
    ("localisation", "target"): "resolved by resolve_targets (its rows)",
    ("localisation", "maps"): "maps of the head, shape-checked, as relevance_mass's rows",
    ("localisation", "options"): "go to explain (explain-unknown-option)",
    # declared by issue 25's last group
    ("check_search_space", "space"): "its rows name it search_space, as tune's (check_search_space-*)",
    ("digit_pool", "digits"): "a data pool (as generate_dataset)",
    ("prepare_batch", "images"): "pictures, as prepare_handwriting's image (DataError rows apart)",
    ("window_view", "model"): "any keras.Model, as explain's",
    ("score_model", "model"): "any keras.Model with digit_k heads, as explain's",
    ("score_model", "layer"): "Keras' get_layer refuses an unknown name (ValueError)",
    ("head_layers", "model"): "any keras.Model with digit_k heads, as explain's",
    ("head_region", "model"): "any keras.Model with digit_k heads, as explain's",
    ("capabilities", "explainer"): "raises ExplainerError: tests/explanation/methods/test_base.py",
    ("check_explainer", "explainer"): "lists every broken rule in one AssertionError "
                                      "(tests/explanation/test_plugins.py)",
}


def _declared_functions() -> dict[str, object]:
    """Functions of ``multidigit.__all__`` and the public sub-modules' ``__all__``."""
    out = dict(_public_functions())
    for sub in sorted(md._PUBLIC_MODULES):
        module = importlib.import_module(f"multidigit.{sub}")
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if inspect.isfunction(obj) and obj.__module__.startswith("multidigit"):
                out.setdefault(name, obj)
    out.update({n: getattr(md, n) for n in md.__all__ if inspect.isfunction(getattr(md, n))})
    return out


def _parameters(func) -> list[str]:
    return [p for p in inspect.signature(func).parameters if p != "self"]


def test_every_public_function_declares_a_rule_per_parameter():
    problems = []
    for name, func in sorted(_declared_functions().items()):
        rules = getattr(func, "__param_rules__", None)
        if rules is None:
            if name not in NOT_YET_DECLARED:
                problems.append(f"{name}: no @validate_params declaration")
            continue
        if name in NOT_YET_DECLARED:
            problems.append(f"{name}: declares its rules; remove it from NOT_YET_DECLARED")
        missing = [p for p in _parameters(func) if p not in rules]
        if missing:
            problems.append(f"{name}: parameters without a declared rule: {missing}")
    assert not problems, "\n".join(problems)


def test_every_function_of_the_package_namespace_declares():
    undeclared = sorted(n for n in md.__all__ if inspect.isfunction(getattr(md, n))
                        and not hasattr(getattr(md, n), "__param_rules__"))
    assert not undeclared


@functools.lru_cache(maxsize=1)
def _tiny_model():
    return md.build_model(preset="small", input_shape=(28, 28, 1), seed=0)


#: required parameters checked by a Check rule: a value it accepts
_VALID = {"path": lambda: "m.keras", "model": _tiny_model}


def _valid(name, rule):
    """A value ``rule`` accepts, for the required parameters not under test."""
    from multidigit import _param_validation as pv

    if name in _VALID and isinstance(rule, pv.Check):
        return _VALID[name]()
    if isinstance(rule, pv.Int):
        return rule.min if rule.min is not None else 1
    if isinstance(rule, pv.Choice):
        choices = rule.choices() if callable(rule.choices) else rule.choices
        return choices[0]
    if isinstance(rule, pv.Bool):
        return True
    if isinstance(rule, pv.Number):  # the middle of its range
        lo = rule.min if rule.min is not None else 0.0
        return (lo + (rule.max if rule.max is not None else lo + 1.0)) / 2
    return object()  # Body / Free: not checked before the body


def _generated_cases():
    cases = []
    for name, func in sorted(_declared_functions().items()):
        rules = getattr(func, "__param_rules__", {})
        for param, rule in rules.items():
            if rule.invalid is not None:
                cases.append(pytest.param(func, param, rule.invalid, id=f"{name}-{param}"))
    return cases


@pytest.mark.parametrize("func, param, bad", _generated_cases())
def test_declared_rule_refuses_a_bad_value(func, param, bad, tmp_path, monkeypatch):
    """Generated from the declarations: the bad value is refused before the body runs,
    with a message that names the function (from ``__qualname__``) and the parameter."""
    monkeypatch.chdir(tmp_path)
    sig = inspect.signature(func)
    rules = func.__param_rules__
    args, kwargs = [], {}
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD or p.kind is p.VAR_POSITIONAL:
            continue
        if p.name == param:
            value = bad
        elif p.default is p.empty:
            value = _valid(p.name, rules.get(p.name))
        else:
            continue
        if p.kind is p.POSITIONAL_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD
                                           and p.default is p.empty):
            args.append(value)
        else:
            kwargs[p.name] = value
    with pytest.raises(ParameterError) as info:
        func(*args, **kwargs)
    assert f"{func.__name__}(): {param}" in str(info.value), str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_every_body_rule_has_a_row():
    from multidigit._param_validation import Body

    rows = {(getattr(c.values[0], "__name__", None), c.values[3]) for c in CASES}
    missing = []
    for name, func in sorted(_declared_functions().items()):
        for param, rule in getattr(func, "__param_rules__", {}).items():
            if isinstance(rule, Body) and (name, param) not in rows | set(BODY_WITHOUT_ROW):
                missing.append((name, param))
    assert not missing, f"Body rules without a bad-argument row in param_cases_*.py: {missing}"
