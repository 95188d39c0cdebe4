"""Find the digits of a picture (ink up, [0, 1]): connected components, merged, split.

The second step of :func:`multidigit.prepare_handwriting`: pieces of one digit are
merged, specks dropped, digits ordered left to right, and a component several digits
wide is cut at its thinnest columns only when fewer digits than wanted were found.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["find_digits", "box", "INK_LEVEL"]

Box = tuple[int, int, int, int]  # (left, top, right, bottom), right/bottom exclusive

INK_LEVEL = 0.3     # share of the ink's peak above which a pixel is a stroke
NOISE_AREA = 0.02   # components below this share of the largest are noise, ignored
SPECK_AREA = 0.08   # merged digits below this share of the largest are specks, dropped
MERGE_OVERLAP = 0.5  # pieces whose columns overlap by this share of the narrower merge
SPLIT_WIDTH = 1.6   # a component this many typical digit widths wide may hold two
WAIST = 0.35        # ... or one digit wide with a column this thin (share of its sides)


def find_digits(ink: np.ndarray, n_digits: int) -> list[np.ndarray]:
    """Boolean masks of the digits of ``ink``, left to right (touching ones cut only
    when fewer than ``n_digits`` were found)."""
    return _split_touching(_components(ink), ink, n_digits)




def _components(ink: np.ndarray) -> list[np.ndarray]:
    """Boolean masks of the digits, left to right: merged pieces, no specks."""
    from scipy import ndimage

    labels, n = ndimage.label(ink > INK_LEVEL, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    areas = ndimage.sum_labels(np.ones_like(ink), labels, np.arange(1, n + 1))
    slices = ndimage.find_objects(labels)
    # a piece: [label ids, left, right, top, bottom, area]
    groups = [[{i + 1}, slices[i][1].start, slices[i][1].stop, slices[i][0].start,
               slices[i][0].stop, areas[i]] for i in range(n)
              if areas[i] >= NOISE_AREA * areas.max()]
    merged = True
    while merged:  # merge pieces of one digit (a 5's hat, a 4 drawn in two strokes)
        merged = False
        groups.sort(key=lambda g: g[1])
        pairs = ((a, b) for a in range(len(groups)) for b in range(a + 1, len(groups)))
        for a, b in pairs:
            if _same_digit(groups[a], groups[b]):
                ga, gb = groups[a], groups[b]
                groups[a] = [ga[0] | gb[0], min(ga[1], gb[1]), max(ga[2], gb[2]),
                             min(ga[3], gb[3]), max(ga[4], gb[4]), ga[5] + gb[5]]
                del groups[b]
                merged = True
                break
    big = max(g[5] for g in groups)
    return [np.isin(labels, sorted(g[0])) for g in groups if g[5] >= SPECK_AREA * big]


def _same_digit(a: list[Any], b: list[Any]) -> bool:
    """Two pieces belong to one digit when their columns overlap and one sits above the
    other or is less than half as tall (people write digits side by side, not stacked),
    or lies almost within the other's columns; or when a small piece almost touches a
    large one (a 5's hat, a broken stroke).  Two side-by-side digits that overlap a
    little (a slanted 1 under a 4's arm) stay apart."""
    cols = min(a[2], b[2]) - max(a[1], b[1])
    rows = min(a[4], b[4]) - max(a[3], b[3])
    narrow = min(a[2] - a[1], b[2] - b[1])
    short, tall = sorted((a[4] - a[3], b[4] - b[3]))
    small, large = sorted((a[5], b[5]))
    stacked = rows < MERGE_OVERLAP * short or short < MERGE_OVERLAP * tall
    return ((cols > 0 and (stacked or cols >= MERGE_OVERLAP * narrow and small < 0.5 * large))
            or cols >= 0.8 * narrow or (cols >= -0.15 * tall and small < 0.25 * large))


def box(mask: np.ndarray) -> Box:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _cuts(mask: np.ndarray, ink: np.ndarray, parts: int) -> tuple[list[int], float]:
    """Columns cutting ``mask`` into ``parts`` at its thinnest places, and how thin the
    thickest of those cuts is (share of the lower of the fullest columns either side)."""
    x0, _, x1, _ = box(mask)
    profile = (ink * mask).sum(axis=0)[x0:x1]
    w = x1 - x0
    cuts, depth = [], 0.0
    for j in range(1, parts):
        lo = max(int(w * (j - 0.6) / parts), 1)
        hi = min(max(int(w * (j + 0.6) / parts), lo + 1), w - 1)
        k = lo + int(np.argmin(profile[lo:hi]))
        cuts.append(x0 + k)
        sides = min(profile[:k].max(initial=0), profile[k + 1:].max(initial=0))
        depth = max(depth, float(profile[k] / max(sides, 1e-9)))
    return cuts, depth


def _split_touching(masks: list[np.ndarray], ink: np.ndarray, n_digits: int) -> list[np.ndarray]:
    """Cut components several digits wide at their thinnest columns, only as many times
    as digits are missing: one clearly wider than a digit, or one a bit wide with a
    narrow waist (a 1 touching a 0)."""
    while 0 < len(masks) < n_digits:
        boxes = [box(m) for m in masks]
        heights = np.array([b[3] - b[1] for b in boxes], float)
        widths = np.array([b[2] - b[0] for b in boxes], float)
        others = [np.delete(widths, i) for i in range(len(masks))]
        # a digit's width: the others' (not less than a typical digit of that height)
        typical = np.array([max(float(np.median(o)) if len(o) else 0.0,
                                0.55 * float(np.median(heights))) for o in others])
        ratio = widths / typical
        i = int(ratio.argmax())
        parts = int(min(max(2, round(ratio[i])), n_digits - len(masks) + 1))
        cuts, depth = _cuts(masks[i], ink, parts) if widths[i] >= 4 else ([], 1.0)
        if not (ratio[i] >= SPLIT_WIDTH or (ratio[i] >= 1.0 and depth <= WAIST)):
            break  # nothing is clearly several digits wide: do not guess
        edges = [boxes[i][0], *cuts, boxes[i][2]]
        cols = np.arange(ink.shape[1])
        pieces = [masks[i] & ((cols >= a) & (cols < b))[None, :]
                  for a, b in zip(edges[:-1], edges[1:])]
        masks = masks[:i] + [p for p in pieces if p.any()] + masks[i + 1:]
    return masks
