"""The training-time augmentation :func:`multidigit.train` adds by default."""

from __future__ import annotations

from typing import Any

from multidigit._param_validation import Int, validate_params

__all__ = ["default_augmentation"]


@validate_params({"seed": Int(min=0)})
def default_augmentation(seed: int) -> Any:
    """Small shifts and zooms: digits are upright, so no flips or large rotations."""
    import keras

    return keras.Sequential(
        [
            keras.layers.RandomTranslation(0.08, 0.04, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom(0.08, fill_mode="constant", seed=seed + 1),
        ],
        name="augmentation",
    )
