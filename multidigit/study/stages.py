"""What each stage of a study computes; each returns a JSON-ready dict, saved as it ends.

The order, dependencies and arguments of the stages are declared once, in
:data:`multidigit.study.stage_table.STAGE_TABLE`; its rows name these functions:

* :func:`stage_data`: describe the data, sample images per split;
* :func:`stage_compare`: output activation x loss, all four combinations, grouped folds;
* :func:`stage_cv`: the winning combination, learning curves;
* :func:`stage_tuning`: a keras-tuner search (small by default, study-sized on request);
* :func:`stage_final`: retrain on train + val, one evaluation on the untouched test split;
* :func:`stage_explain`: explain a few test images with different labels (a wrong
  reading among them if the model makes one) with every registered explainer (options
  of particular ones: :data:`multidigit.study.config.EXPLAINER_OPTIONS`); each method
  gets a sentence on what it shows and its verdict from the trust table
  (:mod:`multidigit.explanation.metrics.trust`).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from multidigit.errors import MultidigitError
from multidigit.study.config import StudyConfig, explainer_options
from multidigit.study.folder import StudyFolder

__all__ = [
    "data_fingerprint",
    "experiment_data",
    "explained_images",
    "load_data",
    "stage_compare",
    "stage_cv",
    "stage_data",
    "stage_explain",
    "stage_final",
    "stage_tuning",
]


def load_data(cfg: StudyConfig) -> Any:
    """The dataset of the study, as :func:`multidigit.load_dataset` loads it."""
    from multidigit.data import load_dataset

    size = cfg.image_size
    return load_dataset(cfg.data, image_size=size, seed=cfg.seed,
                        images_per_class=cfg.images_per_class, progress=False)


def experiment_data(ds: Any, images_per_class: int | None) -> Any:
    """The first ``images_per_class`` images of every label combination of each split
    (all of ``ds`` for None): what compare, cross-validation and tuning read.

    Examples
    --------
    >>> ds = load_data(StudyConfig.make(quick=True))
    >>> len(experiment_data(ds, 1).train) * 2 == len(ds.train)
    True
    """
    from multidigit.data import MultiDigitDataset

    if images_per_class is None:
        return ds

    def first(split: Any) -> Any:
        seen: dict[int, int] = {}
        keep = []
        for i, label in enumerate(split.label_ids.tolist()):
            seen[label] = seen.get(label, 0) + 1
            if seen[label] <= images_per_class:
                keep.append(i)
        return split if len(keep) == len(split) else split.subset(keep)

    return MultiDigitDataset(first(ds.train), first(ds.val), first(ds.test), ds.source)


def data_fingerprint(ds: Any) -> str:
    """A hash of every split's images and labels: a resumed study checks it is unchanged.

    Examples
    --------
    >>> data_fingerprint(load_data(StudyConfig.make(quick=True)))[:12]  # doctest: +SKIP
    '3f1c...'
    """
    import hashlib

    digest = hashlib.sha256()
    for name, split in sorted(ds.splits.items()):
        digest.update(name.encode())
        for array in (split.images, split.labels):
            a = np.ascontiguousarray(array)
            digest.update(f"{a.dtype}{a.shape}".encode())
            digest.update(memoryview(a).cast("B"))  # no copy of the images
    return digest.hexdigest()


def stage_data(run: StudyFolder, ds: Any) -> dict[str, Any]:
    """The dataset's summary and sample images of each split."""
    from multidigit import plots

    figs = {f"samples_{name}": run.figure(plots.plot_samples(split, n=8), f"samples_{name}")
            for name, split in ds.splits.items()}
    return {"describe": ds.describe(), "figures": figs}


def stage_compare(run: StudyFolder, ds: Any, progress: bool) -> dict[str, Any]:
    """The four output activation x loss combinations on the same folds."""
    from multidigit import plots
    from multidigit.experiments.comparison import compare

    cfg = run.config
    res = compare(ds, k=cfg.compare_k, model_params=cfg.model_params(),
                  epochs=cfg.compare_epochs, batch_size=cfg.experiment_batch_size,
                  seed=cfg.seed,
                  train_params={"schedule": cfg.schedule}, progress=progress)
    out = res.to_dict()
    best = res.rows[0]
    out["best"] = {"activation": best["activation"], "loss": best["loss"]}
    out["figures"] = {"comparison": run.figure(plots.plot_comparison(res), "comparison")}
    return out


def _compare_run_of(cfg: StudyConfig, compare: dict[str, Any],
                    params: dict[str, Any]) -> dict[str, Any] | None:
    """The comparison's cross-validation of ``params`` if it is the very one the
    cross-validation stage would run (same folds, seeds, epochs, batch, schedule:
    the default settings), else None."""
    runs = compare.get("cv", {}).get(f"{params['activation']}+{params['loss']}") or []
    want_train = {"epochs": cfg.cv_epochs, "batch_size": cfg.experiment_batch_size,
                  "early_stopping": False, "schedule": cfg.schedule}
    for run in runs[:1]:  # repeat 0: the folds of seed cfg.seed
        if (run.get("k") == cfg.cv_k and run.get("seed") == cfg.seed and run.get("grouped")
                and run.get("model_params") == params and run.get("train_params") == want_train):
            return run
    return None


def stage_cv(run: StudyFolder, ds: Any, compare: dict[str, Any],
             progress: bool) -> dict[str, Any]:
    """Grouped cross-validation of the winning combination.

    With the default settings the comparison has already run exactly this
    cross-validation (same folds, seeds and epochs): its runs are reported, not
    trained again (``"reused": "compare"``; measured: the same numbers, 39 s less,
    benchmarks/README.md, issue 29).
    """
    from multidigit import plots
    from multidigit.experiments.cross_validation import cross_validate

    cfg = run.config
    params = {**cfg.model_params(), **compare["best"]}
    done = _compare_run_of(cfg, compare, params)
    if done is not None:
        out = {**done, "reused": "compare"}
        histories: Any = [h["history"] for h in done["histories"]]
    else:
        res = cross_validate(ds, k=cfg.cv_k, model_params=params, epochs=cfg.cv_epochs,
                             batch_size=cfg.experiment_batch_size, seed=cfg.seed,
                             train_params={"schedule": cfg.schedule}, progress=progress)
        out, histories = res.to_dict(), res.histories
    out["figures"] = {
        "learning_curves": run.figure(plots.plot_learning_curves(histories),
                                      "learning_curves")
    }
    return out


def stage_tuning(run: StudyFolder, ds: Any, best: dict[str, str],
                 progress: bool) -> dict[str, Any]:
    """A keras-tuner search in the study's own project folder."""
    from multidigit.tuning import tune

    cfg = run.config
    res = tune(ds, search_space=cfg.tune_space, tuner=cfg.tune_tuner,
               max_trials=cfg.tune_trials, epochs=cfg.tune_epochs,
               directory=str(run.tuning_project()), project_name="study", resume=True,
               seed=cfg.seed, batch_size=cfg.experiment_batch_size, retrain=False,
               progress=progress,
               activation=best["activation"], loss=best["loss"])
    out = res.to_dict()
    out["figures"] = {"tuning": run.figure(res.plot(), "tuning")}
    return out


def _final_model_params(cfg: StudyConfig, best: dict[str, str],
                        tuned: dict[str, Any]) -> tuple[dict[str, Any], int]:
    from multidigit.tuning import model_kwargs

    hp = dict(tuned.get("best_hyperparameters") or {})
    batch = int(hp.pop("batch_size", cfg.batch_size))
    params = {**cfg.model_params(), **model_kwargs(hp), **best}
    params.setdefault("preset", cfg.preset)
    return params, batch


def _final_figures(run: StudyFolder, model: Any, result: Any, hist: Any) -> dict[str, str]:
    import shutil

    from multidigit import plots

    figs = {
        "confusion": run.figure(plots.plot_confusion_matrices(result), "confusion"),
        "final_curves": run.figure(plots.plot_learning_curves(hist), "final_curves"),
        # drawn with matplotlib: the report shows the network with or without Graphviz
        "architecture": run.figure(plots.plot_architecture(model), "architecture"),
    }
    if shutil.which("dot") is not None:  # Keras' own graph as well, where Graphviz is
        try:
            figs["model"] = run.figure(plots.plot_model(model), "model")
        except MultidigitError:  # pydot missing: the matplotlib diagram is enough
            pass
    return figs


def stage_final(run: StudyFolder, ds: Any, best: dict[str, str], tuned: dict[str, Any],
                progress: bool) -> dict[str, Any]:
    """Retrain on train + val, evaluate once on test, save the model."""
    from multidigit.data import Split
    from multidigit.evaluation.measure import evaluate
    from multidigit.model.build import build_model, save_model
    from multidigit.training.fit import train

    cfg = run.config
    params, batch = _final_model_params(cfg, best, tuned)
    # "all training data": train + val (val is only used for model choice above)
    full = Split(np.concatenate([ds.train.images, ds.val.images]),
                 np.concatenate([ds.train.labels, ds.val.labels]), "train+val")
    model = build_model(input_shape=ds.image_shape, n_digits=ds.n_digits, seed=cfg.seed,
                        **params)
    t = time.perf_counter()
    hist = train(model, full, epochs=cfg.final_epochs, batch_size=batch, validation=None,
                 schedule=cfg.schedule, early_stopping=False, seed=cfg.seed,
                 progress=progress)
    seconds = time.perf_counter() - t
    result = evaluate(model, ds.test)
    save_model(model, run.claim("model.keras"))
    from multidigit.model.architecture import layer_table

    return {"model_params": params, "batch_size": batch, "epochs": cfg.final_epochs,
            "train_seconds": seconds, "train_images": len(full),
            "layers": layer_table(model), "n_params": int(model.count_params()),
            "history": hist.to_dict() if hasattr(hist, "to_dict") else None,
            "test": result.to_dict(), "figures": _final_figures(run, model, result, hist)}


def _explain_one(run: StudyFolder, model: Any, images: Any, name: str,
                 out: dict[str, Any]) -> None:
    from multidigit.explanation.api import explain
    from multidigit.explanation.metrics.trust import DESCRIPTIONS, verdict
    from multidigit.explanation.registry import get_explainer

    t = time.perf_counter()
    opts = explainer_options(name, run.config.quick)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = explain(model, images, method=name, **opts)
    fig = ex.plot(size=3.0)  # readable: about 270 px a panel in the report
    key = name.replace("+", "p")
    out["figures"][key] = run.figure(fig, f"explain_{key}")
    out["methods"][name] = {
        "seconds": time.perf_counter() - t,
        "shape": list(np.shape(ex.maps)),
        "model_level": bool(getattr(get_explainer(name), "model_level", False)),
        "description": DESCRIPTIONS.get(name, ""),
        "verdict": verdict(name),
    }


def explained_images(model: Any, split: Any, n: int, pool: int = 500) -> list[dict[str, Any]]:
    """Which test images the report explains: ``n`` with different labels, chosen
    greedily so that each adds the most digits not yet shown at their position, a
    wrong reading first when the model makes one among the first ``pool`` images.

    Returns one dict per image: ``index``, ``label`` (true), ``read`` (predicted),
    ``wrong``.
    """
    from multidigit.model.heads import predict_heads

    m = min(len(split), pool)
    read = predict_heads(model, split.images[:m]).argmax(-1)
    labels = split.labels[:m]
    wrong = (read != labels).any(axis=1)
    chosen: list[int] = [int(np.flatnonzero(wrong)[0])] if wrong.any() else []
    shown = {(k, d) for i in chosen for k, d in enumerate(labels[i])}
    names = {str(split.label_strings[i]) for i in chosen}
    while len(chosen) < min(n, m):
        gain = [-1 if str(split.label_strings[i]) in names else
                sum((k, d) not in shown for k, d in enumerate(labels[i])) for i in range(m)]
        best = int(np.argmax(gain))
        if gain[best] < 0:  # every label shown already
            break
        chosen.append(best)
        names.add(str(split.label_strings[best]))
        shown |= {(k, d) for k, d in enumerate(labels[best])}
    return [{"index": i, "label": str(split.label_strings[i]),
             "read": "".join(map(str, read[i])), "wrong": bool(wrong[i])} for i in chosen]


def stage_explain(run: StudyFolder, ds: Any) -> dict[str, Any]:
    """Every registered explainer on a few test images with different labels
    (a wrong reading among them when there is one), one figure each."""
    from multidigit.explanation.registry import list_explainers
    from multidigit.model.build import load_model

    model = load_model(run.out / "model.keras")
    picked = explained_images(model, ds.test, run.config.n_explain)
    images = ds.test.images[[p["index"] for p in picked]]
    out: dict[str, Any] = {"methods": {}, "figures": {}, "images": picked}
    for name in list_explainers():
        try:
            _explain_one(run, model, images, name, out)
        except Exception as exc:  # noqa: BLE001  (a failing plugin must not sink the run)
            out["methods"][name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
