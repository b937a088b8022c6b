"""Composited evidence on real roads, made at run time from ``../shared/data`` (never stored in
the repository): a real vehicle cut out of a photo (cv2.grabCut seeded by its box) and driven,
scaled for perspective, over real road footage. The demo's emergency-lane clip is made here, and
so is every clip of the benchmark's composited set (``benchmarks/composite.py``).

Where a vehicle goes comes from solid edge lines labelled by eye on the footage (the same values
as ``tests/data/scene_labels.json``, which a test checks), never from the lane finder under
test. Only the vehicle is generated: every pixel around it is the real footage's.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from rules.facts import Point
from workers.frames import ffmpeg_exe

Side = Literal["left", "right"]
XY = tuple[float, float]

CUTOUTS: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "sedan_rear": ("images/dev_vehicle_004.jpg", (0, 70, 689, 605)),
    "saloon_front": ("images/dev_vehicle_002.jpg", (67, 56, 611, 422)),
    "saloon_rear": ("images/dev_vehicle_015.jpg", (0, 40, 640, 600)),
    "minibus_rear": ("images/dev_vehicle_005.jpg", (105, 55, 390, 330)),
}
"""Real vehicles (photo under the data folder, the vehicle's box in it): a driving-school saloon
from behind (琼A6716学), a saloon from the front (皖K66666), a saloon from behind (皖AC095Z,
its roof cut by the photo's edge) and a minibus from behind (京EA5331, two-row yellow plate)."""

LANE_CHANGE_S = 1.5
INSIDE = -(0.5 + 0.45)
"""Lateral place, in the vehicle's widths from the edge line, of a vehicle centred in the traffic
lane next to it (negative: the traffic side)."""
ON_SHOULDER = 0.6
"""Wheels clear of the line, on the shoulder."""
BEYOND = 0.5
"""A vehicle counts as in the lane beyond the line once its ground point is this many of its
widths past it (the whole vehicle over the line): the truth interval of a composited clip."""


@dataclass(frozen=True, slots=True)
class KeyEdge:
    """A solid edge line labelled by eye at one frame of the footage (source pixels)."""

    frame: int
    top: XY
    bottom: XY

    def x_at(self, y: float) -> float:
        (x0, y0), (x1, y1) = self.top, self.bottom
        return x0 + (x1 - x0) * (y - y0) / (y1 - y0)


@dataclass(frozen=True)
class Road:
    """A stretch of real footage and how vehicles are seen on it."""

    name: str
    media: str
    """Under the data folder."""
    source_fps: float
    upscale: float
    """Frames are enlarged by this much (a dashcam clip at 960 px is small for a plate)."""
    horizon: float
    width_per_row: float
    """A vehicle's width (px) per row below the horizon, from the lane width seen in the frame."""
    shoulder: Side
    edges: tuple[KeyEdge, ...]
    """The edge line on the shoulder side, labelled at some frames (interpolated between them)."""

    def edge_x(self, frame: float, y: float) -> float:
        """Where the edge line is at row ``y`` of source frame ``frame``."""
        keys = sorted(self.edges, key=lambda e: e.frame)
        if frame <= keys[0].frame or len(keys) == 1:
            return keys[0].x_at(y)
        for a, b in pairwise(keys):
            if frame <= b.frame:
                share = (frame - a.frame) / (b.frame - a.frame)
                return a.x_at(y) + (b.x_at(y) - a.x_at(y)) * share
        return keys[-1].x_at(y)


SWR = Road(
    "swr",
    "videos/dev_dashcam_lanes_solidWhiteRight.mp4",
    25.0,
    2.0,
    315,
    1.4,
    "right",
    (
        KeyEdge(0, (505.0, 320.0), (856.0, 535.0)),
        KeyEdge(40, (505.0, 320.0), (847.0, 535.0)),
        KeyEdge(80, (505.0, 320.0), (828.0, 535.0)),
        KeyEdge(120, (505.0, 320.0), (847.0, 535.0)),
        KeyEdge(160, (508.0, 320.0), (874.0, 535.0)),
        KeyEdge(200, (508.0, 320.0), (870.0, 535.0)),
    ),
)
"""The real US highway dashcam clip: the camera drives in the rightmost lane, the solid white
edge line on its right with a paved shoulder beyond it."""


@dataclass(frozen=True)
class Drive:
    """A vehicle's way over a stretch of road: its ground row at the start and at the end, and its
    lateral place (its own widths from the edge line; positive: beyond it) before and after a lane
    change that starts at ``change_at`` seconds and takes ``LANE_CHANGE_S``."""

    vehicle: str
    first_frame: int
    rows: XY
    lateral: XY
    change_at: float = 1.0
    seconds: float = 6.0


Painter = Callable[[np.ndarray, float], None]
"""Paints on a source frame (BGR, in place) at a source frame index: road markings, road text."""


@cache
def cutout(name: str, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The vehicle's pixels and a 0..1 mask of it: grabCut seeded by its box in the photo."""
    photo, (x1, y1, x2, y2) = CUTOUTS[name]
    image = cv2.imread(str(data_dir / photo))
    if image is None:
        raise FileNotFoundError(data_dir / photo)
    mask = np.zeros(image.shape[:2], np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(image, mask, (x1, y1, x2 - x1, y2 - y1), background, foreground, 4,
                cv2.GC_INIT_WITH_RECT)  # fmt: skip
    keep = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 1.0, 0.0)
    keep = cv2.GaussianBlur(keep, (5, 5), 0)
    return image[y1:y2, x1:x2].copy(), keep[y1:y2, x1:x2].astype(np.float32)


def place(road: Road, drive: Drive, t: float) -> tuple[float, float, float, float]:
    """The vehicle's ground point (x, y), width (source px) and lateral place at time ``t``."""
    y = drive.rows[0] + (drive.rows[1] - drive.rows[0]) * t / drive.seconds
    width = road.width_per_row * (y - road.horizon)
    share = min(1.0, max(0.0, (t - drive.change_at) / LANE_CHANGE_S))
    lateral = drive.lateral[0] + (drive.lateral[1] - drive.lateral[0]) * share
    sign = 1.0 if road.shoulder == "right" else -1.0
    frame = drive.first_frame + t * road.source_fps
    return road.edge_x(frame, y) + sign * lateral * width, y, width, lateral


def paste(frame: np.ndarray, sprite: np.ndarray, alpha: np.ndarray, x: float, y: float,
          width: float) -> None:  # fmt: skip
    """Blend the sprite in with its bottom centre at (x, y), scaled to ``width``."""
    scale = width / sprite.shape[1]
    image = cv2.resize(sprite, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(alpha, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)
    left, top = int(x - image.shape[1] / 2), int(y - image.shape[0])
    h, w = frame.shape[:2]
    l0, t0, r0, b0 = max(left, 0), max(top, 0), min(left + image.shape[1], w), min(int(y), h)
    if r0 <= l0 or b0 <= t0:
        return
    part = mask[t0 - top : b0 - top, l0 - left : r0 - left, None]
    region = frame[t0:b0, l0:r0].astype(np.float32)
    pasted = image[t0 - top : b0 - top, l0 - left : r0 - left].astype(np.float32)
    frame[t0:b0, l0:r0] = (part * pasted + (1 - part) * region).astype(np.uint8)


def write_clip(
    road: Road,
    drive: Drive,
    out: Path,
    data_dir: Path,
    paint: Painter | None = None,
    fps: float = 10.0,
) -> tuple[float, float] | None:
    """Write the clip (H.264 MP4, as dashcams record); return the interval (s) in which the
    vehicle is in the lane beyond the edge line, or None if it never is."""
    sprite, alpha = cutout(drive.vehicle, data_dir)
    capture = cv2.VideoCapture(str(data_dir / road.media))
    capture.set(cv2.CAP_PROP_POS_FRAMES, drive.first_frame)
    ok, frame = capture.read()
    if not ok:
        raise FileNotFoundError(f"{data_dir / road.media} frame {drive.first_frame}")
    height, width = (int(v * road.upscale) for v in frame.shape[:2])
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            *(ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"),
            *("-s", f"{width}x{height}", "-r", str(fps), "-i", "-", "-c:v", "libx264"),
            *("-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(out)),
        ],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    inside: list[float] = []
    try:
        for i in range(int(drive.seconds * fps)):
            t = i / fps
            wanted = drive.first_frame + int(t * road.source_fps)
            while capture.get(cv2.CAP_PROP_POS_FRAMES) <= wanted:
                ok, image = capture.read()
                if not ok:
                    break
                frame = image
            source = frame.copy()
            if paint is not None:
                paint(source, drive.first_frame + t * road.source_fps)
            x, y, w, lateral = place(road, drive, t)
            if lateral > BEYOND:
                inside.append(t)
            big = cv2.resize(source, (width, height), interpolation=cv2.INTER_CUBIC)
            s = road.upscale
            paste(big, sprite, alpha, x * s, y * s, w * s)
            proc.stdin.write(big.tobytes())
    finally:
        capture.release()
        proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg could not encode {out.name}")
    return (min(inside), max(inside)) if inside else None


# --- where the clip was taken: a GPS track on an expressway, and the rule data naming it ---

ORIGIN = (22.60, 113.90)
"""lat, lon where the composited drives start (north-west Shenzhen)."""
SPEED = 20.0
"""m/s, driving north."""
WEDNESDAY_0830_CST = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)


def track(seconds: float, start: datetime = WEDNESDAY_0830_CST) -> tuple[Point, ...]:
    """One fix a second from ``start``, driving north from ORIGIN along the rule data's road."""
    lat, lon = ORIGIN
    step = SPEED / 111_320
    return tuple(
        Point(start + timedelta(seconds=i), lat + i * step, lon, SPEED)
        for i in range(int(seconds) + 2)
    )


def track_json(points: tuple[Point, ...]) -> str:
    """The track as a dashcam's JSON log (what ``ingest.tracks.parse`` reads as ``json``)."""
    return json.dumps(
        [{"time": p.at.isoformat(), "lat": p.latitude, "lon": p.longitude} for p in points]
    )


def road_line() -> dict[str, object]:
    """The road north from ORIGIN, as a GeoJSON LineString."""
    lat, lon = ORIGIN
    return {"type": "LineString", "coordinates": [[lon, lat - 0.01], [lon, lat + 0.05]]}


def expressway_rules(path: Path) -> Path:
    """Rule data (YAML, its segment inline) naming the road an expressway; default thresholds."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": road_line(), "properties": {"name": "demo expressway"}}
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "version: demo-expressway\ntimezone: Asia/Shanghai\n"
        f"expressways: {json.dumps(collection)}\n",
        encoding="utf-8",
    )
    return path
