"""Benchmark: attribution maps per second, multidigit.explain vs tf-keras-vis.

Saliency and Grad-CAM maps for ``--n`` real-scale test images on every head of the
model, through :func:`multidigit.explain` and through tf-keras-vis' ``Saliency`` /
``Gradcam`` called directly (one single-output sub-model per head, built before the
clock starts), in the same run, same batch size, same targets, same score (the
output probability, as tf-keras-vis computes it without its ``ReplaceToLinear``
modifier).  Target: ratio (ours / tf-keras-vis images per second) >= 1.0.

Usage::

    python benchmarks/bench_explain.py [--n 1000] [--preset tuned] [--size 28]
                                       [--batch-size 256] [--repeats 3]

Test images are Triple MNIST images generated from the official MNIST test digits in
``../shared/data/mnist_digits.npz`` (exits 0 with a message when that file is absent),
resized to ``--size``.  The model is untrained (speed does not depend on the weights).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings

import numpy as np

# tf-keras-vis passes a list to single-input models; Keras 3 warns on every call.
warnings.filterwarnings("ignore", message="The structure of `inputs`")

from _common import SHARED  # noqa: E402


def test_images(path: Path, n: int, size: int) -> np.ndarray:
    import tensorflow as tf

    from multidigit.data import generate_dataset

    d = np.load(path)
    test = (d["test_images"], d["test_labels"])
    per_class = max(1, int(np.ceil(n / 200)))  # 200 test label combinations
    out = generate_dataset(images_per_class=per_class, seed=0,
                           digits={"train": test, "val": test, "test": test})
    imgs = out["test"][0][:n].astype(np.float32)[..., None] / 255.0
    return tf.image.resize(imgs, (size, size), method="area").numpy()


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up: tracing, sub-model construction
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="test images (default 1000)")
    p.add_argument("--preset", default="tuned")
    p.add_argument("--size", type=int, default=28, help="image side (default 28)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data", type=Path, default=SHARED)
    args = p.parse_args(argv)
    if not args.data.exists():
        print(f"{args.data} not found: this benchmark needs the real MNIST digits "
              "(see shared/README.md). Skipping.")
        return 0

    import keras
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.utils.scores import CategoricalScore

    import multidigit as md
    from multidigit.model.build import last_conv_layer_name
    from multidigit.model.heads import predict_heads

    x = test_images(args.data, args.n, args.size)
    model = md.build_model("softmax", "categorical_crossentropy",
                           input_shape=(args.size, args.size, 1), preset=args.preset, seed=0)
    heads = ["digit_0", "digit_1", "digit_2"]
    targets = predict_heads(model, x).argmax(-1)  # (N, 3), shared by both
    layer = last_conv_layer_name(model)
    bs = args.batch_size
    subs = [keras.Model(model.inputs[0], model.get_layer(h).output) for h in heads]
    tkv_sal = [Saliency(s) for s in subs]
    tkv_cam = [Gradcam(s) for s in subs]

    def tkv(vis, **kw):
        def run():
            for k, v in enumerate(vis):
                for s in range(0, len(x), bs):
                    v(CategoricalScore(targets[s:s + bs, k].tolist()), x[s:s + bs], **kw)
        return run

    def ours(method):
        def run():
            md.explain(model, x, method, head="all", target=targets, batch_size=bs,
                       score="probability")
        return run

    print(f"{len(x)} images {args.size}x{args.size}, preset {args.preset!r}, 3 heads, "
          f"batch {bs}, best of {args.repeats}; images/s = images explained on all heads / s")
    print(f"{'method':<10} {'multidigit':>12} {'tf-keras-vis':>13} {'ratio':>7}")
    for name, method, baseline in (
        ("saliency", "saliency", tkv(tkv_sal)),
        ("gradcam", "gradcam", tkv(tkv_cam, penultimate_layer=layer)),
    ):
        t_ours = best_of(ours(method), args.repeats)
        t_ref = best_of(baseline, args.repeats)
        print(f"{name:<10} {len(x) / t_ours:12.1f} {len(x) / t_ref:13.1f} "
              f"{t_ref / t_ours:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
