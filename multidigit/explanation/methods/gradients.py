"""Gradient attribution maps: saliency (and SmoothGrad), Grad-CAM, Grad-CAM++.

These follow tf-keras-vis' ``Saliency``, ``Gradcam`` and ``GradcamPlusPlus`` (same
formulas, same per-image [0, 1] normalisation; the test-suite checks that the maps
match tf-keras-vis on the same model) but are written with ``tf.GradientTape`` inside
a compiled, batched ``tf.function`` instead of calling tf-keras-vis, because:

* tf-keras-vis runs eagerly and rebuilds its Grad-CAM sub-model on every call; the
  compiled version is several times faster (see ``benchmarks/bench_explain.py``);
* tf-keras-vis expects list outputs, so every head needs its own sub-model anyway, and
  explaining the *logit* needs its ``ReplaceToLinear`` modifier, which clones the model
  and mutates the clone's activations; here the logit is computed directly from the
  head's input features and weights, with no clone at all;
* its SmoothGrad draws noise from NumPy's global generator (not reproducible); here the
  noise comes from ``seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from multidigit.explanation.methods._common import (
    as_list,
    cached,
    head_layers,
    image_spec,
    resolve_layer,
    restrict_to_head_region,
    score_model,
    target_scores,
    window_view,
)
from multidigit.explanation.methods.base import COMMON_DEFAULTS, Explainer
from multidigit.model.build import last_conv_layer_name


def _specs(model: Any) -> list[Any]:
    import tensorflow as tf

    return [image_spec(model), tf.TensorSpec((None,), tf.int32), tf.TensorSpec((), tf.int32)]


def input_gradient_fn(model: Any, score: str, owner: Any = None) -> Any:
    """Compiled ``(x, targets, head) -> d score[head, target] / d x``, batched.

    ``head`` is a tensor, so one trace serves every head.  The function is cached on
    ``owner`` (default ``model``).
    """
    import tensorflow as tf

    def build() -> Any:
        sub = score_model(model, owner=owner)
        heads = head_layers(model)

        @tf.function(input_signature=_specs(model), autograph=False)
        def grad(x: Any, t: Any, head: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch(x)
                s = target_scores(heads, sub(x, training=False), score, head, t)
            return tape.gradient(s, x)

        return grad

    return cached(model if owner is None else owner, ("input_grad", score, owner is None), build)


class SaliencyExplainer(Explainer):
    """Vanilla gradient saliency (Simonyan et al. 2014) and SmoothGrad (Smilkov 2017).

    Options
    -------
    smooth : int, default 0
        Number of noisy copies to average (SmoothGrad); 0 = vanilla gradient.
    noise : float, default 0.2
        SmoothGrad noise standard deviation, as a fraction of each image's value range.
    seed : int, default 0
        Seed of the SmoothGrad noise.
    score : {"logit", "probability"}, default "logit"
        Differentiate the target's logit (recommended) or its output probability.
    absolute : bool, default True
        Use the gradient's magnitude (max over channels); else its signed value.
    normalize : bool, default True
        Scale each map to [0, 1].

    Returns ``(n, H, W)`` maps.
    """

    backends = ("tensorflow",)
    name = "saliency"
    common_options = dict(COMMON_DEFAULTS)

    def attribute(
        self,
        model: Any,
        images: np.ndarray,
        targets: np.ndarray,
        head_index: int,
        *,
        score: str = "logit",
        absolute: bool = True,
        smooth: int = 0,
        noise: float = 0.2,
        seed: int = 0,
    ) -> np.ndarray:
        grad = input_gradient_fn(model, score)
        t = np.asarray(targets, np.int32)
        x = np.asarray(images, np.float32)
        h = np.int32(head_index)

        def one(inp: np.ndarray) -> np.ndarray:
            g = grad(inp, t, h).numpy()
            return np.abs(g) if absolute else g  # SmoothGrad averages magnitudes

        if int(smooth) <= 0:
            return one(x)
        rng = np.random.default_rng(seed)
        axes = tuple(range(1, x.ndim))
        sigma = noise * (x.max(axis=axes, keepdims=True) - x.min(axis=axes, keepdims=True))
        total = np.zeros_like(x)
        for _ in range(int(smooth)):
            total += one(x + rng.normal(0.0, 1.0, x.shape).astype(np.float32) * sigma)
        return total / int(smooth)


def _plus_plus_weights(conv: Any, grads: Any) -> Any:
    """Grad-CAM++ channel weights (Chattopadhay et al. 2018), without ``exp(score)``.

    tf-keras-vis multiplies the first, second and third derivatives by ``exp(S)``
    (the derivatives of ``exp(S)``); that factor cancels in the alphas and only scales
    the weights, so it is left out: with it, a logit above ~88.7 overflows float32
    and every map becomes NaN.
    """
    import tensorflow as tf

    second = grads * grads
    third = second * grads
    global_sum = tf.reduce_sum(conv, axis=(1, 2), keepdims=True)
    denom = second * 2.0 + third * global_sum
    denom = denom + tf.cast(tf.equal(second, 0.0), denom.dtype)
    alphas = second / denom
    norm = tf.reduce_sum(alphas, axis=(1, 2), keepdims=True)
    alphas = alphas / (norm + tf.cast(tf.equal(norm, 0.0), norm.dtype))
    return tf.reduce_sum(tf.nn.relu(grads) * alphas, axis=(1, 2), keepdims=True)


def _cam_fn(model: Any, layer: str, score: str, plus_plus: bool) -> Any:
    """Compiled ``(x, targets, head) -> CAM`` at the input resolution, batched."""
    import tensorflow as tf

    height, width = model.inputs[0].shape[1:3]

    def build() -> Any:
        sub = score_model(model, layer)
        heads = head_layers(model)
        view = window_view(model)

        @tf.function(input_signature=_specs(model), autograph=False)
        def cam(x: Any, t: Any, head: Any) -> Any:
            with tf.GradientTape() as tape:
                conv, *feats = as_list(sub(x, training=False))
                s = target_scores(heads, feats, score, head, t)
            grads = tape.gradient(s, conv)
            if grads is None:  # pragma: no cover - layer not on the head's path
                grads = tf.zeros_like(conv)
            weights = _plus_plus_weights(conv, grads) if plus_plus else tf.reduce_mean(
                grads, axis=(1, 2), keepdims=True)
            maps = tf.nn.relu(tf.reduce_sum(conv * weights, axis=-1, keepdims=True))
            if view is not None:  # the layer sees the windowed image: map it back
                maps = tf.image.resize(maps, view.size, method="bilinear")[..., 0]
                return view.to_image(x, maps)
            maps = tf.image.resize(maps, (height, width), method="bilinear")
            return maps[..., 0]

        return cam

    return cached(model, ("cam", layer, score, plus_plus), build)


class GradCAMExplainer(Explainer):
    """Grad-CAM (Selvaraju et al. 2017): gradient-weighted activations of a conv layer.

    Options
    -------
    layer : str or int, optional
        Convolution layer; default the last one (``last_conv_layer_name(model)``).
    score : {"logit", "probability"}, default "logit"
    restrict_to_head : bool, optional
        Keep only the part of the map where head ``k`` reads: window ``k`` for a model
        with ``digit_windows``, digit ``k``'s column strip otherwise.  Default: on for
        models with ``digit_windows``, off otherwise.  Why: a CAM weights whole
        channels, and the shared classifier's channels fire on every digit, so without
        it the map of the middle digit mostly lights up its neighbours (which head 1
        never reads).  With it, the map shows *where in its window* the head looks.
    normalize : bool, default True
        Scale each map to [0, 1].

    Returns ``(n, H, W)`` maps, upsampled (bilinear) to the input size.  In a model
    with ``digit_windows`` the layer's maps are upsampled to the windowed image and
    each window's part is put back at the rows it was cut from (zero elsewhere).
    """

    backends = ("tensorflow",)
    name = "gradcam"
    common_options = {"score": "logit", "normalize": True}
    _plus_plus = False

    def attribute(
        self,
        model: Any,
        images: np.ndarray,
        targets: np.ndarray,
        head_index: int,
        *,
        score: str = "logit",
        layer: str | int | None = None,
        restrict_to_head: bool | None = None,
    ) -> np.ndarray:
        name = resolve_layer(model, layer, last_conv_layer_name(model))
        fn = _cam_fn(model, name, score, self._plus_plus)
        maps = fn(
            np.asarray(images, np.float32), np.asarray(targets, np.int32), np.int32(head_index)
        ).numpy()
        return restrict_to_head_region(model, images, maps, head_index, restrict_to_head)


class GradCAMPlusPlusExplainer(GradCAMExplainer):
    """Grad-CAM++ (Chattopadhay et al. 2018); same options as ``gradcam``.

    Computed in the closed form where the ``exp(score)`` factors cancel, so huge
    logits give finite maps; an unnormalised map is tf-keras-vis' divided by
    ``exp(score)`` (the same map up to that positive factor per image).
    """

    name = "gradcam++"
    _plus_plus = True


def batched_gradients(model: Any, images: np.ndarray, targets: np.ndarray, head_index: int,
                      score: str, batch_size: int, owner: Any = None) -> np.ndarray:
    """Input gradients of many images, at most ``batch_size`` per call (bounded memory).

    The sampling explainers (Integrated Gradients, SmoothGrad-squared, VarGrad) stack
    many perturbed copies of each image; this runs them through the compiled gradient
    function :func:`input_gradient_fn` in slices.
    """
    grad = input_gradient_fn(model, score, owner)
    x = np.asarray(images, np.float32)
    t = np.asarray(targets, np.int32)
    h = np.int32(head_index)
    out = np.empty_like(x)
    for s in range(0, len(x), int(batch_size)):
        out[s:s + batch_size] = grad(x[s:s + batch_size], t[s:s + batch_size], h).numpy()
    return out
