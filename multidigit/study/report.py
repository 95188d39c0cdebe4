"""The study's ``report.html``: one self-contained page rendered from a Jinja2 template.

The template (``templates/report.html.j2``) holds the page's layout and its print CSS
(A4, figures and tables not cut across pages) and draws one numbered section per row
of the stage table (:mod:`.stage_table`), each with its macro of
``templates/sections.html.j2``; :mod:`.sections` turns each saved stage result into
rows of text (every accuracy in %, intervals inside [0 %, 100 %]); this module
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

from multidigit.study import conclusions, narrative, sections
from multidigit.study import stage_table as T
from multidigit.study.narrative import interval, pct, wilson_interval

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


def _sections(st: dict[str, Any], fig: Any) -> list[dict[str, Any]]:
    """One numbered section per row of the stage table; ``content`` is None for a
    stage that has not finished."""
    out = []
    for number, stage in enumerate(T.STAGE_TABLE, start=1):
        result = st.get(stage.name)
        build = getattr(sections, stage.section, None)
        if build is None:
            raise ValueError(f"stage {stage.name!r}: multidigit.study.sections has no "
                             f"section {stage.section!r}; use 'generic' or add one")
        out.append({"name": stage.name, "number": number, "title": stage.title,
                    "macro": stage.section, "content": build(result, fig) if result else None})
    return out


def _context(config: Any, metrics: dict[str, Any], fig_dir: Path) -> dict[str, Any]:
    st = metrics["stages"]

    def fig(name: str | None, alt: str) -> dict[str, str] | None:
        return _figure(fig_dir, name, alt)

    stage_sections = _sections(st, fig)
    return {
        "data_source": str(config.data), "seed": config.seed,
        "settings": "quick" if config.quick else "default",
        "seconds": f"{metrics['seconds']:.0f}",
        "headline": _headline(st["final"]) if st.get("final") else None,
        "glossary": narrative.GLOSSARY,
        "paragraphs": narrative.stage_paragraphs(config, st),
        "sections": stage_sections,
        "conclusions_number": len(stage_sections) + 1,
        "claims": conclusions.claims(st),
        "limits": conclusions.limits(config, st),
        "try_next": conclusions.try_next(str(fig_dir.parent)),
    }


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
