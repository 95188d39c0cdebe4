"""How well a model reads numbers laid out as people write them: :func:`evaluate_robustness`.

A benchmark score says how a model reads its benchmark's layout.  This evaluation
reads pictures of MNIST *test* digits composed under each condition of
:mod:`multidigit.evaluation.conditions` (shifted, scaled, drawn, thick strokes, dark on white,
uneven gaps, touching), with or without :func:`multidigit.prepare_handwriting` in
front of the model, and reports per condition:

* per-digit and whole-number accuracy;
* how sure the model is when it is wrong: the mean top probability of the wrong digits
  and the share of them above 0.9 (a well-calibrated model is unsure when it errs);
* with preparation, the share of pictures it refused (it did not find ``n_digits``
  digits; a refused picture counts as wrong, every digit of it).

Examples
--------
>>> res = md.evaluate_robustness(model, ["control", "shift_8"], n_images=200)  # doctest: +SKIP
>>> print(res)                                                                 # doctest: +SKIP
>>> res.plot()                                                                 # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from multidigit import _defaults as D
from multidigit._param_validation import Body, Bool, Int, fail, validate_params
from multidigit._results import Result, figure_html, html_table
from multidigit.evaluation.conditions import CONDITIONS, make_condition_images

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["RobustnessResult", "evaluate_robustness", "CONFIDENT"]

#: A wrong answer above this top probability counts as "confidently wrong".
CONFIDENT = 0.9


@dataclass
class RobustnessResult(Result):
    """What :func:`evaluate_robustness` returns: one entry per condition, in order.

    Attributes
    ----------
    conditions : list of str
        Names of the conditions (see :data:`multidigit.evaluation.conditions.CONDITIONS`).
    digit_accuracy, whole_accuracy : list of float
        Share of digits / of whole numbers read right.
    wrong_confidence : list of float
        Mean top probability of the wrong digits (NaN when none is wrong).
    confident_wrong : list of float
        Share of the wrong digits read with a top probability above :data:`CONFIDENT`.
    refused : list of float
        Share of pictures the preparation refused (0 without preparation).
    n_images : int
        Pictures per condition.
    prepare : bool
        Whether :func:`multidigit.prepare_handwriting` ran before the model.
    seed : int
        Seed of the pictures.
    model_name : str
        The model's name.
    """

    conditions: list[str]
    digit_accuracy: list[float]
    whole_accuracy: list[float]
    wrong_confidence: list[float]
    confident_wrong: list[float]
    refused: list[float]
    n_images: int
    prepare: bool
    seed: int
    model_name: str = "model"

    def rows(self) -> list[dict[str, Any]]:
        """One dict per condition (the table's rows)."""
        keys = ("digit_accuracy", "whole_accuracy", "wrong_confidence", "confident_wrong",
                "refused")
        return [{"condition": c, **{k: getattr(self, k)[i] for k in keys}}
                for i, c in enumerate(self.conditions)]

    def to_markdown(self) -> str:
        """The table in Markdown (percentages), for benchmarks/README.md."""
        head = ("| condition | per digit | whole number | conf. on wrong | wrong > 0.9 | "
                "refused |\n| --- | ---: | ---: | ---: | ---: | ---: |")
        lines = [head]
        for r in self.rows():
            conf = "n/a" if np.isnan(r["wrong_confidence"]) else f"{r['wrong_confidence']:.2f}"
            lines.append(f"| {r['condition']} | {100 * r['digit_accuracy']:.1f} % | "
                         f"{100 * r['whole_accuracy']:.1f} % | {conf} | "
                         f"{100 * r['confident_wrong']:.0f} % | {100 * r['refused']:.1f} % |")
        return "\n".join(lines)

    def __str__(self) -> str:
        how = "with" if self.prepare else "without"
        return (f"Robustness of {self.model_name!r} ({self.n_images} pictures per condition, "
                f"{how} preparation)\n" + self.to_markdown())

    def _repr_html_(self) -> str:
        rows = [[r["condition"], r["digit_accuracy"], r["whole_accuracy"],
                 r["wrong_confidence"], r["confident_wrong"], r["refused"]] for r in self.rows()]
        header = ["condition", "per digit", "whole number", "conf. on wrong",
                  f"wrong > {CONFIDENT}", "refused"]
        how = "with" if self.prepare else "without"
        return (html_table(rows, header, caption=f"Robustness ({how} preparation)")
                + figure_html(self.plot()))

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Bars per condition: per-digit and whole-number accuracy, and the mean
        confidence on wrong answers (calibration under shift: high bars there on low
        accuracy mean confidently wrong)."""
        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(max(6.0, 0.75 * len(self.conditions) + 2), 3.8),
                         layout="constrained")
            ax = fig.subplots()
        x = np.arange(len(self.conditions))
        series = [("per digit", self.digit_accuracy), ("whole number", self.whole_accuracy),
                  ("confidence on wrong answers", self.wrong_confidence)]
        for k, (label, values) in enumerate(series):
            ax.bar(x + (k - 1) * 0.27, np.nan_to_num(values), 0.27, label=label)
        ax.set_xticks(x, self.conditions, rotation=40, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("share")
        how = "with" if self.prepare else "without"
        ax.set_title(f"{self.model_name}, {how} preparation ({self.n_images} pictures each)")
        ax.legend(loc="lower left", fontsize=8)
        return ax.figure


def _model_size(model: "keras.Model") -> tuple[int, int]:
    from multidigit.demo.inputs import model_input_size

    return model_input_size(model)


def _read(model: "keras.Model", images: np.ndarray, n_digits: int, prepare: bool,
          batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Top digit and its probability per picture and head; -1 / NaN where refused."""
    from multidigit._resize import resize_like_pil
    from multidigit.evaluation.measure import predict
    from multidigit.handwriting.prepare import DigitCountError, prepare_handwriting

    size = _model_size(model)
    n = len(images)
    ok = np.ones(n, bool)
    if prepare:
        x = np.zeros((n, *size), np.float32)
        for i, img in enumerate(images):
            try:
                x[i] = prepare_handwriting(img, n_digits, image_size=size).image
            except DigitCountError:
                ok[i] = False
    else:  # resized exactly as load_dataset resizes the training pictures
        small = images if images.shape[1:] == size else resize_like_pil(images, size)
        x = small.astype(np.float32) / np.float32(255.0)
    digits = np.full((n, n_digits), -1, np.int64)
    conf = np.full((n, n_digits), np.nan, np.float32)
    if ok.any():
        pred = predict(model, x[ok][..., None], batch_size=batch_size)
        digits[ok] = pred.digits
        conf[ok] = pred.probabilities.max(axis=2)
    return digits, conf


@validate_params({
    "model": Body("a keras.Model from build_model"),
    "conditions": Body("None or a non-empty list of names from CONDITIONS"),
    "n_images": Int(min=1),
    "seed": Int(min=0),
    "prepare": Bool(),
    "digits": Body("None or (images, labels) of single 28x28 digits"),
    "batch_size": Int(min=1),
})
def evaluate_robustness(
    model: "keras.Model",
    conditions: Sequence[str] | None = None,
    *,
    n_images: int = 400,
    seed: int = 0,
    prepare: bool = False,
    digits: tuple[np.ndarray, np.ndarray] | None = None,
    batch_size: int = D.PREDICT_BATCH_SIZE,
) -> RobustnessResult:
    """Read pictures of MNIST test digits under each condition and score the readings.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`multidigit.build_model` (one ``digit_k`` head per digit).
    conditions : list of str, optional
        Names from :data:`multidigit.evaluation.conditions.CONDITIONS` (default: all of them).
    n_images : int
        Pictures per condition.
    seed : int
        Seed of the pictures (same seed, same pictures, same numbers).
    prepare : bool
        Run :func:`multidigit.prepare_handwriting` on every picture first.
    digits : (images, labels), optional
        Digit pool (default: the ``mini`` dataset's test digits).
    batch_size : int
        Inference batch size.

    Returns
    -------
    RobustnessResult

    Raises
    ------
    ParameterError
        An unknown condition, a bad count or seed, not a Keras model.

    Examples
    --------
    >>> model = md.build_model(preset="small", input_shape=(28, 28, 1))  # doctest: +SKIP
    >>> md.evaluate_robustness(model, ["control"], n_images=20).whole_accuracy  # doctest: +SKIP
    [0.0]
    """
    import keras

    from multidigit.model.heads import model_head_names

    if not isinstance(model, keras.Model):
        raise fail("model", "a keras.Model (from multidigit.build_model)",
                   type(model).__name__)
    names = list(CONDITIONS) if conditions is None else conditions
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise fail("conditions", "a non-empty list of condition names", conditions)
    unknown = [c for c in names if c not in CONDITIONS]
    if unknown:
        raise fail("conditions", "names from " + ", ".join(CONDITIONS), unknown)
    n_digits = len([h for h in model_head_names(model) if h.startswith("digit_")])
    cols: dict[str, list[float]] = {k: [] for k in ("digit", "whole", "conf", "over", "ref")}
    for cond in names:
        images, labels, _ = make_condition_images(cond, n_images, seed=seed,
                                                  n_digits=n_digits, digits=digits)
        got, conf = _read(model, images, n_digits, prepare, batch_size)
        right = got == labels
        wrong = ~right & (got >= 0)
        cols["digit"].append(float(right.mean()))
        cols["whole"].append(float(right.all(axis=1).mean()))
        cols["conf"].append(float(conf[wrong].mean()) if wrong.any() else float("nan"))
        cols["over"].append(float((conf[wrong] > CONFIDENT).mean()) if wrong.any() else 0.0)
        cols["ref"].append(float((got < 0).all(axis=1).mean()))
    return RobustnessResult(list(names), cols["digit"], cols["whole"], cols["conf"],
                            cols["over"], cols["ref"], n_images, prepare, seed,
                            str(getattr(model, "name", "model")))
