"""Road text painted in a lane (``公交专用`` marks a bus lane), read as extra evidence.

The lane beyond the bus line is warped to a bird's-eye strip (its near edge is the bus line, its
width the ego lane's width measured at the same row), where painted characters stand upright
one after another along the lane; they are cut apart by the gaps between them, set side by side
nearest first, and read as one line of text by the OCR recogniser.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from models.types import Image
from workers.scene import LaneLine, Scene

STRIP_WIDTH = 96
FOCAL_SHARE = 0.7
"""A dashcam's focal length as a share of the frame width (about 70 degrees across)."""
MAX_CELL = 1.5 * STRIP_WIDTH
"""The longest a painted character runs along the lane, in strip pixels."""
MIN_LANE_PX = 24
"""Rows where the lane is narrower than this are too far away to read paint from."""


class LineReader(Protocol):
    def read_line(self, image: Image) -> tuple[str, float]: ...


def _neighbour(scene: Scene, line: LaneLine) -> LaneLine | None:
    """The nearest marking left of ``line`` at the bottom of the frame, among those seen in the
    lower quarter of it (a short far stroke's slope says little about the lane's width)."""
    y = scene.height
    left = [
        other
        for other in scene.lines
        if other.x_at(y) < line.x_at(y) - 10 and other.y_bottom >= 0.75 * scene.height
    ]
    return max(left, key=lambda other: other.x_at(y)) if left else None


def birds_eye(image: Image, scene: Scene) -> Image | None:
    """The lane beyond the bus line seen from above (near end at the bottom), or None when
    the lane cannot be framed."""
    line = scene.bus_line
    other = _neighbour(scene, line) if line is not None else None
    if line is None or other is None:
        return None
    near = scene.height - 1.0

    def width_at(y: float) -> float:
        return line.x_at(y) - other.x_at(y)

    if width_at(near) <= MIN_LANE_PX or abs(line.a - other.a) < 1e-6:
        return None
    # the lane narrows linearly towards the vanishing row; stop where it is MIN_LANE_PX wide
    slope = (width_at(near) - width_at(near - 100)) / 100
    if slope <= 0:
        return None
    far = max(line.y_top, near - (width_at(near) - MIN_LANE_PX) / slope)
    p_near, p_far = width_at(near), width_at(far)
    focal = FOCAL_SHARE * scene.width
    length_in_lanes = focal * (1 / p_far - 1 / p_near)
    length = int(min(2000, max(STRIP_WIDTH, STRIP_WIDTH * length_in_lanes)))
    src = np.array(
        [
            [line.x_at(far), far],
            [line.x_at(far) + p_far, far],
            [line.x_at(near) + p_near, near],
            [line.x_at(near), near],
        ],
        np.float32,
    )
    dst = np.array([[0, 0], [STRIP_WIDTH, 0], [STRIP_WIDTH, length], [0, length]], np.float32)
    warp = cv2.getPerspectiveTransform(src, dst)
    return np.asarray(cv2.warpPerspective(image, warp, (STRIP_WIDTH, length)), np.uint8)


def glyph_line(strip: Image) -> Image | None:
    """The painted characters of the strip, cut apart and set side by side (nearest first),
    dark on white, as a text recogniser expects a line."""
    hls = cv2.cvtColor(strip, cv2.COLOR_BGR2HLS)
    yellow = cv2.inRange(hls, (12, 80, 90), (38, 240, 255))
    white = cv2.inRange(hls, (0, 190, 0), (180, 255, 60))
    paint = np.asarray(cv2.bitwise_or(yellow, white), np.uint8)
    paint[:, : STRIP_WIDTH // 10] = 0  # the lane line itself
    paint[:, -STRIP_WIDTH // 10 :] = 0
    rows = (paint > 0).sum(axis=1) > 1
    runs: list[tuple[int, int]] = []
    start = None
    for y, on in enumerate([*rows.tolist(), False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            runs.append((start, y))
            start = None
    glyphs: list[tuple[int, int]] = []
    for y0, y1 in runs:  # a character's strokes may leave gaps (交): join what fits one cell
        if glyphs and y0 - glyphs[-1][1] < 0.2 * STRIP_WIDTH and y1 - glyphs[-1][0] < MAX_CELL:
            glyphs[-1] = (glyphs[-1][0], y1)
        else:
            glyphs.append((y0, y1))
    glyphs = [(y0, y1) for y0, y1 in glyphs if y1 - y0 >= 6]
    if not 1 <= len(glyphs) <= 8:
        return None
    cells = []
    for y0, y1 in reversed(glyphs):  # nearest (bottom) first
        cell = 255 - paint[y0:y1]
        cols = np.where((cell < 128).any(axis=0))[0]
        glyph = cell[:, cols.min() : cols.max() + 1]
        canvas = np.full((48, 48), 255, np.uint8)  # square again: road paint is stretched
        canvas[4:44, 4:44] = cv2.resize(glyph, (40, 40), interpolation=cv2.INTER_AREA)
        cells.append(canvas)
    return np.asarray(cv2.cvtColor(np.hstack(cells), cv2.COLOR_GRAY2BGR), np.uint8)


def read_road_text(image: Image, scene: Scene, reader: LineReader) -> tuple[str, float]:
    strip = birds_eye(image, scene)
    line = glyph_line(strip) if strip is not None else None
    if line is None:
        return "", 0.0
    return reader.read_line(line)
