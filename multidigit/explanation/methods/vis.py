"""Explainers that call tf-keras-vis: Score-CAM, Layer-CAM, activation maximisation.

tf-keras-vis has these three methods and multidigit does not, so they are used as they
are rather than rewritten; each is run per head on a small sub-model ``image -> that
head's output`` (tf-keras-vis expects one output per score).  The head's *logit*
(``score="logit"``) is computed from the head layer's input features and weights by a
``Lambda`` sharing those weights, instead of tf-keras-vis' ``ReplaceToLinear``, which
would clone the model on every call.

Examples
--------
>>> ex = md.explain(model, x, "scorecam", head=0, max_n=16)   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from multidigit._param_validation import check_int
from multidigit.explanation.methods._common import (
    cached,
    resolve_layer,
    restrict_to_head_region,
    window_view,
    windowed_model,
)
from multidigit.explanation.methods.base import Explainer
from multidigit.model.build import last_conv_layer_name
from multidigit.model.heads import head_output_layer

__all__ = ["ScoreCAMExplainer", "LayerCAMExplainer", "ActivationMaximizationExplainer"]


def head_model(model: Any, head_index: int, score: str, windowed: bool = True) -> Any:
    """A cached sub-model ``image -> head output`` (its logits for ``score="logit"``);
    ``windowed image -> head output`` for a model with ``digit_windows`` (unless
    ``windowed=False``)."""
    import keras

    view = window_view(model) if windowed else None
    # tf-keras-vis builds its own sub-models from the layers' outputs, so it gets a
    # model whose INPUT is the windowed image (not a sub-model cut at that tensor)
    source = model if view is None else windowed_model(model)

    def build() -> Any:
        layer = head_output_layer(source, head_index)
        out = layer.output
        if score == "logit" and isinstance(layer, keras.layers.Dense):
            def logits(f: Any) -> Any:
                s = keras.ops.matmul(f, layer.kernel)
                return s + layer.bias if layer.use_bias else s

            out = keras.layers.Lambda(logits, name=f"logits_{head_index}")(layer.input)
        return keras.Model(source.inputs[0], out, name=f"head_{head_index}_{score}")

    return cached(model, ("vis_head", head_index, score, view is None), build)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide tf-keras-vis' Keras chatter: predict() progress bars and retracing notes
    (Score-CAM calls ``predict`` on masked batches), input-structure notes."""
    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    tf_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.filterwarnings("ignore", message=".*structure of `inputs`")
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    module="tf_keras_vis")
            yield
    finally:
        tf_log.setLevel(level)


def _tkv(module: str, name: str) -> Any:
    """``tf_keras_vis.<module>.<name>``, imported without its SciPy deprecation notes."""
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(importlib.import_module(f"tf_keras_vis.{module}"), name)


def _as_model_sees(model: Any, images: Any) -> tuple[np.ndarray, Any]:
    """The images :func:`head_model` takes (the windowed images for a model with
    ``digit_windows``) and the function that brings maps on them back to the images."""
    x = np.asarray(images, np.float32)
    view = window_view(model)
    if view is None:
        return x, lambda maps: maps
    return (np.asarray(view.cut(x), np.float32),
            lambda maps: np.asarray(view.to_image(x, maps), np.float32))


def _score(targets: np.ndarray) -> Any:
    score = _tkv("utils.scores", "CategoricalScore")
    return score([int(t) for t in np.asarray(targets)])


class ScoreCAMExplainer(Explainer):
    """Score-CAM (Wang et al. 2020), by tf-keras-vis: each channel of a conv layer masks
    the image, and the head's softmax score on the masked image weights that channel.

    Gradient-free, so it also works where gradients saturate; costs one forward pass
    per channel (``max_n`` keeps only the most active channels).

    Options
    -------
    layer : str or int, optional
        Convolution layer; default the last one.
    max_n : int, optional
        Use only the ``max_n`` channels with the highest activation (faster).
    restrict_to_head : bool, optional
        As for ``gradcam``: keep only where head ``k`` reads (default: on for models
        with ``digit_windows``).
    normalize : bool, default True
        Scale each map to [0, 1].

    Returns ``(n, H, W)`` maps.
    """

    name = "scorecam"
    backends = ("tensorflow",)
    common_options = {"normalize": True}

    def attribute(self, model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                  *, layer: str | int | None = None, max_n: int | None = None,
                  restrict_to_head: bool | None = None) -> np.ndarray:
        Scorecam = _tkv("scorecam", "Scorecam")  # noqa: N806 - the library's class name
        check_int("max_n", max_n, min=1, none_ok=True)
        name = resolve_layer(model, layer, last_conv_layer_name(model))
        # Score-CAM applies the softmax itself, so it reads the head's logits.
        sub = head_model(model, head_index, "logit")
        seen, back = _as_model_sees(model, images)
        with _quiet():
            cam = Scorecam(sub, clone=False)(
                _score(targets), seen, penultimate_layer=name,
                max_N=max_n, expand_cam=True, normalize_cam=False)
        maps = back(np.asarray(cam, np.float32).reshape(seen.shape[:3]))
        return restrict_to_head_region(model, images, maps, head_index, restrict_to_head)


class LayerCAMExplainer(Explainer):
    """Layer-CAM (Jiang et al. 2021), by tf-keras-vis: positive gradients weight each
    activation of a conv layer *per position*, so earlier layers give finer maps.

    Options
    -------
    layer : str or int, optional
        Convolution layer; default the last one (try ``"conv_1"`` for fine detail).
    score : {"logit", "probability"}, default "logit"
    restrict_to_head : bool, optional
        As for ``gradcam`` (default: on for models with ``digit_windows``).
    normalize : bool, default True
        Scale each map to [0, 1].

    Returns ``(n, H, W)`` maps.
    """

    name = "layercam"
    backends = ("tensorflow",)
    common_options = {"score": "logit", "normalize": True}

    def attribute(self, model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                  *, score: str = "logit", layer: str | int | None = None,
                  restrict_to_head: bool | None = None) -> np.ndarray:
        Layercam = _tkv("layercam", "Layercam")  # noqa: N806
        name = resolve_layer(model, layer, last_conv_layer_name(model))
        sub = head_model(model, head_index, score)
        seen, back = _as_model_sees(model, images)
        with _quiet():
            cam = Layercam(sub, clone=False)(
                _score(targets), seen, penultimate_layer=name,
                expand_cam=True, normalize_cam=False)
        maps = back(np.asarray(cam, np.float32).reshape(seen.shape[:3]))
        return restrict_to_head_region(model, images, maps, head_index, restrict_to_head)


class ActivationMaximizationExplainer(Explainer):
    """Activation maximisation, by tf-keras-vis: each image is changed step by step to
    raise the head's score for the target digit (with total-variation and norm
    regularisers), showing what the head looks for in that image.

    Deterministic: tf-keras-vis' random jitter and rotation are left out.

    Options
    -------
    steps : int, default 20
        Optimisation steps (Adam).
    score : {"logit", "probability"}, default "logit"
    normalize : bool, default False
        Scale each result to [0, 1] (the images are already in [0, 1]).

    Returns the optimised images ``(n, H, W)`` (averaged over channels).
    """

    name = "activation_maximization"
    backends = ("tensorflow",)
    common_options = {"score": "logit", "normalize": False}

    def attribute(self, model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                  *, score: str = "logit", steps: int = 20) -> np.ndarray:
        ActivationMaximization = _tkv("activation_maximization",  # noqa: N806
                                      "ActivationMaximization")
        steps = check_int("steps", steps, min=1)
        sub = head_model(model, head_index, score, windowed=False)  # changes the image
        with _quiet():
            out = ActivationMaximization(sub, clone=False)(
                _score(targets), seed_input=np.asarray(images, np.float32),
                input_range=(0.0, 1.0), input_modifiers=[], steps=steps)
        return np.asarray(out, np.float32).mean(axis=-1)
