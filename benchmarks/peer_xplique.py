"""Peer check: multidigit's attribution methods against xplique and tf-keras-vis.

On multidigit's ``small`` preset at 28x84 (seed 0, trained ``--epochs`` epochs on the
offline ``mini`` set), for the first ``--n-images`` test images and head ``--head``
(explaining the predicted digit's *logit*), each method is computed by multidigit and
by a peer library on the same model, and compared per image:

* ``corr``: Pearson correlation of the two raw maps (no normalisation);
* ``rel. diff``: ``max |ours - peer| / max |peer|`` (worst image).

The peers see the model as ``image -> the head's 10 logits`` (the head's Dense
applied without its softmax), which is what multidigit's ``score="logit"`` explains.

xplique (needs TensorFlow <= 2.20, so it runs in its own environment, see
``benchmarks/README.md``): Integrated Gradients (black baseline; xplique's ``steps``
counts path *points*, multidigit's trapezoid *intervals*, so xplique gets ``steps + 1``),
SmoothGrad (signed mean gradient: multidigit's ``saliency(smooth=N, absolute=False)``),
SquareGrad (= ``smoothgrad_squared``), VarGrad, occlusion and RISE.  The noise methods
run twice: once with xplique's noise replaced by multidigit's draws (``same noise``: the
two must agree to float precision) and once with each library's own random noise and
``--samples-stat`` samples (``own noise``: agreement of the expected values).  Occlusion
runs with non-overlapping patches (where xplique's *sum* over covering patches and
multidigit's *mean* coincide) and with overlapping ones.  RISE masks are random in
both libraries, so only the correlation of the maps with ``--masks`` masks (on the
probability) is meaningful, next to the correlation of two multidigit runs with
different mask seeds (both divide by each pixel's summed mask; multidigit divided by
``n_masks * p``, the paper's choice, before this check, see ``benchmarks/README.md``).
Integrated Gradients' completeness, ``|sum(attr) - (f(x) - f(0))| / |f(x) - f(0)|``, is
reported for both.

tf-keras-vis (installed with multidigit): ``Saliency(smooth_samples=N)`` is SmoothGrad
of the gradient's magnitude, multidigit's ``saliency(smooth=N)``; compared with the same
noise draws (tf-keras-vis' ``np.random.normal`` temporarily fed multidigit's draws) and
with its own noise.  tf-keras-vis has no Integrated Gradients, SmoothGrad-squared,
VarGrad, occlusion or RISE.

A peer that does not import is reported and skipped; the script then exits 0.

Usage::

    python benchmarks/peer_xplique.py [--peers xplique tf-keras-vis] [--n-images 4]
        [--head 1] [--epochs 2] [--samples-stat 256] [--masks 2000] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings

import numpy as np

warnings.filterwarnings("ignore", message="The structure of `inputs`")


def compare(ours: np.ndarray, peer: np.ndarray) -> tuple[float, float]:
    """(mean Pearson correlation over images, worst max|ours - peer| / max|peer|)."""
    ours = np.asarray(ours, np.float64).reshape(len(ours), -1)
    peer = np.asarray(peer, np.float64).reshape(len(peer), -1)
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(ours, peer)]
    rel = [np.abs(a - b).max() / max(np.abs(b).max(), 1e-30) for a, b in zip(ours, peer)]
    return float(np.mean(corr)), float(np.max(rel))


def setup(args):
    """The trained small model, its per-head logit model, images and targets."""
    import keras

    import multidigit as md

    ds = md.load_dataset("mini", images_per_class=1, image_size=(28, 84), seed=0)
    model = md.build_model("softmax", "categorical_crossentropy", input_shape=(28, 84, 1),
                           preset="small", seed=0)
    model.fit(ds.train.images, ds.train.one_hot(), epochs=args.epochs, batch_size=64,
              verbose=0)
    x = np.asarray(ds.test.images[:args.n_images], np.float32)
    head = model.get_layer(f"digit_{args.head}")
    features = keras.Model(model.inputs[0], head.input)

    class HeadLogits(keras.layers.Layer):
        """The head's Dense without its softmax (shares the head's weights)."""

        def call(self, z):
            return keras.ops.matmul(z, head.kernel) + head.bias

    inp = keras.Input(x.shape[1:])
    logit_model = keras.Model(inp, HeadLogits()(features(inp)))
    logits = logit_model.predict(x, verbose=0)
    targets = logits.argmax(1)
    return model, logit_model, x, targets, logits


def ours(model, x, method, head, **options):
    """multidigit's raw map (no normalisation), squeezed to (n, H, W)."""
    import multidigit as md

    return md.explain(model, x, method, head=head, normalize=False, **options).maps


def squeeze(maps) -> np.ndarray:
    maps = np.asarray(maps, np.float32)
    return maps[..., 0] if maps.ndim == 4 else maps


@contextlib.contextmanager
def xplique_noise(draws: np.ndarray, noise: float):
    """Make xplique's gradient statistics add multidigit's noise ``draws``
    (``(samples, H, W, C)`` standard normal, times ``noise`` x each image's range)."""
    import tensorflow as tf
    from xplique.attributions.gradient_statistics.gradient_statistic import GradientStatistic

    original = GradientStatistic.__dict__["_perturb_samples"]

    def perturb(inputs, nb_perturbations, _noise):
        x = np.asarray(inputs)
        axes = tuple(range(1, x.ndim))
        sigma = noise * (x.max(axis=axes, keepdims=True) - x.min(axis=axes, keepdims=True))
        out = x[:, None] + draws[None, :nb_perturbations] * sigma[:, None]
        return tf.constant(out.reshape(-1, *x.shape[1:]), tf.float32)

    GradientStatistic._perturb_samples = staticmethod(perturb)
    try:
        yield
    finally:
        GradientStatistic._perturb_samples = original


def run_xplique(args, model, logit_model, x, targets, logits) -> list[tuple]:
    import xplique
    from xplique.attributions import (
        IntegratedGradients,
        Occlusion,
        Rise,
        SmoothGrad,
        SquareGrad,
        VarGrad,
    )

    head, n = args.head, len(x)
    one_hot = np.eye(10, dtype=np.float32)[targets]
    rows = []

    def row(method, setting, mine, peer):
        rows.append(("xplique " + xplique.__version__, method, setting,
                     *compare(mine, squeeze(peer))))

    # Integrated Gradients, black baseline
    steps = args.steps
    mine = ours(model, x, "integrated_gradients", head, steps=steps, absolute=False,
                baseline="black")
    peer = squeeze(IntegratedGradients(logit_model, batch_size=64, steps=steps + 1,
                                       baseline_value=0.0).explain(x, one_hot))
    row("Integrated Gradients", f"black baseline, {steps} intervals", mine, peer)
    delta = logits[np.arange(n), targets] - logit_model.predict(
        np.zeros_like(x), verbose=0)[np.arange(n), targets]

    def completeness(who, attr, intervals):
        err = np.abs(attr.reshape(n, -1).sum(1) - delta) / np.abs(delta)
        rows.append((f"completeness ({who})", "Integrated Gradients",
                     f"{intervals} intervals: mean and worst error", float(err.mean()),
                     float(err.max())))

    completeness("multidigit", mine, steps)
    completeness("xplique", peer, steps)
    for more in args.more_steps:  # the trapezoid rule converges: the axiom holds in the limit
        completeness("multidigit", ours(model, x, "integrated_gradients", head, steps=more,
                                        absolute=False, baseline="black"), more)
        completeness("xplique", IntegratedGradients(
            logit_model, batch_size=256, steps=more + 1, baseline_value=0.0).explain(
                x, one_hot).numpy(), more)

    # Noise methods with the same draws: xplique's noise replaced by multidigit's
    s, noise, seed = args.samples, 0.2, 0
    draws = np.random.default_rng(seed).standard_normal((s, *x.shape[1:]), dtype=np.float32)
    common = dict(batch_size=s * n, nb_samples=s, noise=noise)
    with xplique_noise(draws, noise):
        # saliency(smooth=...) draws rng.normal per sample; the moment methods
        # standard_normal(samples, ...): the same numbers only for the moment methods,
        # so SmoothGrad's "same noise" row uses the moment function's mean.
        from multidigit.explanation.methods.noise import noisy_gradient_moments

        mean, square = noisy_gradient_moments(model, x, targets, head, samples=s,
                                              noise=noise, seed=seed)
        row("SmoothGrad (signed mean)", f"same noise, {s} samples", squeeze(mean),
            SmoothGrad(logit_model, **common).explain(x, one_hot))
        mine = ours(model, x, "smoothgrad_squared", head, samples=s, noise=noise, seed=seed)
        row("SquareGrad / smoothgrad_squared", f"same noise, {s} samples", mine,
            SquareGrad(logit_model, **common).explain(x, one_hot))
        mine = ours(model, x, "vargrad", head, samples=s, noise=noise, seed=seed)
        peer = squeeze(VarGrad(logit_model, **common).explain(x, one_hot))
        row("VarGrad", f"same noise, {s} samples", mine, peer)
        row("VarGrad", f"same noise, {s} samples, x (N-1)/N", mine, peer * (s - 1) / s)

    # Noise methods with each library's own noise: the expected values
    s = args.samples_stat
    common = dict(batch_size=min(s * n, 1024), nb_samples=s, noise=noise)
    import tensorflow as tf

    tf.random.set_seed(0)
    row("SmoothGrad (signed mean)", f"own noise, {s} samples",
        ours(model, x, "saliency", head, smooth=s, noise=noise, absolute=False),
        SmoothGrad(logit_model, **common).explain(x, one_hot))
    row("SquareGrad / smoothgrad_squared", f"own noise, {s} samples",
        ours(model, x, "smoothgrad_squared", head, samples=s, noise=noise),
        SquareGrad(logit_model, **common).explain(x, one_hot))
    row("VarGrad", f"own noise, {s} samples",
        ours(model, x, "vargrad", head, samples=s, noise=noise),
        VarGrad(logit_model, **common).explain(x, one_hot))
    for method, options in (("saliency", {"smooth": s, "absolute": False}),
                            ("smoothgrad_squared", {"samples": s}), ("vargrad", {"samples": s})):
        # the noise floor: multidigit against itself with another noise seed
        a, b = (ours(model, x, method, head, noise=noise, seed=k, **options) for k in (0, 1))
        rows.append(("multidigit seed 0 vs seed 1", method, f"own noise, {s} samples",
                     *compare(a, b)))

    # Occlusion, black patch
    for size, stride in ((4, 4), (6, 3)):
        mine = ours(model, x, "occlusion", head, size=size, stride=stride, value=0.0,
                    score="logit")
        peer = Occlusion(logit_model, batch_size=256, patch_size=size, patch_stride=stride,
                         occlusion_value=0.0).explain(x, one_hot)
        note = "" if size == stride else " (xplique sums overlaps, multidigit averages)"
        row("Occlusion", f"patch {size}, stride {stride}{note}", mine, peer)

    # RISE: random masks on both sides, compare the maps' correlation
    # (on the probability, RISE's usual score: a logit's large mean makes the maps noisy)
    import keras

    inp = keras.Input(x.shape[1:])
    prob_model = keras.Model(inp, keras.ops.softmax(logit_model(inp)))
    m = args.masks
    mine = ours(model, x, "rise", head, n_masks=m, grid=7, p=0.5, score="probability")
    peer = Rise(prob_model, batch_size=256, nb_samples=m, grid_size=7,
                preservation_probability=0.5, mask_value=0.0).explain(x, one_hot)
    row("RISE", f"probability, {m} masks each, grid 7, p 0.5", mine, peer)
    mine2 = ours(model, x, "rise", head, n_masks=m, grid=7, p=0.5, score="probability",
                 seed=1)
    rows.append(("multidigit seed 0 vs seed 1", "RISE", f"probability, {m} masks each",
                 *compare(mine, mine2)))
    return rows


@contextlib.contextmanager
def numpy_normal_from(seed: int):
    """Feed ``np.random.normal(0, sigma, shape)`` from ``default_rng(seed)``'s standard
    normals, the draws multidigit's ``saliency(smooth=...)`` uses."""
    original = np.random.normal
    rng = np.random.default_rng(seed)

    def normal(loc=0.0, scale=1.0, size=None):
        z = rng.normal(0.0, 1.0, size).astype(np.float32)
        return (loc + z * np.asarray(scale, np.float32)).astype(np.float32)

    np.random.normal = normal
    try:
        yield
    finally:
        np.random.normal = original


def run_tf_keras_vis(args, model, logit_model, x, targets, logits) -> list[tuple]:
    from importlib.metadata import version

    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.utils.scores import CategoricalScore

    who = "tf-keras-vis " + version("tf-keras-vis")
    score = CategoricalScore(targets.tolist())
    saliency = Saliency(logit_model)
    rows = []
    for s, same in ((args.samples, True), (args.samples_stat, False)):
        mine = ours(model, x, "saliency", args.head, smooth=s, noise=0.2, seed=0)
        if same:
            with numpy_normal_from(0):
                peer = saliency(score, x, smooth_samples=s, smooth_noise=0.2,
                                normalize_map=False)
        else:
            np.random.seed(0)
            peer = saliency(score, x, smooth_samples=s, smooth_noise=0.2, normalize_map=False)
        noise = "same noise" if same else "own noise"
        rows.append((who, "SmoothGrad (mean of abs gradient)", f"{noise}, {s} samples",
                     *compare(mine, peer)))
    a, b = (ours(model, x, "saliency", args.head, smooth=args.samples_stat, noise=0.2, seed=k)
            for k in (0, 1))
    rows.append(("multidigit seed 0 vs seed 1", "saliency", f"own noise, {args.samples_stat} "
                 "samples", *compare(a, b)))
    mine = ours(model, x, "saliency", args.head)
    peer = saliency(score, x, normalize_map=False)
    rows.append((who, "Saliency (vanilla)", "abs gradient", *compare(mine, peer)))
    return rows


PEERS = {"xplique": ("xplique", run_xplique), "tf-keras-vis": ("tf_keras_vis", run_tf_keras_vis)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", nargs="+", choices=list(PEERS), default=list(PEERS))
    parser.add_argument("--n-images", type=int, default=4)
    parser.add_argument("--head", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=32, help="IG trapezoid intervals")
    parser.add_argument("--more-steps", type=int, nargs="*", default=[128, 512],
                        help="IG intervals for the completeness rows")
    parser.add_argument("--samples", type=int, default=16, help="noise samples, same draws")
    parser.add_argument("--samples-stat", type=int, default=256,
                        help="noise samples, each library's own noise")
    parser.add_argument("--masks", type=int, default=4000, help="RISE masks")
    parser.add_argument("--markdown", help="also write the table here")
    args = parser.parse_args(argv)

    import importlib

    available = []
    for name in args.peers:
        module = PEERS[name][0]
        try:
            importlib.import_module(module)
            available.append(name)
        except Exception as exc:  # noqa: BLE001  (any import failure: skip the peer)
            print(f"{name} is not importable here ({type(exc).__name__}: {exc}); skipped. "
                  "See benchmarks/README.md, 'Peers', for its environment.")
    if not available:
        print("No peer library available: nothing compared.")
        return 0

    import keras
    import tensorflow as tf

    setup_args = setup(args)
    rows = []
    for name in available:
        rows += PEERS[name][1](args, *setup_args)
    lines = [f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
             f"Keras {keras.__version__}, NumPy {np.__version__}; {args.n_images} test images, "
             f"head {args.head}, small preset at 28x84, {args.epochs} epochs, seed 0", "",
             "| peer | method | setting | corr | rel. diff |", "| --- | --- | --- | ---: | ---: |"]
    for peer, method, setting, corr, rel in rows:
        lines.append(f"| {peer} | {method} | {setting} | {corr:.6f} | {rel:.2e} |")
    if "xplique" in available:
        lines.append("")
        lines.append("Completeness rows: the two numbers are the mean and the worst over the "
                     "images of abs(sum of attributions - (f(x) - f(0))) / abs(f(x) - f(0)).")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
