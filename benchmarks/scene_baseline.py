"""Road scene from a dashcam frame: lane markings found with OpenCV (colour masks, Hough
segments, a straight fit per marking), each marking told solid or dashed by how much of its
length is painted.

The rules need two lines: the road's right edge line (the rightmost solid white line right of
the camera: beyond it is the emergency lane) and a yellow line right of the camera (the bus
lane's marking). A vehicle's place on the road is the bottom centre of its box.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from models.types import Box, Image
from rules.facts import Colour, Style
from rules.facts import LaneLine as LaneLine  # the rules own the scene's types
from rules.facts import Scene as Scene
from rules.facts import beyond as beyond

ROI_TOP = 0.55
"""Markings are looked for below this fraction of the frame height (the road ahead)."""
SOLID_COVERAGE = 0.7
MIN_SLOPE = 0.4
"""|dy/dx| below this is not a lane marking seen from the driver's seat (a stop line, a kerb)."""


def _masks(image: Image) -> dict[Colour, np.ndarray]:
    hls = cv2.cvtColor(image, cv2.COLOR_BGR2HLS)
    white = cv2.inRange(hls, (0, 190, 0), (180, 255, 90))
    yellow = cv2.inRange(hls, (12, 80, 90), (38, 230, 255))
    return {"white": white, "yellow": yellow}


def _fit(segments: list[tuple[int, int, int, int]]) -> tuple[float, float, float, float]:
    ys, xs, weights = [], [], []
    for x1, y1, x2, y2 in segments:
        length = float(np.hypot(x2 - x1, y2 - y1))
        ys += [y1, y2]
        xs += [x1, x2]
        weights += [length, length]
    a, b = np.polyfit(np.array(ys, float), np.array(xs, float), 1, w=np.array(weights))
    return float(a), float(b), float(min(ys)), float(max(ys))


def _coverage(mask: np.ndarray, a: float, b: float, y_top: float, y_bottom: float) -> float:
    grown = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    ys = np.arange(int(y_top), int(y_bottom))
    if len(ys) < 10:
        return 0.0
    xs = np.clip((a * ys + b).astype(int), 0, mask.shape[1] - 1)
    return float((grown[ys, xs] > 0).mean())


def _group(segments: list[tuple[int, int, int, int]], height: int, gap: float) -> list[list[Any]]:
    """Segments of one marking share their slope's sign and their x where they meet the
    bottom of the frame."""
    groups: list[tuple[float, list[Any]]] = []
    for seg in sorted(segments, key=lambda s: -np.hypot(s[2] - s[0], s[3] - s[1])):
        x1, y1, x2, y2 = seg
        a = (x2 - x1) / (y2 - y1)
        x_bottom = x1 + a * (height - y1)
        for x0, members in groups:
            if abs(x_bottom - x0) < gap and np.sign(a) == np.sign(_slope(members[0])):
                members.append(seg)
                break
        else:
            groups.append((x_bottom, [seg]))
    return [members for _, members in groups]


def _slope(seg: tuple[int, int, int, int]) -> float:
    x1, y1, x2, y2 = seg
    return (x2 - x1) / (y2 - y1)


def detect_lanes(image: Image, pts: float = 0.0, vehicles: Sequence[Box] = ()) -> Scene:
    """Lane markings below the horizon; the ``vehicles``' boxes are left out, so a yellow
    tail light or a white bumper is never taken for paint."""
    height, width = image.shape[:2]
    top = int(height * ROI_TOP)
    lines: list[LaneLine] = []
    for colour, mask in _masks(image).items():
        mask[:top] = 0
        for box in vehicles:
            mask[max(0, int(box.y1)) : int(box.y2) + 1, max(0, int(box.x1)) : int(box.x2) + 1] = 0
        found = cv2.HoughLinesP(
            mask,
            1,
            np.pi / 180,
            threshold=20,
            minLineLength=max(10, height // 40),
            maxLineGap=max(5, height // 60),
        )
        if found is None:
            continue
        segments = [
            (int(x1), int(y1), int(x2), int(y2))
            for x1, y1, x2, y2 in found.reshape(-1, 4)
            if y1 != y2 and abs((y2 - y1) / ((x2 - x1) or 1e-6)) >= MIN_SLOPE
        ]
        for members in _group(segments, height, gap=width * 0.06):
            a, b, y_top, y_bottom = _fit(members)
            span = sum(abs(s[3] - s[1]) for s in members)
            if span < height * 0.08:
                continue
            y_bottom = max(y_bottom, min(height - 1.0, y_bottom + (y_bottom - y_top) * 0.1))
            if not -0.25 * width < a * height + b < 1.25 * width:
                continue  # meets the bottom far outside the frame: not a marking of this road
            coverage = _coverage(mask, a, b, y_top, y_bottom)
            long_enough = y_bottom - y_top >= 0.2 * height
            style: Style = "solid" if coverage >= SOLID_COVERAGE and long_enough else "dashed"
            lines.append(LaneLine(a, b, y_top, y_bottom, colour, style, round(coverage, 3)))
    return Scene(pts, width, height, tuple(lines))
