"""Composited positives on real roads: real vehicles cut out of ../shared/data/images
(cv2.grabCut seeded by the vehicle's box) and placed, scaled for perspective, on the emergency
lane of real road footage — the solidWhiteRight dashcam clip (shoulder right of its edge
line) and both carriageways of the S2 pole-camera clip — moving for 5 s; and the same vehicles
inside the traffic lane next to the edge line as negatives.

    PYTHONPATH=$PWD .venv/bin/python -m benchmarks.composite OUT_DIR

Writes one MP4 per clip, its GPS track (JSON, on the rule data's segment, in the bus lane's
hours), the rules YAML, and ``labels.csv`` in the format ``benchmarks/rules.py --labels``
reads: the truth interval is the vehicle's time in the emergency lane, not the whole clip.
Where each vehicle goes comes from the edge lines labelled by eye (tests/data/scene_labels.json),
never from the finder under test.

No real bus lane (公交专用道) is in any of the real footage here, so no bus-lane positive is
composited: painting a yellow line onto a real road would be a rendered scene, not a real one.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from harness.real_roads import WEDNESDAY_0830_CST, track_on_segment
from harness.scene_labels import LabelledEdge, labelled_frames
from harness.scenes import VEHICLES, rules_config
from workers.frames import ffmpeg_exe

SHARED = Path(__file__).resolve().parents[2] / "shared"
SECONDS, FPS = 5.0, 10.0
ENTER_AT = 1.0
"""Seconds a positive's vehicle drives in the traffic lane before it moves onto the shoulder."""


@dataclass(frozen=True)
class Road:
    """A stretch of real footage and how vehicles are seen on it."""

    name: str
    media: str
    first_frame: int
    source_fps: float
    upscale: float
    """Frames are enlarged by this much (a dashcam clip at 960 px is small for a plate)."""
    horizon: float
    width_per_row: float
    """Vehicle width (px) per row below the horizon, from the lane width seen in the frame."""
    shoulder: str
    rows: tuple[float, float]
    """The vehicle's ground row at the start and at the end of the clip (its motion)."""
    vehicle: str


ROADS = (
    Road("swr", "videos/dev_dashcam_lanes_solidWhiteRight.mp4", 0, 25.0, 2.0, 315, 1.4,
         "right", (440, 465), "sedan_rear"),
    Road("swr_late", "videos/dev_dashcam_lanes_solidWhiteRight.mp4", 80, 25.0, 2.0, 315, 1.4,
         "right", (465, 445), "sedan_rear"),
    Road("s2_far", "roads/cn_expressway_s2_roadside.mp4", 500, 10.0, 1.0, 150, 0.13,
         "right", (500, 330), "sedan_rear"),
    Road("s2_near", "roads/cn_expressway_s2_roadside.mp4", 100, 10.0, 1.0, 150, 0.13,
         "left", (300, 500), "saloon_front"),
    Road("s2_far_late", "roads/cn_expressway_s2_roadside.mp4", 520, 10.0, 1.0, 150, 0.13,
         "right", (480, 300), "saloon_front"),
    Road("s2_near_late", "roads/cn_expressway_s2_roadside.mp4", 560, 10.0, 1.0, 150, 0.13,
         "left", (280, 480), "saloon_front"),
)  # fmt: skip


@cache
def cutout(name: str, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The vehicle's pixels and a 0..1 mask of it: grabCut seeded by its box in the photo."""
    photo, (x1, y1, x2, y2), _ = VEHICLES[name]
    image = cv2.imread(str(data_dir / photo))
    mask = np.zeros(image.shape[:2], np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(image, mask, (x1, y1, x2 - x1, y2 - y1), background, foreground, 4,
                cv2.GC_INIT_WITH_RECT)  # fmt: skip
    keep = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 1.0, 0.0)
    keep = cv2.GaussianBlur(keep, (5, 5), 0)
    return image[y1:y2, x1:x2].copy(), keep[y1:y2, x1:x2].astype(np.float32)


def _edge(road: Road) -> LabelledEdge:
    """The labelled edge line on the road's shoulder side, from the labelled frame nearest the
    stretch's first frame."""
    media = (SHARED / "data" / road.media).resolve()
    frames = [f for f in labelled_frames() if f.media == media and f.frame is not None]
    nearest = min(frames, key=lambda f: abs((f.frame or 0) - road.first_frame))
    return next(e for e in nearest.edges if e.shoulder == road.shoulder)


def _place(
    road: Road, edge: LabelledEdge, t: float, on_shoulder: bool
) -> tuple[float, float, float]:
    """Ground point (x, y) and width of the vehicle at time t, in source pixels."""
    y = road.rows[0] + (road.rows[1] - road.rows[0]) * t / SECONDS
    width = road.width_per_row * (y - road.horizon)
    sign = 1.0 if road.shoulder == "right" else -1.0
    inside = -(0.5 + 0.45) * width  # centred in the traffic lane next to the edge line
    beyond = 0.6 * width  # wheels clear of the line, on the shoulder
    if not on_shoulder:
        offset = inside
    else:
        share = min(1.0, max(0.0, (t - ENTER_AT) / 1.5))  # a lane change takes 1.5 s
        offset = inside + (beyond - inside) * share
    return edge.x_at(y) + sign * offset, y, width


def _paste(frame: np.ndarray, sprite: np.ndarray, alpha: np.ndarray, x: float, y: float,
           width: float) -> None:  # fmt: skip
    scale = width / sprite.shape[1]
    image = cv2.resize(sprite, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(alpha, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)
    left, top = int(x - image.shape[1] / 2), int(y - image.shape[0])
    h, w = frame.shape[:2]
    l0, t0, r0, b0 = max(left, 0), max(top, 0), min(left + image.shape[1], w), min(y, h)
    if r0 <= l0 or b0 <= t0:
        return
    part = mask[t0 - top : int(b0) - top, l0 - left : r0 - left, None]
    region = frame[t0 : int(b0), l0:r0].astype(np.float32)
    pasted = image[t0 - top : int(b0) - top, l0 - left : r0 - left].astype(np.float32)
    frame[t0 : int(b0), l0:r0] = (part * pasted + (1 - part) * region).astype(np.uint8)


def composite(road: Road, on_shoulder: bool, out: Path, data_dir: Path) -> tuple[float, float]:
    """Write the clip; return the interval (s) the vehicle's ground point is on the shoulder."""
    edge = _edge(road)
    sprite, alpha = cutout(road.vehicle, data_dir)
    capture = cv2.VideoCapture(str(data_dir / road.media))
    capture.set(cv2.CAP_PROP_POS_FRAMES, road.first_frame)
    ok, first = capture.read()
    if not ok:
        raise FileNotFoundError(road.media)
    height, width = (int(v * road.upscale) for v in first.shape[:2])
    proc = subprocess.Popen(
        [
            *(ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"),
            *("-s", f"{width}x{height}", "-r", str(FPS), "-i", "-", "-c:v", "libx264"),
            *("-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(out)),
        ],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    inside: list[float] = []
    frame = first
    for i in range(int(SECONDS * FPS)):
        t = i / FPS
        wanted = road.first_frame + int(t * road.source_fps)
        while capture.get(cv2.CAP_PROP_POS_FRAMES) <= wanted:
            ok, image = capture.read()
            if not ok:
                break
            frame = image
        x, y, w = _place(road, edge, t, on_shoulder)
        if (x - edge.x_at(y)) * (1 if road.shoulder == "right" else -1) > 0.5 * w:
            inside.append(t)
        big = cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)
        s = road.upscale
        _paste(big, sprite, alpha, x * s, y * s, w * s)
        proc.stdin.write(big.tobytes())
    capture.release()
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg could not encode {out.name}")
    track = [
        {"time": p.at.isoformat(), "lat": p.latitude, "lon": p.longitude}
        for p in track_on_segment(SECONDS, WEDNESDAY_0830_CST)
    ]
    out.with_suffix(".json").write_text(json.dumps(track))
    return (min(inside), max(inside)) if inside else (0.0, 0.0)


def generate(folder: Path, data_dir: Path = SHARED / "data") -> Path:
    """Every composited clip with its track, the rules YAML and labels.csv; returns the CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    config = rules_config(folder)
    labels = folder / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "rule", "t_start", "t_end", "track", "config"])
        for road in ROADS:
            for positive in (True, False):
                name = f"{road.name}_{'shoulder' if positive else 'lane'}.mp4"
                t0, t1 = composite(road, positive, folder / name, data_dir)
                rule = "emergency_lane" if positive else ""
                times = [f"{t0:.1f}", f"{t1:.1f}"] if positive else ["", ""]
                track = Path(name).with_suffix(".json").name
                writer.writerow([name, rule, *times, track, config.name])
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the clips and labels.csv")
    args = parser.parse_args()
    print(generate(args.out))


if __name__ == "__main__":
    main()
