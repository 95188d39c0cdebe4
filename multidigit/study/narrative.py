"""The words of the study report, computed from this run's numbers.

:mod:`multidigit.study.report` lays the page out; this module writes what it says: one
paragraph per stage (what it measured, on which data, at what budget, and why its
number differs from the final one) and the definitions of the metrics.  The verdicts on
the original study's claims, the limits of the run and what to try next are in
:mod:`multidigit.study.conclusions`.  Nothing here is hard-coded to a result: every
number comes from the stage results.

Examples
--------
>>> lo, hi = wilson_interval(0.986, 3000)
>>> round(lo, 4), round(hi, 4)
(0.9811, 0.9896)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["GLOSSARY", "fold_ratio", "interval", "pct", "stage_paragraphs",
           "wilson_interval"]

#: Each metric the report uses, defined once: (anchor, term, definition).
GLOSSARY = [
    ("per-digit", "Per-digit accuracy",
     "the share of digits read correctly, over the three positions (100 % is perfect)."),
    ("whole-number", "Whole-number accuracy",
     "the share of images with all three digits right: the number read correctly."),
    ("hamming", "Hamming loss",
     "the share of wrong entries among the 30 yes/no answers per image (10 digits x 3 "
     "positions); one wrong digit makes two of them wrong, so it equals "
     "(100 % - per-digit accuracy) / 5. Lower is better."),
    ("brier", "Brier score",
     "the mean over images of the squared distance between a head's 10 probabilities "
     "and the true one-hot answer: 0 is perfect, 2 the worst for probabilities that sum "
     "to one. A score, not a percentage; lower is better."),
    ("ece", "ECE (expected calibration error)",
     "the gap between how confident a head is and how often it is right, averaged over "
     "15 confidence bins (in %); 0 % means a 90 % confident answer is right 9 times in "
     "10."),
    ("interval", "95 % interval",
     "for fold scores: a t-interval with the Nadeau-Bengio correction for overlapping "
     "training folds, computed on the logit scale so it stays inside [0 %, 100 %]; for "
     "the test split: the Wilson interval of a proportion. With 2 folds the t-quantile "
     "is 12.7, so the interval is very wide: 2 folds can rank settings, not pin a "
     "number down."),
    ("val-loss", "Tuning score (validation loss)",
     "the lowest validation loss over a trial's epochs: the sum of the three heads' "
     "cross-entropy on the validation images. Lower is better; it is not an accuracy, "
     "so each trial's validation accuracy is shown beside it."),
]


def pct(x: Any, digits: int = 2) -> str:
    """A fraction as a percentage (``n/a`` for ``None`` or NaN)."""
    if x is None or not np.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):.{digits}f} %"


def interval(lo: float, hi: float) -> str:
    """``[a %, b %]`` (``n/a`` when the interval is undefined)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "n/a"
    return f"[{pct(lo)}, {pct(hi)}]"


def wilson_interval(p: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson interval of a proportion ``p`` observed on ``n`` trials.

    Examples
    --------
    >>> lo, hi = wilson_interval(1.0, 100)
    >>> round(lo, 3), hi
    (0.963, 1.0)
    """
    from scipy.stats import binomtest

    k = int(round(p * n))
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def fold_ratio(cv: dict[str, Any]) -> float:
    """``n_val / n_train`` of a saved cross-validation's folds."""
    folds = cv.get("folds") or []
    return float(np.mean([f["n_val"] for f in folds]) / np.mean([f["n_train"] for f in folds]))


def _exp_sizes(cfg: Any, st: dict[str, Any]) -> dict[str, int]:
    """Images the experiments read (train, val) and the final model's."""
    splits = st["data"]["describe"]["splits"] if st.get("data") else {}
    ipc = cfg.experiment_images_per_class

    def cut(name: str) -> int:
        s = splits.get(name, {"images": 0, "labels": 1})
        return s["images"] if ipc is None else min(s["images"], s["labels"] * ipc)

    fin = st.get("final", {})
    return {"train": cut("train"), "val": cut("val"), "full_train": splits.get(
        "train", {}).get("images", 0), "final": fin.get("train_images", 0),
        "test": fin.get("test", {}).get("n_images", 0)}


def _budget_gap(cfg: Any, n_train: int, epochs: int, sizes: dict[str, int],
                fin: dict[str, Any] | None) -> str:
    if not fin:
        return ""
    final = fin["test"]["mean_digit_accuracy"]
    return (f" Why it differs from the final {pct(final)}: each model here trained on "
            f"{n_train:,} images for {epochs} epoch(s), the final model on {sizes['final']:,} "
            f"images for {fin['epochs']} epochs, so these numbers are lower; they rank "
            "settings, they do not estimate the final accuracy.")


def stage_paragraphs(cfg: Any, st: dict[str, Any]) -> dict[str, str]:
    """One paragraph per finished stage: what, on which data, at what budget, and why.

    Keys are the stage names of :data:`multidigit.study.STAGES` (``explain`` excepted).
    """
    sizes, fin, out = _exp_sizes(cfg, st), st.get("final"), {}
    share = ("all of the" if cfg.experiment_images_per_class is None else
             f"{cfg.experiment_images_per_class} images of every label combination of the")
    if st.get("data"):
        s = st["data"]["describe"]["splits"]
        out["data"] = (
            f"What: the size of each split and a few sample images. On: the whole "
            f"'{cfg.data}' dataset ({s['train']['images']:,} training, {s['val']['images']:,} "
            f"validation and {s['test']['images']:,} test images). Budget: no training. "
            "The validation and test splits hold only label combinations that never occur "
            "in training ('shared with train' is 0), so every accuracy below is measured on "
            "numbers the model has not seen.")
    if st.get("compare"):
        c = st["compare"]
        f = next(iter(c["cv"].values()))[0]
        n_tr = int(f["folds"][0]["n_train"])
        out["compare"] = (
            f"What: the per-digit accuracy of the four output activation x loss "
            f"combinations, on the same folds with the same seeds. On: {share} training "
            f"split ({sizes['train']:,} of {sizes['full_train']:,} images), cut into "
            f"{f['k']} folds grouped by label combination (each model trains on about "
            f"{n_tr:,} images and is scored on the rest). Budget: {cfg.compare_epochs} "
            f"epoch(s) per model, batch {cfg.experiment_batch_size}, the base model "
            f"(filters {list(cfg.filters)}, dense {cfg.dense_units})."
            + _budget_gap(cfg, n_tr, cfg.compare_epochs, sizes, fin))
    if st.get("cross_validation"):
        out["cross_validation"] = _cv_paragraph(cfg, st, share, sizes, fin)
    if st.get("tuning"):
        t = st["tuning"]
        out["tuning"] = (
            f"What: the validation loss of {len(t['trials'])} {t['tuner']} trials of "
            f"hyperparameters (the winning activation and loss fixed). On: {share} "
            f"training split ({sizes['train']:,} images) to train and of the validation "
            f"split ({sizes['val']:,} images) to score. Budget: {cfg.tune_epochs} epoch(s) "
            f"per trial, batch {cfg.experiment_batch_size}. The best trial's settings "
            "build the final model." + _budget_gap(cfg, sizes["train"], cfg.tune_epochs,
                                                  sizes, fin))
    if fin:
        out["final"] = (
            f"What: the accuracy of the final model, measured once on the untouched test "
            f"split. On: all {sizes['final']:,} images of train + validation to train, "
            f"{sizes['test']:,} test images to score. Budget: {fin['epochs']} epochs, batch "
            f"{fin['batch_size']}, {fin['train_seconds']:.0f} s. This is the number to quote: "
            "the stages before used a part of the data and a few epochs only to choose "
            "settings.")
    return out


def _cv_paragraph(cfg: Any, st: dict[str, Any], share: str, sizes: dict[str, int],
                  fin: dict[str, Any] | None) -> str:
    cv = st["cross_validation"]
    n_tr = int(cv["folds"][0]["n_train"])
    text = (f"What: the spread over folds of the winning combination, its learning curves "
            f"and its calibration. On: {share} training split ({sizes['train']:,} images), "
            f"{cv['k']} grouped folds. Budget: {cfg.cv_epochs} epoch(s) per fold, batch "
            f"{cfg.experiment_batch_size}.")
    comp = st.get("compare")
    if comp and np.isclose(cv["summary"]["mean_digit_accuracy"]["mean"],
                           comp["rows"][0]["mean"]):
        text += (" Same folds and seeds as stage 2, so its per-digit accuracy is the "
                 "winner's number there; it adds the other metrics and the curves.")
    return text + _budget_gap(cfg, n_tr, cfg.cv_epochs, sizes, fin)
