"""A Chinese bus lane painted onto real dashcam footage, as it is painted on the road: the lane's
solid line turned yellow (the real paint's pixels recoloured, so its wear and blur stay real)
and 公交专用 in yellow in the lane beyond it, each character stretched along the lane, the first
nearest, mapped onto the road plane in the footage's perspective and moving with the camera's
car. Only the paint is generated; the road, its light and its traffic are the footage's.

No real footage of a bus lane exists in ../shared/data (its MANIFEST says so), so the bus-lane
positives of the composited set are made this way (benchmarks/composite.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from harness.scenes import text_texture
from roadwitness.composite import Road

TEXT = "公交专用"
VEHICLE_WIDTH_M = 1.8
FOCAL_SHARE = 0.7
"""A dashcam's focal length as a share of the frame width (about 70 degrees across)."""
YELLOW = np.array([40.0, 200.0, 235.0])
"""BGR of fresh yellow road paint in daylight."""


@dataclass(frozen=True)
class BusLanePaint:
    """Paints the bus lane beyond ``road``'s labelled solid line on each source frame."""

    road: Road
    speed_mps: float = 28.0
    """The camera car's speed (a US highway), so the road text comes towards it."""
    text_every_m: float = 50.0
    text_from_m: float = 12.0
    lane_m: tuple[float, float] = (0.5, 3.0)
    """Where the text lies across the lane, metres beyond the line."""
    text_length_m: float = 15.0

    def __call__(self, frame: np.ndarray, index: float) -> None:
        self._recolour_line(frame, index)
        travelled = self.speed_mps * (index / self.road.source_fps)
        offset = travelled % self.text_every_m
        for k in range(4):
            z = self.text_from_m + k * self.text_every_m - offset
            if -self.text_length_m < z < 120.0:
                self._paint_text(frame, index, z)

    def _metres_to_px(self, y: float) -> float:
        """Pixels per metre across the road at row ``y``."""
        return self.road.width_per_row / VEHICLE_WIDTH_M * (y - self.road.horizon)

    def _row(self, z: float, width: int) -> float:
        """The image row of the road ``z`` metres ahead (pinhole camera over a flat road)."""
        focal = FOCAL_SHARE * width
        k = self.road.width_per_row / VEHICLE_WIDTH_M
        return self.road.horizon + focal / (k * z)

    def _ground(self, index: float, lateral: float, z: float, width: int) -> tuple[float, float]:
        y = self._row(z, width)
        sign = 1.0 if self.road.shoulder == "right" else -1.0
        return self.road.edge_x(index, y) + sign * lateral * self._metres_to_px(y), y

    def _recolour_line(self, frame: np.ndarray, index: float) -> None:
        """The line's own paint, found near the labelled line, turned yellow with its lightness."""
        height, width = frame.shape[:2]
        top = int(self.road.horizon) + 3
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, (width // 24) | 1), 1))
        raised = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel).astype(np.float32)
        ys = np.arange(top, height, dtype=np.float32)
        centre = np.array([self.road.edge_x(index, float(y)) for y in ys], np.float32)
        half = np.maximum(4.0, 0.3 * np.array([self._metres_to_px(float(y)) for y in ys]))
        xs = np.arange(width, dtype=np.float32)[None, :]
        band = np.abs(xs - centre[:, None]) <= half[:, None]
        alpha = np.clip((raised[top:] - 12.0) / 25.0, 0.0, 1.0) * band
        lightness = grey[top:].astype(np.float32)[..., None] / 235.0
        yellow = np.clip(YELLOW[None, None, :] * lightness, 0, 255)
        part = frame[top:].astype(np.float32)
        a = alpha[..., None]
        frame[top:] = (part * (1 - a) + yellow * a).astype(np.uint8)

    def _paint_text(self, frame: np.ndarray, index: float, z: float) -> None:
        height, width = frame.shape[:2]
        texture = text_texture(TEXT)
        rows = texture.shape[0]
        near_limit = self.road.horizon + 0.0
        z_min = (
            FOCAL_SHARE
            * width
            / (self.road.width_per_row / VEHICLE_WIDTH_M * (height - 1 - near_limit))
        )
        z0, z1 = max(z, z_min), z + self.text_length_m
        if z1 <= z0:
            return
        # the part of the texture still ahead of the frame's bottom row
        cut = int(rows * (z0 - z) / self.text_length_m)
        a, b = self.lane_m
        src = np.array([[0, rows - cut], [300, rows - cut], [300, 0], [0, 0]], np.float32)
        dst = np.array(
            [
                self._ground(index, a, z0, width),
                self._ground(index, b, z0, width),
                self._ground(index, b, z1, width),
                self._ground(index, a, z1, width),
            ],
            np.float32,
        )
        if self.road.shoulder == "left":
            src = src[[1, 0, 3, 2]]
        warp = cv2.getPerspectiveTransform(src, dst)
        part = texture.copy()
        if cut:
            part[rows - cut :] = 0
        alpha = cv2.warpPerspective(part, warp, (width, height)).astype(np.float32) / 255.0
        alpha = 0.85 * alpha[..., None]
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)[..., None]
        paint = np.clip(YELLOW[None, None, :] * (0.75 + grey / 400.0), 0, 255)
        frame[:] = (frame * (1 - alpha) + paint * alpha).astype(np.uint8)
