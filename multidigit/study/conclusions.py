"""The report's conclusions: the original study's claims against this run's numbers.

Each verdict is computed from the stage results (never written in advance): the
activation x loss ranking and its corrected resampled t-test, the tuning trials'
validation accuracies against the fold-to-fold noise, and the test accuracy's Wilson
interval against the 98.6 % the study reported.

Examples
--------
>>> claim_test_accuracy({"test": {"mean_digit_accuracy": 0.99, "n_images": 2000,
...                                "digit_accuracy": [0.99] * 3}})["verdict"]
'exceeded'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from multidigit.experiments.comparison import corrected_ttest
from multidigit.study.narrative import fold_ratio, interval, pct, wilson_interval

__all__ = ["CLAIMED_TEST_ACCURACY", "claims", "limits", "try_next"]

#: The per-digit test accuracy the original study reported.
CLAIMED_TEST_ACCURACY = 0.986
GALLERY_URL = "https://multidigit.readthedocs.io/en/latest/auto_examples/index.html"
_CLAIMED_BEST = "softmax+binary_crossentropy"


def _row(claim: str, measured: str, verdict: str, why: str) -> dict[str, str]:
    return {"claim": claim, "measured": measured, "verdict": verdict, "why": why}


def claim_best_combination(compare: dict[str, Any]) -> dict[str, str]:
    """"softmax + binary CE is best": the ranking, and whether the gap beats the noise."""
    claim = "softmax + binary cross-entropy is the best output activation x loss"
    scores = {k: np.asarray(v, float) for k, v in compare["scores"].items()}
    best = compare["rows"][0]
    name = f"{best['activation']} + {best['loss'].replace('_crossentropy', ' CE')}"
    if _CLAIMED_BEST not in scores:
        return _row(claim, "not compared in this run", "not tested", "")
    other = best["key"] if best["key"] != _CLAIMED_BEST else compare["rows"][1]["key"]
    diff = scores[_CLAIMED_BEST] - scores[other]
    p = corrected_ttest(diff, fold_ratio(next(iter(compare["cv"].values()))[0]))[1] \
        if len(diff) > 1 and np.std(diff) > 0 else None
    gap = f"{100 * abs(float(np.mean(diff))):.2f} points"
    ptext = "" if p is None else f" (corrected resampled t-test p = {p:.2g})"
    measured = f"first: {name}, {pct(best['mean'])} over {best['n']} folds"
    other_name = other.replace("+", " + ").replace("_crossentropy", " CE")
    if best["key"] == _CLAIMED_BEST:
        if p is not None and p < 0.05:
            return _row(claim, measured, "supported",
                        f"ahead of {other_name} by {gap}, more than the noise{ptext}.")
        return _row(claim, measured, "inconclusive",
                    f"first, but only {gap} ahead of {other_name}: within the fold-to-fold "
                    f"noise{ptext}.")
    if p is not None and p < 0.05:
        return _row(claim, measured, "not supported",
                    f"{name} beats softmax + binary CE by {gap}, more than the noise{ptext}.")
    return _row(claim, measured, "inconclusive",
                f"softmax + binary CE is {gap} behind {name}: within the fold-to-fold "
                f"noise{ptext}.")


def claim_tuning(tuning: dict[str, Any], cv: dict[str, Any] | None) -> dict[str, str]:
    """"tuning improves accuracy": the chosen trial's validation accuracy against the
    other trials', measured against twice the fold-to-fold spread of the base model."""
    claim = "tuning the hyperparameters improves accuracy"
    done = [t for t in tuning.get("trials", []) if t.get("val_accuracy") is not None]
    if len(done) < 2:
        return _row(claim, f"{len(done)} trial(s) with a validation accuracy", "not tested",
                    "at least 2 completed trials are needed to compare settings.")
    chosen = next((t for t in done if t["hyperparameters"] == tuning["best_hyperparameters"]),
                  done[0])
    rest = float(np.mean([t["val_accuracy"] for t in done if t is not chosen]))
    gap = chosen["val_accuracy"] - rest
    noise = 2 * cv["summary"]["mean_digit_accuracy"]["std"] if cv else float("nan")
    measured = (f"chosen trial {pct(chosen['val_accuracy'])}, other trials {pct(rest)} "
                f"(validation, {len(done)} trials)")
    why = (f"a gap of {100 * gap:+.2f} points against a noise of {100 * noise:.2f} points "
           "(twice the fold-to-fold spread of stage 3), on the validation images that "
           "chose the trial (so the gap is optimistic); the tuned and untuned models were "
           "not compared on the test split")
    if not np.isfinite(noise) or abs(gap) <= noise:
        return _row(claim, measured, "inconclusive", why + ": within the noise.")
    verdict = "supported" if gap > 0 else "not supported"
    return _row(claim, measured, verdict, why + ".")


def claim_test_accuracy(final: dict[str, Any]) -> dict[str, str]:
    """"the test accuracy is 98.6 %": inside, above or below this run's 95 % interval."""
    t = final["test"]
    n = int(t["n_images"]) * len(t["digit_accuracy"])
    lo, hi = wilson_interval(t["mean_digit_accuracy"], n)
    measured = f"{pct(t['mean_digit_accuracy'])}, 95 % interval {interval(lo, hi)}"
    claimed = pct(CLAIMED_TEST_ACCURACY, 1)
    why = f"{n:,} test digits (Wilson interval)"
    if lo <= CLAIMED_TEST_ACCURACY <= hi:
        return _row(f"the test accuracy is {claimed}", measured, "reproduced",
                    f"{claimed} lies inside the interval of {why}.")
    verdict = "exceeded" if lo > CLAIMED_TEST_ACCURACY else "not reached"
    return _row(f"the test accuracy is {claimed}", measured, verdict,
                f"{claimed} lies {'below' if verdict == 'exceeded' else 'above'} the interval "
                f"of {why}.")


def claims(st: dict[str, Any]) -> list[dict[str, str]]:
    """The three claims of the original study with this run's evidence and verdicts."""
    rows = []
    if st.get("compare"):
        rows.append(claim_best_combination(st["compare"]))
    if st.get("tuning"):
        rows.append(claim_tuning(st["tuning"], st.get("cross_validation")))
    if st.get("final"):
        rows.append(claim_test_accuracy(st["final"]))
    return rows


def limits(cfg: Any, st: dict[str, Any]) -> list[str]:
    """What this run cannot tell, from its own settings."""
    out = []
    if cfg.quick:
        out.append("Quick settings: a tiny model and dataset trained for a few epochs, "
                   "meant to test the pipeline; its accuracies say nothing about the method.")
    ipc = cfg.experiment_images_per_class
    if ipc is not None:
        out.append(f"Small data for the experiments: stages 2-4 read {ipc} images of every "
                   "label combination, for 1-3 epochs; their rankings can change with more.")
    out.append(f"Few folds: {cfg.compare_k} for the comparison and {cfg.cv_k} for the "
               "cross-validation, one seed: the intervals are wide, and small gaps between "
               "settings cannot be told from noise.")
    out.append(f"A small search: {cfg.tune_trials} tuning trials of {cfg.tune_epochs} "
               "epoch(s); the study's own search (--full-tuning) has 20 x 20.")
    fin = st.get("final")
    if fin:
        t = fin["test"]
        lo, hi = wilson_interval(t["mean_digit_accuracy"],
                                 int(t["n_images"]) * len(t["digit_accuracy"]))
        out.append(f"One test split of {t['n_images']:,} images: the test accuracy is known "
                   f"to about +/- {50 * (hi - lo):.2f} points.")
    return out


def try_next(out_dir: str = "multidigit-study") -> list[dict[str, str]]:
    """A few next steps: the gallery, the demo, a fuller run."""
    return [
        {"text": "Walk through the study step by step in the gallery", "href": GALLERY_URL},
        {"text": f"Draw your own digits for this model: multidigit demo --study {out_dir}",
         "href": ""},
        {"text": "More folds for narrower intervals: multidigit.compare(ds, k=5, repeats=2)",
         "href": ""},
        {"text": "The study's own search (hours on a CPU): multidigit study --full-tuning",
         "href": ""},
    ]
