"""The report's section of each stage: a stage's saved result turned into the values
its macro in ``templates/sections.html.j2`` shows (every accuracy in %, intervals
inside [0 %, 100 %], figures embedded by the ``fig`` callable the report passes).

Each builder is named as the ``section`` of its row in
:data:`~multidigit.study.stage_table.STAGE_TABLE`, and so is its macro; a stage without
a section of its own gets :func:`generic` (its figures).  Every builder takes the
stage's result and ``fig(name, alt)``, and returns a dict.

Examples
--------
>>> generic({"figures": {"noise": "noise.png"}}, lambda name, alt: {"alt": alt})
{'figures': [{'alt': 'noise'}]}
"""

from __future__ import annotations

from typing import Any

from multidigit.experiments.comparison import corrected_interval
from multidigit.study.narrative import fold_ratio, interval, pct

__all__ = ["compare", "cross_validation", "data", "explain", "final", "generic", "tuning"]


def generic(result: dict[str, Any], fig: Any) -> dict[str, Any]:
    """Any stage: its figures, each captioned with its name."""
    return {"figures": [fig(name, key) for key, name in result.get("figures", {}).items()]}


def data(d: dict[str, Any], fig: Any) -> dict[str, Any]:
    rows = [[k, v["images"], v["labels"], "x".join(map(str, v["image_shape"])),
             v["labels_shared_with_train"]] for k, v in d["describe"]["splits"].items()]
    figs = [fig(d["figures"].get(f"samples_{n}"), f"sample images of the {n} split, "
                "white on black as stored, with their labels") for n in ("train", "val", "test")]
    return {"rows": rows, "figures": figs}


def compare(c: dict[str, Any], fig: Any) -> dict[str, Any]:
    ratio = fold_ratio(next(iter(c["cv"].values()))[0]) if c.get("cv") else 1.0
    rows = []
    for r in c["rows"]:
        scores = c.get("scores", {}).get(r.get("key", ""))
        # recomputed from the fold scores: a study saved before the logit interval shows one
        lo, hi = (corrected_interval(scores, ratio, scale="logit") if scores is not None
                  else (r["ci_low"], r["ci_high"]))
        rows.append([r["activation"], r["loss"], pct(r["mean"]), interval(lo, hi),
                     pct(r.get("whole_accuracy")), _score(r.get("mean_brier_score")),
                     pct(r.get("mean_ece"))])
    verdict = str(c.get("verdict", "")).replace("mean_digit_accuracy", "per-digit accuracy")
    return {"rows": rows, "verdict": verdict, "k": rows and c["rows"][0]["n"],
            "figure": fig(c["figures"].get("comparison"), "per-digit accuracy of each "
                          "combination with its 95 % interval")}


def _score(x: Any) -> str:
    return "n/a" if x is None else f"{float(x):.3f}"


def cross_validation(cv: dict[str, Any], fig: Any) -> dict[str, Any]:
    folds, ratio = cv.get("folds", []), fold_ratio(cv) if cv.get("folds") else 1.0
    rows = []
    for key, name, kind in (("mean_digit_accuracy", "per-digit accuracy", "acc"),
                            ("whole_accuracy", "whole-number accuracy", "acc"),
                            ("hamming_loss", "Hamming loss", "pct"),
                            ("mean_brier_score", "Brier score", "score"),
                            ("mean_ece", "ECE", "pct")):
        values = [f[key] for f in folds]
        show = _score if kind == "score" else pct
        ci = interval(*corrected_interval(values, ratio, scale="logit")) \
            if kind == "acc" and len(values) > 1 else ""
        rows.append([name, *(show(v) for v in values), show(sum(values) / len(values)), ci])
    header = ["metric", *(f"fold {f['fold'] + 1}" for f in folds), "mean", "95 % interval"]
    return {"rows": rows, "header": header, "k": cv.get("k"),
            "reused": cv.get("reused") == "compare",
            "model": _params(cv.get("model_params") or {}),
            "figure": fig(cv["figures"].get("learning_curves"),
                          "learning curves of the folds: training solid, validation dashed")}


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in params.items())


def tuning(tu: dict[str, Any], fig: Any) -> dict[str, Any]:
    rows = [[t.get("trial_id"), _params(t.get("hyperparameters") or {}),
             _score(t.get("score")), pct(t.get("val_accuracy")), str(t.get("status")).lower()]
            for t in tu.get("trials", [])]
    return {"rows": rows, "best": _params(tu.get("best_hyperparameters") or {}),
            "best_score": _score(tu.get("best_score")),
            "figure": fig(tu["figures"].get("tuning"),
                          "validation loss of each trial against each hyperparameter")}


def _report_rows(reports: list[dict[str, Any]]) -> list[list[Any]]:
    """Digits down, positions across: precision / recall in % (rounded to whole points)."""
    rows = []
    for digit in [str(i) for i in range(10)]:
        cells = []
        for rep in reports:
            r = rep.get(digit)
            cells.append(f"{100 * r['precision']:.0f} / {100 * r['recall']:.0f} %" if r else "")
        rows.append([digit, *cells])
    return rows


def final(fin: dict[str, Any], fig: Any) -> dict[str, Any]:
    figs = fin["figures"]
    reports = fin["test"].get("reports", [])
    return {"model": _params(fin["model_params"]), "epochs": fin["epochs"],
            "batch_size": fin["batch_size"], "seconds": f"{fin['train_seconds']:.0f}",
            "n_params": fin.get("n_params"),
            "layers": [[r["name"], r["type"], r["output"], f"{r['params']:,}"]
                       for r in fin.get("layers", [])],
            "diagram": fig(figs.get("architecture"), "the network, drawn from its layers: "
                           "one box per chain of layers, with output shape and parameters"),
            "graphviz": fig(figs.get("model"), "the same network as Keras' layer graph "
                            "(Graphviz)"),
            "figures": [fig(figs.get("confusion"), "confusion matrices of the test split, "
                            "one per digit position"),
                        fig(figs.get("final_curves"), "training curves of the final model")],
            "report_header": ["digit", *(f"position {i + 1}" for i in range(len(reports)))],
            "report_rows": _report_rows(reports)}


def explain(ex: dict[str, Any], fig: Any) -> dict[str, Any]:
    methods = []
    for name, info in ex["methods"].items():
        key = name.replace("+", "p")
        methods.append({"name": name, "error": info.get("error"),
                        "description": info.get("description", ""),
                        "verdict": info.get("verdict", ""),
                        "figure": None if "error" in info
                        else fig(ex["figures"].get(key), name)})
    images = [[i + 1, im["index"], im["label"], im["read"], "wrong" if im["wrong"] else "right"]
              for i, im in enumerate(ex.get("images", []))]
    return {"methods": methods, "images": images}
