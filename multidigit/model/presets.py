"""The named architectures :func:`multidigit.build_model` builds (``preset=``).

``"shared"`` is multidigit's default; ``"baseline"`` and ``"tuned"`` are the study's
models, unchanged; ``"fast"``, ``"wide"`` and ``"small"`` are earlier multidigit models
and a tiny one for tests.  The layers each field adds are listed in
:mod:`multidigit.model.build`.

Examples
--------
>>> from multidigit.model.presets import PRESETS
>>> PRESETS["shared"].filters, PRESETS["tuned"].filters
((32, 64, 128), (96, 128, 128))
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["PRESETS", "Preset"]


@dataclass(frozen=True)
class Preset:
    """An architecture: conv filters per block, dense units and regularisation."""

    filters: tuple[int, ...]
    dense_units: int
    dropout: float
    dense_dropout: float
    batch_norm: bool
    l2: float
    padding: str
    description: str
    vertical_pool: bool = False
    #: which conv blocks end with a 2x2 max pool (None: every block, while the map is
    #: still at least 2x2)
    pools: tuple[bool, ...] | None = None
    #: one classifier shared by the digit positions: the feature map is cut into
    #: ``n_digits`` equal column strips (``column_k``) and the same ``dense`` layer
    #: reads each; the heads ``digit_k`` stay one per position
    columns: bool = False
    #: the input size the architecture works at: other inputs are resized inside the
    #: model (layer ``resize``); None: the model works at its input size
    working_size: int | None = None
    #: random rotation (fraction of a full turn) and shift (fraction of the height and
    #: width) applied while training only (layers ``augment_rotate``, ``augment_shift``;
    #: inactive in ``predict``, ``evaluate`` and the explainers); 0: none
    augment_rotation: float = 0.0
    augment_shift: float = 0.0
    #: random zoom in and out by up to this fraction (layer ``augment_zoom``)
    augment_zoom: float = 0.0
    #: augment each digit on its own: the image is cut into one column strip per digit
    #: (``digit_strip_k``), each gets its own random draw (``augment_*_k``), and the
    #: strips are joined back (``join``); False: one draw for the whole image
    augment_per_digit: bool = False
    #: read each digit in a square window centred on its ink, the windows side by
    #: side (layer ``digit_windows``, :class:`multidigit.model.windows.DigitWindows`): an
    #: 84x84 image becomes 28x84, every digit at full resolution
    digit_windows: bool = False
    #: windows larger than this many pixels a side are shrunk to it (layer
    #: ``window_resize``); None: as cut
    digit_size: int | None = None
    #: windows smaller than this are enlarged to it (layer ``window_resize``: a 28x28
    #: input's 9-pixel windows become 16x16, enough for the two 2x2 pools to leave a
    #: 4x4 map; enlarging further adds work, not information); None: as cut
    min_digit_size: int | None = None
    #: windows follow the ink horizontally too (``DigitWindows(follow_columns=True)``):
    #: a digit off its third of the image is still read whole
    follow_columns: bool = False
    #: while training, move each digit sideways by up to this fraction of the image
    #: width (layer ``layout``, :class:`multidigit.model.layout.DigitLayout`): digits come off
    #: their thirds and closer to, or into, their neighbours, as they do when people write
    layout_shift: float = 0.0
    #: while training, scale each digit by a random factor in this range (about its
    #: strip's centre); None: no scaling
    layout_scale: tuple[float, float] | None = None
    #: share of each batch's images that the layout moves and scales (the others keep
    #: the layout they have)
    layout_fraction: float = 1.0


#: multidigit's height-pooling model; ``wide`` is this with wider blocks and L2.
_FAST = Preset(
    filters=(32, 64, 64),
    dense_units=128,
    dropout=0.1,
    dense_dropout=0.3,
    batch_norm=True,
    l2=0.0,
    padding="same",
    vertical_pool=True,
    description="multidigit's earlier study-command model: three small blocks, "
    "then a max over the image height ('vpool') so each digit is read wherever it "
    "sits vertically (Triple MNIST offsets digits at random heights), Dense 128.",
)

#: multidigit's default: reads each digit at full resolution in a window centred on
#: it, with one classifier shared by the digit positions.
_SHARED = Preset(
    filters=(32, 64, 128),
    pools=(True, True, False),
    dense_units=256,
    dropout=0.25,
    dense_dropout=0.5,
    batch_norm=True,
    l2=0.0,
    padding="same",
    columns=True,
    working_size=84,
    digit_windows=True,
    follow_columns=True,
    layout_shift=0.1,
    layout_scale=(0.7, 1.4),
    layout_fraction=0.5,
    digit_size=28,
    min_digit_size=16,
    augment_rotation=0.03,
    augment_shift=0.1,
    augment_per_digit=True,
    description="multidigit's default: while training, in half of the images each digit "
    "is scaled (0.7-1.4x) and moved sideways (up to 10 % of the width) on its own "
    "(layer 'layout'; the other half keep Triple MNIST's layout); "
    "each digit is then cut out in a square window centred on its ink, found by "
    "splitting the ink per column into one group per digit (layer 'digit_windows', "
    "follow_columns: digits off their thirds are still read whole), and the windows "
    "are put side by side (84x84 becomes 28x84, every digit at full resolution; a "
    "larger image is first brought down to 84x84, layer 'resize'; windows smaller "
    "than 16x16 are enlarged to it, layer 'window_resize'), each window rotated and "
    "shifted a little on its own while training, Conv 32 -> pool -> Conv 64 -> pool "
    "-> Conv 128 (BatchNorm), the width cut into one strip per digit ('column_k') and "
    "ONE Dense 256 shared by the strips, so every weight learns from every digit "
    "position; a 10-way head per position.",
)

PRESETS: dict[str, Preset] = {
    "shared": _SHARED,
    "baseline": Preset(
        filters=(32, 64),
        dense_units=256,
        dropout=0.25,
        dense_dropout=0.5,
        batch_norm=False,
        l2=1e-3,
        padding="valid",
        description="The study's first model: Conv 32 -> pool -> Conv 64 -> pool -> "
        "Dense 256, dropout .25/.25/.5, L2 1e-3.",
    ),
    "tuned": Preset(
        filters=(96, 128, 128),
        dense_units=256,
        dropout=0.25,
        dense_dropout=0.5,
        batch_norm=True,
        l2=1e-3,
        padding="same",
        description="The study's tuned model (keras-tuner's best): three blocks Conv "
        "96/128/128 'same' + BatchNorm + pool + dropout .25, Dense 256 + BatchNorm + "
        "dropout .5, L2 1e-3.",
    ),
    "fast": _FAST,
    "wide": replace(
        _FAST,
        filters=(64, 128, 128),
        dense_units=256,
        l2=1e-3,
        description="multidigit's earlier real-scale model: the 'fast' preset's "
        "height max-pool with wider blocks (64/128/128), Dense 256 and L2 1e-3; with "
        "train(batch_size=128, schedule='onecycle', epochs=12) it reached the study "
        "recipe's accuracy in under half its time at 28x28 (benchmarks/README.md).",
    ),
    "small": Preset(
        filters=(16, 32),
        dense_units=64,
        dropout=0.1,
        dense_dropout=0.25,
        batch_norm=True,
        l2=0.0,
        padding="same",
        description="A tiny, fast model for tests, examples and quick runs.",
    ),
}
