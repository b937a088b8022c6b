"""Views of a rectified plate for the recogniser, and how their reads are combined.

The PP-OCRv4 recogniser leans to 皖 (CCPD's province) and the lean rides on colour: the blue
of an Anhui plate is part of what it learned. A grey view keeps every stroke and drops that
cue, so the first read of a plate is of its grey image. A plate not read clearly at once is
also read smoothed (compression blocks, sensor noise) in colour and in grey; the three views
have the same size, so the recogniser's steps line up and their per-step probabilities are
averaged before decoding (one read from the evidence of all three, instead of picking one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from models.types import Image

Probs = npt.NDArray[np.float32]


def grey(image: Image) -> Image:
    """The plate's grey levels, as three channels (the recogniser takes BGR)."""
    levels = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.asarray(cv2.cvtColor(levels, cv2.COLOR_GRAY2BGR), np.uint8)


def smooth(image: Image) -> Image:
    """A 3x3 Gaussian: JPEG blocks and sensor noise fade, strokes stay."""
    return np.asarray(cv2.GaussianBlur(image, (3, 3), 0), np.uint8)


def grey_smooth(image: Image) -> Image:
    return smooth(grey(image))


FIRST_VIEW = grey
"""The view read first; a clear read of it is the plate's read."""
MORE_VIEWS = (smooth, grey_smooth)
"""Read in one batch when the first view is not clear; fused with it."""


def visible_steps(shape: tuple[int, ...], steps: int, max_width: int) -> int:
    """How many of the recogniser's ``steps`` see the plate rather than the zero padding on
    its right (the input is 48 high, the plate's width scaled to match, padded to 320)."""
    h, w = shape[:2]
    width = min(max_width, math.ceil(48 * w / h))
    return min(steps, math.ceil(steps * width / max(320, width)) + 1)


def fuse(views: Sequence[Probs], steps: int) -> Probs:
    """The views' per-step probabilities averaged over the steps that see the plate (views of
    one size share their alignment)."""
    return np.asarray(np.mean([v[:steps] for v in views], axis=0), np.float32)


def batch(tensors: Sequence[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    """1x3x48xW tensors as one batch, zero-padded on the right to the widest."""
    width = max(t.shape[3] for t in tensors)
    out = np.zeros((len(tensors), 3, 48, width), np.float32)
    for n, t in enumerate(tensors):
        out[n, :, :, : t.shape[3]] = t[0]
    return out
