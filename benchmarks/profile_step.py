"""Where a training step of the default model spends its time (issue 29).

Not a test.  On ``--steps`` batches of mini's 84x84 training images, each part is timed
alone, in alternating rounds (so every part sees the same load), as CPU seconds and
wall seconds per 1,000 images; CPU / wall is the number of cores in use::

    python benchmarks/profile_step.py                          # this CPU's best kernels
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/profile_step.py  # as on an AVX2-only CPU
    python benchmarks/profile_step.py --threads 2,1 --xla      # candidates

Parts: ``fit`` (``model.fit`` on arrays, the default recipe's path: Keras' data adapter,
callbacks, the compiled step), ``step`` (the compiled train step alone, on tensors
already batched), ``forward`` (the model's forward pass in training mode, compiled),
``prepare`` (the layers before the first convolution: layout, windows, per-digit
augmentation), ``layout`` and ``windows`` (one layer each).  The difference
``fit - step`` is the input pipeline and Python per step; ``step - forward`` the
backward pass and the optimiser; ``forward - prepare`` the network itself.
``fit_speN`` is ``fit`` with Keras' ``steps_per_execution=N`` (N batches per call of
the compiled function); ``train`` is :func:`multidigit.train` for one epoch (its
callbacks: the per-batch learning-rate schedule, the timer).
``--xla`` adds ``step_xla`` (the same step compiled with XLA, ``jit_compile=True``;
the default model's ``affine_transform`` has no XLA kernel, so Keras falls back unless
``--no-augment`` leaves out the layout and per-digit augmentation).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import _common

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _timer(fn, n_images):
    """Run ``fn`` once to warm up; return a callable that times one more run."""
    fn()

    def timed():
        w, c = time.perf_counter(), time.process_time()
        fn()
        return (time.perf_counter() - w) * 1000 / n_images, (time.process_time() - c) * 1000 / n_images
    return timed


def parts(args):
    import keras
    import numpy as np
    import tensorflow as tf

    import multidigit as md

    ds = md.load_dataset()
    n = args.steps * args.batch_size
    x = ds.train.images[:n]
    y = {k: v[:n] for k, v in ds.train.one_hot().items()}
    if args.no_augment:  # the network alone (XLA cannot compile affine_transform)
        from dataclasses import replace

        from multidigit.model import presets

        presets.PRESETS["shared"] = replace(presets.PRESETS["shared"], augment_rotation=0.0,
                                            augment_shift=0.0, layout_shift=0.0,
                                            layout_scale=None)
    model = md.build_model(seed=0)
    batches = [(tf.constant(x[i:i + args.batch_size]),
                {k: tf.constant(v[i:i + args.batch_size]) for k, v in y.items()})
               for i in range(0, n, args.batch_size)]
    first_conv = next(i for i, layer in enumerate(model.layers)
                      if isinstance(layer, keras.layers.Conv2D))
    prepare = keras.Model(model.input, model.layers[first_conv - 1].output)
    layers = {name: model.get_layer(name) for name in ("layout", "digit_windows")}

    def compiled(fn):
        f = tf.function(fn, reduce_retracing=True)
        return lambda: [f(b[0]) for b in batches]

    model.fit(x[:args.batch_size], {k: v[:args.batch_size] for k, v in y.items()},
              batch_size=args.batch_size, verbose=0)
    train_fn = model.make_train_function()

    def step():
        for b in batches:
            train_fn(iter([b]))

    out = {
        "fit": lambda: model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0,
                                 shuffle=False),
        "step": step,
        "forward": compiled(lambda t: model(t, training=True)),
        "prepare": compiled(lambda t: prepare(t, training=True)),
        "layout": compiled(lambda t: layers["layout"](t, training=True)),
        "windows": compiled(lambda t: layers["digit_windows"](t)),
    }
    spe = md.build_model(seed=0)
    spe.compile(optimizer=keras.optimizers.Adam(1e-3), loss=dict(model.loss),
                steps_per_execution=args.spe)
    out[f"fit_spe{args.spe}"] = lambda: spe.fit(x, y, batch_size=args.batch_size, epochs=1,
                                                verbose=0, shuffle=False)
    train_model = md.build_model(seed=0)
    split = md.Split(x, ds.train.labels[:n], "train")
    out["train"] = lambda: md.train(train_model, split, epochs=1, progress=False)
    if args.xla:
        xla = md.build_model(seed=0)
        xla.compile(optimizer=keras.optimizers.Adam(1e-3), loss=dict(model.loss),
                    jit_compile=True)
        xla.fit(x[:args.batch_size], {k: v[:args.batch_size] for k, v in y.items()},
                batch_size=args.batch_size, verbose=0)
        xla_fn = xla.make_train_function()
        out["step_xla"] = lambda: [xla_fn(iter([b])) for b in batches]
    _ = np
    return out, n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", default=None,
                   help="intra,inter op threads of TensorFlow (default: its own choice)")
    p.add_argument("--xla", action="store_true")
    p.add_argument("--no-augment", action="store_true",
                   help="the default model without layout and per-digit augmentation")
    p.add_argument("--spe", type=int, default=8, help="steps_per_execution of fit_speN")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    _common.set_threads(args.threads)
    fns, n = parts(args)
    timers = {k: _timer(f, n) for k, f in fns.items()}
    runs = {k: [] for k in timers}
    for _ in range(args.rounds):
        for k, t in timers.items():
            runs[k].append(t())
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "native")
    print(f"ISA {isa}, threads {args.threads or 'default'}, batch {args.batch_size}, "
          f"load {os.getloadavg()[0]:.1f}")
    table = _common.timing_table(runs, min, unit="s / 1000 images")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"isa": isa, "threads": args.threads, "load": os.getloadavg()[0],
                       "batch_size": args.batch_size, "parts": table}, f, indent=1)


if __name__ == "__main__":
    main()
