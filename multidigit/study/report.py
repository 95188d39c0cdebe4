"""The study's ``report.html``: one self-contained page rendered from a Jinja2 template.

The template (``templates/report.html.j2``) holds the page's layout and its print CSS
(A4, figures and tables not cut across pages); this module turns the saved stage
results into rows of text (every accuracy in %, intervals inside [0 %, 100 %]) and
embeds the figures as data URIs; the sentences come from :mod:`.narrative` (a
paragraph per stage, the metrics' definitions) and :mod:`.conclusions` (verdicts on the
original study's claims, limits, what to try next).
Jinja2 escapes every value (autoescaping), so a label, a path or an error message
can never inject markup into the page.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..comparison import corrected_interval
from . import conclusions, narrative
from .narrative import fold_ratio, interval, pct, wilson_interval

__all__ = ["pct", "render_report"]


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("multidigit.study", "templates"),
        autoescape=True,  # always on, whatever the template's file name
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _figure(fig_dir: Path, name: str | None, alt: str) -> dict[str, str] | None:
    """A figure as ``{"alt", "src"}`` (a base64 data URI), ``{"missing"}`` or ``None``."""
    if not name:
        return None
    path = fig_dir / name
    if not path.exists():
        return {"missing": name}
    data = base64.b64encode(path.read_bytes()).decode()
    return {"alt": alt, "src": f"data:image/png;base64,{data}"}


def _headline(fin: dict[str, Any]) -> list[list[Any]]:
    """Metric / value rows: narrow enough for an 800 px window and a printed page."""
    t = fin["test"]
    lo, hi = wilson_interval(t["mean_digit_accuracy"], t["n_images"] * len(t["digit_accuracy"]))
    return [["per-digit accuracy", f"{pct(t['mean_digit_accuracy'])}, 95 % interval "
             f"{interval(lo, hi)}"],
            ["whole-number accuracy", pct(t["whole_accuracy"])],
            ["by position", ", ".join(pct(a) for a in t["digit_accuracy"])],
            ["Hamming loss", pct(t["hamming_loss"])],
            ["Brier score", f"{t['mean_brier_score']:.3f}"],
            ["ECE", pct(t["mean_ece"])],
            ["test images", f"{t['n_images']:,}"]]


def _data_section(d: dict[str, Any], fig: Any) -> dict[str, Any]:
    rows = [[k, v["images"], v["labels"], "x".join(map(str, v["image_shape"])),
             v["labels_shared_with_train"]] for k, v in d["describe"]["splits"].items()]
    figs = [fig(d["figures"].get(f"samples_{n}"), f"sample images of the {n} split, "
                "white on black as stored, with their labels") for n in ("train", "val", "test")]
    return {"rows": rows, "figures": figs}


def _compare_section(c: dict[str, Any], fig: Any) -> dict[str, Any]:
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


def _cv_section(cv: dict[str, Any], fig: Any) -> dict[str, Any]:
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
            "model": _params(cv.get("model_params") or {}),
            "figure": fig(cv["figures"].get("learning_curves"),
                          "learning curves of the folds: training solid, validation dashed")}


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in params.items())


def _tuning_section(tu: dict[str, Any], fig: Any) -> dict[str, Any]:
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


def _final_section(fin: dict[str, Any], fig: Any) -> dict[str, Any]:
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


def _explain_section(ex: dict[str, Any], fig: Any) -> dict[str, Any]:
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


def _context(config: Any, metrics: dict[str, Any], fig_dir: Path) -> dict[str, Any]:
    st = metrics["stages"]

    def fig(name: str | None, alt: str) -> dict[str, str] | None:
        return _figure(fig_dir, name, alt)

    sections = {"data": _data_section, "compare": _compare_section, "cv": _cv_section,
                "tuning": _tuning_section, "final": _final_section,
                "explain": _explain_section}
    stage_of = {"cv": "cross_validation"}
    ctx: dict[str, Any] = {
        "data_source": str(config.data), "seed": config.seed,
        "settings": "quick" if config.quick else "default",
        "seconds": f"{metrics['seconds']:.0f}",
        "headline": _headline(st["final"]) if st.get("final") else None,
        "glossary": narrative.GLOSSARY,
        "paragraphs": narrative.stage_paragraphs(config, st),
        "claims": conclusions.claims(st),
        "limits": conclusions.limits(config, st),
        "try_next": conclusions.try_next(str(fig_dir.parent)),
    }
    for key, build in sections.items():
        stage = st.get(stage_of.get(key, key), {})
        ctx[key] = build(stage, fig) if stage else None
    return ctx


def render_report(config: Any, metrics: dict[str, Any], fig_dir: Path) -> str:
    """The HTML page of a finished study (figures from ``fig_dir`` embedded).

    Examples
    --------
    >>> page = render_report(cfg, metrics, Path("study/figures"))   # doctest: +SKIP
    >>> page.startswith("<!DOCTYPE html>")                           # doctest: +SKIP
    True
    """
    template = _environment().get_template("report.html.j2")
    return template.render(**_context(config, metrics, fig_dir))
