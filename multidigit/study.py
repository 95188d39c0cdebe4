"""The whole study in one call: ``multidigit study`` / :func:`run_study`.

Stages, each saved as soon as it finishes (so an interrupted run resumes from the
last finished stage and loses nothing):

1. ``data``: load and describe the data, sample images per split;
2. ``compare``: output activation x loss, all four combinations, grouped folds;
3. ``cross_validation``: the winning combination, learning curves;
4. ``tuning``: a keras-tuner search (small by default, study-sized on request);
5. ``final``: retrain on all training data (train + val), one evaluation on the
   untouched test split, classification reports and confusion matrices;
6. ``explain``: save the model and explain a few test images with every registered
   explainer.

The output folder holds ``report.html`` (one self-contained file, figures embedded),
``metrics.json`` (every number), ``model.keras``, ``figures/*.png`` and
``stages/*.json``.  Files are written atomically.
"""

from __future__ import annotations

import base64
import html
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ._io import atomic_path
from ._io import atomic_write as _atomic_write
from .errors import MultidigitError

__all__ = ["StudyConfig", "run_study", "run_cli", "STAGES"]

STAGES = ("data", "compare", "cross_validation", "tuning", "final", "explain")

#: A small search space that fits the default run's budget on a 2-core CPU.
STUDY_SMALL_SPACE: dict[str, dict[str, Any]] = {
    "preset": {"type": "fixed", "value": "fast"},
    "conv_1": {"type": "choice", "values": [32, 48]},
    "conv_2": {"type": "choice", "values": [64, 96]},
    "conv_3": {"type": "choice", "values": [64, 96]},
    "dense_units": {"type": "choice", "values": [128, 256]},
    "learning_rate": {"type": "choice", "values": [1e-3, 2e-3]},
}

#: The --quick run's space: two tiny trials.
QUICK_SPACE: dict[str, dict[str, Any]] = {
    "preset": {"type": "fixed", "value": "fast"},
    "conv_1": {"type": "choice", "values": [8, 16]},
    "conv_2": {"type": "fixed", "value": 32},
    "dense_units": {"type": "fixed", "value": 64},
}


@dataclass
class StudyConfig:
    """Settings of one study run; ``quick`` and ``default`` build the two presets."""

    data: str = "mini"
    seed: int = 0
    image_size: int = 28
    images_per_class: int = 10
    preset: str = "fast"
    filters: tuple[int, ...] = (32, 64, 64)
    dense_units: int = 128
    compare_k: int = 3
    compare_epochs: int = 4
    cv_k: int = 3
    cv_epochs: int = 6
    tune_space: Any = field(default_factory=lambda: dict(STUDY_SMALL_SPACE))
    tune_tuner: str = "random"
    tune_trials: int = 4
    tune_epochs: int = 3
    final_epochs: int = 12
    batch_size: int = 64
    n_explain: int = 4
    quick: bool = False

    @classmethod
    def make(cls, *, data: str = "mini", seed: int = 0, quick: bool = False,
             full_tuning: bool = False) -> "StudyConfig":
        if quick:
            cfg = cls(data=data, seed=seed, images_per_class=2, filters=(16, 32),
                      dense_units=64, compare_k=2, compare_epochs=1, cv_k=2, cv_epochs=1,
                      tune_space=dict(QUICK_SPACE), tune_trials=2, tune_epochs=1,
                      final_epochs=6, n_explain=2, quick=True)
        else:
            cfg = cls(data=data, seed=seed)
        if full_tuning:  # the study's own search: 20 trials x 20 epochs over its space
            cfg.tune_space, cfg.tune_trials, cfg.tune_epochs = "study", 20, 20
            cfg.batch_size = 32
        return cfg

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["filters"] = list(self.filters)
        return d


# Rough share of the run's time per stage, for the time estimate.
_WEIGHTS = {"data": 0.02, "compare": 0.35, "cross_validation": 0.15, "tuning": 0.15,
            "final": 0.28, "explain": 0.05}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


class _Run:
    """Bookkeeping of one output folder: stage files, figures, console output."""

    def __init__(self, out: Path, config: StudyConfig, restart: bool, console: Any) -> None:
        self.out = out
        self.config = config
        self.console = console
        self.stage_dir = out / "stages"
        self.fig_dir = out / "figures"
        self.stage_dir.mkdir(parents=True, exist_ok=True)
        self.fig_dir.mkdir(parents=True, exist_ok=True)
        cfg_path = self.stage_dir / "config.json"
        cfg = _jsonable(config.to_dict())
        if cfg_path.exists() and not restart:
            old = json.loads(cfg_path.read_text())
            if old != cfg:
                raise MultidigitError(
                    f"{str(out)!r} holds a study run with other settings; pass --restart "
                    "to start it again from scratch, or choose another --out folder."
                )
        if restart:
            for p in self.stage_dir.glob("*.json"):
                p.unlink()
        _atomic_write(cfg_path, json.dumps(cfg, indent=2))
        self.t0 = time.perf_counter()
        self.done_weight = 0.0

    def load(self, stage: str) -> dict[str, Any] | None:
        p = self.stage_dir / f"{stage}.json"
        return json.loads(p.read_text()) if p.exists() else None

    def save(self, stage: str, result: dict[str, Any]) -> None:
        _atomic_write(self.stage_dir / f"{stage}.json", json.dumps(_jsonable(result), indent=2))

    def figure(self, fig: Any, name: str) -> str:
        import matplotlib.pyplot as plt

        path = self.fig_dir / f"{name}.png"
        with atomic_path(path, suffix=".png") as tmp:  # matplotlib picks the format by suffix
            fig.savefig(tmp, dpi=90, bbox_inches="tight")
        plt.close(fig)
        return path.name

    def say(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text)

    def eta(self) -> str:
        elapsed = time.perf_counter() - self.t0
        if self.done_weight <= 0.05:
            return f"elapsed {elapsed:.0f}s"
        total = elapsed / self.done_weight
        return f"elapsed {elapsed:.0f}s, about {max(0.0, total - elapsed) / 60:.1f} min left"


def _load_data(cfg: StudyConfig):
    from .data import load_dataset

    size = (cfg.image_size, cfg.image_size) if cfg.image_size else None
    return load_dataset(cfg.data, image_size=size, seed=cfg.seed,
                        images_per_class=cfg.images_per_class, progress=False)


def _model_params(cfg: StudyConfig) -> dict[str, Any]:
    return {"preset": cfg.preset, "filters": list(cfg.filters), "dense_units": cfg.dense_units}


# ----------------------------------------------------------------------------- stages
def _stage_data(run: _Run, ds: Any) -> dict[str, Any]:
    from . import plots

    figs = {f"samples_{name}": run.figure(plots.plot_samples(split, n=8), f"samples_{name}")
            for name, split in ds.splits.items()}
    return {"describe": ds.describe(), "figures": figs}


def _stage_compare(run: _Run, ds: Any, progress: bool) -> dict[str, Any]:
    from . import plots
    from .training import compare

    cfg = run.config
    res = compare(ds, k=cfg.compare_k, model_params=_model_params(cfg),
                  epochs=cfg.compare_epochs, batch_size=cfg.batch_size, seed=cfg.seed,
                  progress=progress)
    out = res.to_dict()
    best = res.rows[0]
    out["best"] = {"activation": best["activation"], "loss": best["loss"]}
    out["figures"] = {"comparison": run.figure(plots.plot_comparison(res), "comparison")}
    return out


def _stage_cv(run: _Run, ds: Any, best: dict[str, str], progress: bool) -> dict[str, Any]:
    from . import plots
    from .training import cross_validate

    cfg = run.config
    params = {**_model_params(cfg), **best}
    res = cross_validate(ds, k=cfg.cv_k, model_params=params, epochs=cfg.cv_epochs,
                         batch_size=cfg.batch_size, seed=cfg.seed, progress=progress)
    out = res.to_dict()
    out["figures"] = {
        "learning_curves": run.figure(plots.plot_learning_curves(res.histories),
                                      "learning_curves")
    }
    return out


def _stage_tuning(run: _Run, ds: Any, best: dict[str, str], progress: bool) -> dict[str, Any]:
    from .tuning import tune

    cfg = run.config
    res = tune(ds, search_space=cfg.tune_space, tuner=cfg.tune_tuner,
               max_trials=cfg.tune_trials, epochs=cfg.tune_epochs,
               directory=str(run.out / "tuning"), project_name="study", resume=True,
               seed=cfg.seed, batch_size=cfg.batch_size, retrain=False, progress=progress,
               activation=best["activation"], loss=best["loss"])
    out = res.to_dict()
    out["figures"] = {"tuning": run.figure(res.plot(), "tuning")}
    return out


def _final_model_params(cfg: StudyConfig, best: dict[str, str],
                        tuned: dict[str, Any]) -> tuple[dict[str, Any], int]:
    from .tuning import model_kwargs

    hp = dict(tuned.get("best_hyperparameters") or {})
    batch = int(hp.pop("batch_size", cfg.batch_size))
    params = {**_model_params(cfg), **model_kwargs(hp), **best}
    params.setdefault("preset", cfg.preset)
    return params, batch


def _stage_final(run: _Run, ds: Any, best: dict[str, str], tuned: dict[str, Any],
                 progress: bool) -> dict[str, Any]:
    from . import plots
    from .data import Split
    from .models import build_model, save_model
    from .training import evaluate, train

    cfg = run.config
    params, batch = _final_model_params(cfg, best, tuned)
    # "all training data": train + val (val is only used for model choice above)
    full = Split(np.concatenate([ds.train.images, ds.val.images]),
                 np.concatenate([ds.train.labels, ds.val.labels]), "train+val")
    model = build_model(input_shape=ds.image_shape, n_digits=ds.n_digits, seed=cfg.seed,
                        **params)
    t = time.perf_counter()
    hist = train(model, full, epochs=cfg.final_epochs, batch_size=batch, validation=None,
                 early_stopping=False, seed=cfg.seed, progress=progress)
    seconds = time.perf_counter() - t
    result = evaluate(model, ds.test)
    save_model(model, run.out / "model.keras")
    figs = {
        "confusion": run.figure(plots.plot_confusion_matrices(result), "confusion"),
        "final_curves": run.figure(plots.plot_learning_curves(hist), "final_curves"),
    }
    try:
        figs["model"] = run.figure(plots.plot_model(model), "model")
    except MultidigitError as exc:  # graphviz missing: say so in the report
        figs["model_error"] = str(exc)
    return {"model_params": params, "batch_size": batch, "epochs": cfg.final_epochs,
            "train_seconds": seconds, "train_images": len(full),
            "history": hist.to_dict() if hasattr(hist, "to_dict") else None,
            "test": result.to_dict(), "figures": figs}


def _stage_explain(run: _Run, ds: Any) -> dict[str, Any]:
    import warnings

    from .explain import explain, get_explainer, list_explainers
    from .models import load_model

    cfg = run.config
    model = load_model(run.out / "model.keras")
    images = ds.test.images[: cfg.n_explain]
    out: dict[str, Any] = {"methods": {}, "figures": {}}
    for name in list_explainers():
        t = time.perf_counter()
        try:
            opts: dict[str, Any] = {}
            if name == "deepdream":
                opts = {"steps": 5 if cfg.quick else 20}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ex = explain(model, images, method=name, **opts)
            fig = ex.plot()
            key = name.replace("+", "p")
            out["figures"][key] = run.figure(fig, f"explain_{key}")
            out["methods"][name] = {
                "seconds": time.perf_counter() - t,
                "shape": list(np.shape(ex.maps)),
                "model_level": bool(getattr(get_explainer(name), "model_level", False)),
            }
        except Exception as exc:  # one failing (plugin) explainer must not sink the run
            out["methods"][name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


# ----------------------------------------------------------------------------- report
def _img_tag(run: _Run, name: str | None, alt: str) -> str:
    if not name:
        return ""
    path = run.fig_dir / name
    if not path.exists():
        return f"<p><em>figure {html.escape(name)} missing</em></p>"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"/>' \
           f"<figcaption>{html.escape(alt)}</figcaption></figure>"


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{100 * float(x):.2f} %"


def _table(rows: list[list[Any]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _report_html(run: _Run, metrics: dict[str, Any]) -> str:
    st = metrics["stages"]
    parts = [f"<h1>multidigit study report</h1><p>Data: <code>{html.escape(str(run.config.data))}"
             f"</code>, seed {run.config.seed}, {'quick' if run.config.quick else 'default'} "
             f"settings, total {metrics['seconds']:.0f} s.</p>"]
    fin = st.get("final", {})
    if fin:
        t = fin["test"]
        parts.append(
            "<h2>Headline: one evaluation on the untouched test split</h2>"
            + _table([[_pct(t["mean_digit_accuracy"]), _pct(t["whole_accuracy"]),
                       ", ".join(_pct(a) for a in t["digit_accuracy"]),
                       f"{t['hamming_loss']:.4f}", t["n_images"]]],
                     ["per-digit accuracy", "whole-number accuracy", "by position",
                      "Hamming loss", "test images"]))
    d = st.get("data", {})
    if d:
        rows = [[k, v["images"], v["labels"], "x".join(map(str, v["image_shape"])),
                 v["labels_shared_with_train"]] for k, v in d["describe"]["splits"].items()]
        parts.append("<h2>1. Data</h2>" + _table(
            rows, ["split", "images", "label combinations", "shape", "shared with train"]))
        for name in ("train", "val", "test"):
            parts.append(_img_tag(run, d["figures"].get(f"samples_{name}"),
                                  f"sample images, {name} split"))
    c = st.get("compare", {})
    if c:
        rows = [[r["activation"], r["loss"], _pct(r["mean"]), f"{100 * r['std']:.2f}",
                 f"[{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]"] for r in c["rows"]]
        parts.append("<h2>2. Output activation x loss (by accuracy, same folds)</h2>"
                     + _table(rows, ["activation", "loss", "mean per-digit acc.", "std (pts)",
                                     "95 % interval"])
                     + f"<p><strong>Verdict:</strong> {html.escape(c.get('verdict', ''))}</p>"
                     + _img_tag(run, c["figures"].get("comparison"), "comparison"))
    cv = st.get("cross_validation", {})
    if cv:
        summ = cv.get("summary", {})
        rows = [[k, f"{v['mean']:.4f}", f"{v['std']:.4f}"] for k, v in summ.items()]
        parts.append("<h2>3. Cross-validation of the chosen model (grouped folds)</h2>"
                     f"<p>{cv.get('k')} folds grouped by label combination, model "
                     f"<code>{html.escape(json.dumps(cv.get('model_params')))}</code>.</p>"
                     + _table(rows, ["metric", "mean over folds", "std"])
                     + _img_tag(run, cv["figures"].get("learning_curves"), "learning curves"))
    tu = st.get("tuning", {})
    if tu:
        rows = [[t.get("trial_id"), json.dumps(t.get("hyperparameters")), t.get("score"),
                 t.get("status")] for t in tu.get("trials", [])]
        parts.append("<h2>4. Tuning</h2>"
                     f"<p>Best: <code>{html.escape(json.dumps(tu.get('best_hyperparameters')))}"
                     "</code></p>" + _table(rows, ["trial", "hyperparameters", "score", "status"])
                     + _img_tag(run, tu["figures"].get("tuning"), "score per hyperparameter"))
    if fin:
        reps = fin["test"].get("reports", [])
        rep_rows = []
        for pos, rep in enumerate(reps):
            for digit in [str(i) for i in range(10)]:
                r = rep.get(digit, {})
                if r:
                    rep_rows.append([pos, digit, f"{r['precision']:.3f}", f"{r['recall']:.3f}",
                                     f"{r['f1-score']:.3f}", int(r["support"])])
        parts.append("<h2>5. Final model: trained on train + val, evaluated once on test</h2>"
                     f"<p>Parameters <code>{html.escape(json.dumps(fin['model_params']))}</code>, "
                     f"{fin['epochs']} epochs, batch {fin['batch_size']}, "
                     f"{fin['train_seconds']:.0f} s.</p>"
                     + _img_tag(run, fin["figures"].get("confusion"), "confusion matrices")
                     + _img_tag(run, fin["figures"].get("final_curves"), "training curves")
                     + _img_tag(run, fin["figures"].get("model"), "model diagram")
                     + (f"<p>{html.escape(fin['figures']['model_error'])}</p>"
                        if "model_error" in fin["figures"] else "")
                     + "<h3>Classification report per position</h3>"
                     + _table(rep_rows, ["position", "digit", "precision", "recall", "f1",
                                         "support"]))
    ex = st.get("explain", {})
    if ex:
        parts.append("<h2>6. Explanations of test images</h2>")
        for name, info in ex["methods"].items():
            if "error" in info:
                parts.append(f"<h3>{html.escape(name)}</h3><p>failed: "
                             f"{html.escape(info['error'])}</p>")
            else:
                key = name.replace("+", "p")
                parts.append(f"<h3>{html.escape(name)}</h3>"
                             + _img_tag(run, ex["figures"].get(key), name))
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;"
             "padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
             "img{max-width:100%}figure{margin:1em 0}figcaption{color:#666;font-size:90%}"
             "code{background:#f4f4f4}")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>multidigit study</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


# ----------------------------------------------------------------------------- driver
def run_study(
    data: str = "mini",
    out: str | os.PathLike[str] = "multidigit-study",
    *,
    quick: bool = False,
    seed: int = 0,
    full_tuning: bool = False,
    restart: bool = False,
    progress: bool = False,
    config: StudyConfig | None = None,
) -> dict[str, Any]:
    """Run the whole study and write ``report.html`` and ``metrics.json`` into ``out``.

    Parameters
    ----------
    data : str
        ``"mini"`` (offline default), a folder path or ``"hf://owner/name"``.
    out : path
        Output folder; running again with the same folder resumes after the last
        finished stage.
    quick : bool
        Tiny settings (CI and tests; minutes, accuracy far from the default run).
    seed : int
        Seed of data and models.
    full_tuning : bool
        Run the study's own search (20 trials x 20 epochs): hours on a CPU.
    restart : bool
        Ignore finished stages.
    progress : bool
        Show stages, epochs and trials with rich, with a time estimate.

    Returns
    -------
    dict
        The content of ``metrics.json``.

    Examples
    --------
    >>> from multidigit.study import run_study
    >>> metrics = run_study(out="study", quick=True)           # doctest: +SKIP
    >>> metrics["stages"]["final"]["test"]["mean_digit_accuracy"]  # doctest: +SKIP
    """
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
        matplotlib.use("Agg")
    console = None
    if progress:
        from rich.console import Console

        console = Console(stderr=True)
    cfg = config or StudyConfig.make(data=str(data), seed=seed, quick=quick,
                                     full_tuning=full_tuning)
    outp = Path(out).expanduser()
    run = _Run(outp, cfg, restart, console)
    ds = _load_data(cfg)
    results: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("data", lambda: _stage_data(run, ds)),
        ("compare", lambda: _stage_compare(run, ds, progress)),
        ("cross_validation", lambda: _stage_cv(run, ds, results["compare"]["best"], progress)),
        ("tuning", lambda: _stage_tuning(run, ds, results["compare"]["best"], progress)),
        ("final", lambda: _stage_final(run, ds, results["compare"]["best"],
                                       results["tuning"], progress)),
        ("explain", lambda: _stage_explain(run, ds)),
    ]
    for i, (name, fn) in enumerate(steps, start=1):
        cached = run.load(name)
        if cached is not None:
            results[name] = cached
            run.done_weight += _WEIGHTS[name]
            run.say(f"[dim]stage {i}/{len(steps)} {name}: already done, resumed[/dim]")
            continue
        run.say(f"[bold cyan]stage {i}/{len(steps)}: {name}[/bold cyan]  ({run.eta()})")
        t = time.perf_counter()
        res = fn()
        res["seconds"] = time.perf_counter() - t
        run.save(name, res)
        results[name] = res
        run.done_weight += _WEIGHTS[name]
        run.say(f"[green]stage {name} done[/green] in {res['seconds']:.0f}s  "
                f"({run.eta()})")
    total = sum(float(r.get("seconds", 0.0)) for r in results.values())
    fin = results["final"]["test"]
    metrics = {
        "config": cfg.to_dict(),
        "seconds": total,
        "final": {"test": fin},
        "stages": results,
    }
    _atomic_write(outp / "metrics.json", json.dumps(_jsonable(metrics), indent=2))
    _atomic_write(outp / "report.html", _report_html(run, metrics))
    run.say(f"[bold green]report[/bold green]: {outp / 'report.html'}  "
            f"test per-digit accuracy {_pct(fin['mean_digit_accuracy'])}, "
            f"whole-number {_pct(fin['whole_accuracy'])}")
    return metrics


def run_cli(args: Any) -> int:
    """Entry of ``multidigit study`` (see :mod:`multidigit.cli`)."""
    run_study(args.data, args.out, quick=args.quick, seed=args.seed,
              full_tuning=args.full_tuning, restart=args.restart, progress=True)
    return 0
