"""The layer blocks of :func:`multidigit.build_model` (private): resize, augmentation,
convolutions, the per-digit strips and the dense block, named as
:mod:`multidigit.model.build` documents."""

from __future__ import annotations

from typing import Any

from multidigit.errors import ModelError
from multidigit.model.presets import Preset

#: Batch-norm momentum. Keras' default (0.99) needs several hundred steps before its
#: moving averages are usable, so small runs (tests, the mini set: 100 steps an epoch)
#: evaluate at chance for epochs; 0.9 converges in tens of steps and makes no
#: difference at the real scale (2,000 steps an epoch).
_BN_MOMENTUM = 0.9


def _resize(x: Any, arch: Preset) -> Any:
    """Bring a taller image down to the preset's working height (layer ``resize``).

    The width follows the height's factor, so a row of digits keeps its shape.  An
    exact integer reduction (168 -> 84) averages blocks; any other size is resized
    bilinearly (antialiased, where the installed Keras offers it).  Smaller images
    are used as they are: enlarging adds no information, only work.
    """
    import inspect

    from keras import layers

    if arch.working_size is None:
        return x
    h, w = int(x.shape[1]), int(x.shape[2])
    th = arch.working_size
    if h <= th:
        return x
    tw = max(1, round(w * th / h))
    if h % th == 0 and w == tw * (h // th):
        return layers.AveragePooling2D(h // th, name="resize")(x)
    kw: dict[str, Any] = {}
    if "antialias" in inspect.signature(layers.Resizing.__init__).parameters:
        kw["antialias"] = True  # Keras >= 3.6
    return layers.Resizing(th, tw, interpolation="bilinear", name="resize", **kw)(x)


def _windows(x: Any, arch: Preset, n_digits: int) -> Any:
    """One window per digit, centred on its ink, side by side (layer ``digit_windows``),
    resized into [``min_digit_size``, ``digit_size``] a side when they are outside it
    (layer ``window_resize``)."""
    if not arch.digit_windows:
        return x
    from keras import layers

    from multidigit.model.windows import DigitWindows

    _check_wide_enough(int(x.shape[2]), n_digits, "image")
    x = DigitWindows(n_digits, follow_columns=arch.follow_columns, name="digit_windows")(x)
    cut = size = int(x.shape[1])
    if arch.digit_size is not None:
        size = min(size, arch.digit_size)
    if arch.min_digit_size is not None:
        # a 28x28 image's 9-pixel windows would be pooled down to 2x2 by the two 2x2
        # pools: they are enlarged, but only to min_digit_size (16: a 4x4 map); to 28
        # they would cost as much as an 84x84 image for no more information
        size = max(size, arch.min_digit_size)
    if size != cut:
        x = layers.Resizing(size, size * n_digits, interpolation="bilinear",
                            name="window_resize")(x)
    return x


def _layout(x: Any, arch: Preset, seed: int | None, n_digits: int) -> Any:
    """Move and scale each digit on its own, while training only (layer ``layout``,
    :class:`multidigit.model.layout.DigitLayout`; outside training the image as it is)."""
    if not (arch.layout_shift or arch.layout_scale) or n_digits < 2:
        return x
    from multidigit.model.layout import DigitLayout

    _check_wide_enough(int(x.shape[2]), n_digits, "image")
    return DigitLayout(n_digits, shift=arch.layout_shift, scale=arch.layout_scale,
                       fraction=arch.layout_fraction,
                       seed=None if seed is None else seed + 100, name="layout")(x)


def _augment(x: Any, arch: Preset, seed: int | None, n_digits: int = 3) -> Any:
    """Random rotations, zooms and shifts, active only while training (Keras' own layers, so
    they run on every backend and are saved with the model).  With
    ``augment_per_digit`` each digit's column strip gets its own draw."""
    from keras import layers

    if not (arch.augment_rotation or arch.augment_zoom or arch.augment_shift):
        return x
    if not (arch.augment_per_digit and n_digits > 1):
        return _augment_one(x, arch, seed, "")
    width = int(x.shape[2])
    _check_wide_enough(width, n_digits, "image")
    cuts = [round(k * width / n_digits) for k in range(n_digits + 1)]
    strips = [layers.Cropping2D(((0, 0), (cuts[k], width - cuts[k + 1])),
                                name=f"digit_strip_{k}")(x) for k in range(n_digits)]
    strips = [_augment_one(s, arch, None if seed is None else seed + k, f"_{k}")
              for k, s in enumerate(strips)]
    return layers.Concatenate(axis=2, name="join")(strips)


def _augment_one(x: Any, arch: Preset, seed: int | None, suffix: str) -> Any:
    from keras import layers

    if arch.augment_rotation > 0:
        x = layers.RandomRotation(arch.augment_rotation, fill_mode="constant",
                                  seed=seed, name=f"augment_rotate{suffix}")(x)
    if arch.augment_zoom > 0:
        x = layers.RandomZoom(arch.augment_zoom, fill_mode="constant", seed=seed,
                              name=f"augment_zoom{suffix}")(x)
    if arch.augment_shift > 0:
        x = layers.RandomTranslation(arch.augment_shift, arch.augment_shift,
                                     fill_mode="constant", seed=seed,
                                     name=f"augment_shift{suffix}")(x)
    return x


def _conv_blocks(x: Any, arch: Preset, reg: Any) -> Any:
    """``conv_i`` [-> ``bn_i``] -> ``pool_i`` (see ``Preset.pools``) [-> ``drop_i``]."""
    from keras import layers

    for i, f in enumerate(arch.filters, start=1):
        x = layers.Conv2D(f, 3, padding=arch.padding, activation="relu",
                          kernel_regularizer=reg, name=f"conv_{i}")(x)
        if arch.batch_norm:
            x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"bn_{i}")(x)
        pool = arch.pools is None or (i <= len(arch.pools) and arch.pools[i - 1])
        if pool and x.shape[1] >= 2 and x.shape[2] >= 2:
            x = layers.MaxPooling2D(2, name=f"pool_{i}")(x)
        if arch.dropout > 0:
            x = layers.Dropout(arch.dropout, name=f"drop_{i}")(x)
    return x


def _check_wide_enough(width: int, n: int, what: str) -> None:
    if width < n:
        raise ModelError(f"the {what} is {width} columns wide, too narrow to cut into "
                         f"{n} digit strips; give a wider input_shape.")


def _column_strips(x: Any, n: int) -> list[Any]:
    """``n`` equal-width strips of the feature map, spread evenly over its width
    (layers ``column_k``; for 21 columns and 3 digits: 0-6, 7-13, 14-20)."""
    from keras import layers

    width = int(x.shape[2])
    _check_wide_enough(width, n, "feature map")
    strip = width // n
    starts = [round(k * (width - strip) / (n - 1)) if n > 1 else 0 for k in range(n)]
    return [layers.Cropping2D(((0, 0), (s, width - s - strip)), name=f"column_{k}")(x)
            for k, s in enumerate(starts)]


def _dense_block(x: Any, arch: Preset, reg: Any, n_digits: int) -> list[Any]:
    """[``vpool`` ->] [``column_k`` ->] ``flatten`` -> ``dense`` [-> ``dense_bn``]
    [-> ``dense_drop``]: the features each head reads (the same tensor for every head,
    or one per digit strip when the preset shares its classifier)."""
    from keras import layers

    if arch.vertical_pool:
        # Max over the whole height: features keep their column (which digit) but
        # not their row, so a digit is recognised at any vertical offset.
        x = layers.MaxPooling2D(pool_size=(int(x.shape[1]), 1), name="vpool")(x)
    parts = _column_strips(x, n_digits) if arch.columns else [x]
    # one instance of each layer, called on every strip: the weights are shared
    flatten = layers.Flatten(name="flatten")
    dense = layers.Dense(arch.dense_units, activation="relu", kernel_regularizer=reg,
                         name="dense")
    norm = (layers.BatchNormalization(momentum=_BN_MOMENTUM, name="dense_bn")
            if arch.batch_norm else None)
    drop = layers.Dropout(arch.dense_dropout, name="dense_drop") if arch.dense_dropout > 0 else None
    feats = []
    for part in parts:
        f = dense(flatten(part))
        f = norm(f) if norm is not None else f
        feats.append(drop(f) if drop is not None else f)
    return feats if arch.columns else feats * n_digits
