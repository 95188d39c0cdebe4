"""The study's ``report.html``: one self-contained page rendered from a Jinja2 template.

The template (``templates/report.html.j2``) holds the page's layout; this module only
turns the saved stage results into rows of text and embeds the figures as data URIs.
Jinja2 escapes every value (autoescaping), so a label, a path or an error message
can never inject markup into the page.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["pct", "render_report"]


def pct(x: Any) -> str:
    """A fraction as a percentage with two decimals (``n/a`` for ``None``)."""
    return "n/a" if x is None else f"{100 * float(x):.2f} %"


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
    t = fin["test"]
    return [[pct(t["mean_digit_accuracy"]), pct(t["whole_accuracy"]),
             ", ".join(pct(a) for a in t["digit_accuracy"]), f"{t['hamming_loss']:.4f}",
             t["n_images"]]]


def _data_section(d: dict[str, Any], fig: Any) -> dict[str, Any]:
    rows = [[k, v["images"], v["labels"], "x".join(map(str, v["image_shape"])),
             v["labels_shared_with_train"]] for k, v in d["describe"]["splits"].items()]
    figs = [fig(d["figures"].get(f"samples_{n}"), f"sample images, {n} split")
            for n in ("train", "val", "test")]
    return {"rows": rows, "figures": figs}


def _compare_section(c: dict[str, Any], fig: Any) -> dict[str, Any]:
    rows = [[r["activation"], r["loss"], pct(r["mean"]), f"{100 * r['std']:.2f}",
             f"[{pct(r['ci_low'])}, {pct(r['ci_high'])}]"] for r in c["rows"]]
    return {"rows": rows, "verdict": c.get("verdict", ""),
            "figure": fig(c["figures"].get("comparison"), "comparison")}


def _cv_section(cv: dict[str, Any], fig: Any) -> dict[str, Any]:
    rows = [[k, f"{v['mean']:.4f}", f"{v['std']:.4f}"]
            for k, v in cv.get("summary", {}).items()]
    return {"rows": rows, "k": cv.get("k"), "model": json.dumps(cv.get("model_params")),
            "figure": fig(cv["figures"].get("learning_curves"), "learning curves")}


def _tuning_section(tu: dict[str, Any], fig: Any) -> dict[str, Any]:
    rows = [[t.get("trial_id"), json.dumps(t.get("hyperparameters")), t.get("score"),
             t.get("status")] for t in tu.get("trials", [])]
    return {"rows": rows, "best": json.dumps(tu.get("best_hyperparameters")),
            "figure": fig(tu["figures"].get("tuning"), "score per hyperparameter")}


def _report_rows(reports: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for pos, rep in enumerate(reports):
        for digit in [str(i) for i in range(10)]:
            r = rep.get(digit, {})
            if r:
                rows.append([pos, digit, f"{r['precision']:.3f}", f"{r['recall']:.3f}",
                             f"{r['f1-score']:.3f}", int(r["support"])])
    return rows


def _final_section(fin: dict[str, Any], fig: Any) -> dict[str, Any]:
    figs = fin["figures"]
    return {"model": json.dumps(fin["model_params"]), "epochs": fin["epochs"],
            "batch_size": fin["batch_size"], "seconds": f"{fin['train_seconds']:.0f}",
            "figures": [fig(figs.get("confusion"), "confusion matrices"),
                        fig(figs.get("final_curves"), "training curves"),
                        fig(figs.get("model"), "model diagram")],
            "model_error": figs.get("model_error"),
            "report_rows": _report_rows(fin["test"].get("reports", []))}


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
