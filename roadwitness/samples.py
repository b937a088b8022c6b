"""Sample media for the demo, from the real files in ``../shared/data`` (never copied here).

No real Chinese road video with a readable plate is available, so two video samples are made at
run time: a 1080p H.264 camera pan over a real CCPD photo, so real plate pixels go through the
real video path (decode, sampling, tracking by time, clip trimming); and a dashcam clip of a
real vehicle composited onto the emergency lane of the real solidWhiteRight highway footage
(``roadwitness.composite``), sent with its GPS track and clip start as a dashcam would.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from roadwitness.composite import (
    CUTOUTS,
    INSIDE,
    ON_SHOULDER,
    SWR,
    WEDNESDAY_0830_CST,
    Drive,
    expressway_rules,
    track,
    write_clip,
)
from rules.facts import Point
from workers.frames import H264, run_ffmpeg

PAN_PHOTO = "images/dev_vehicle_014.jpg"


@dataclass(frozen=True, slots=True)
class Sample:
    path: Path
    plate: str | None
    """The labelled plate, when the sample has one."""


def labelled_photos(data_dir: Path) -> list[Sample]:
    with (data_dir / "labels.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "vehicle_image"]
    return [Sample(data_dir / r["file"], r["plate_text"]) for r in rows]


def label_of(data_dir: Path, relative: str) -> str | None:
    with (data_dir / "labels.csv").open(encoding="utf-8") as fh:
        return next((r["plate_text"] for r in csv.DictReader(fh) if r["file"] == relative), None)


def make_pan_video(photo: Path, out: Path, seconds: float = 6.0) -> Path:
    """A 1920x1080 30 fps H.264 clip panning down over ``photo`` (made once, then reused)."""
    if out.is_file() and out.stat().st_size > 0:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    vf = (
        f"scale=-2:1400,pad=1920:1400:(ow-iw)/2:0:color=0x303030,"
        f"crop=1920:1080:0:'(ih-oh)*t/{seconds}',format=yuv420p"
    )
    tmp = out.with_suffix(".part.mp4")
    run_ffmpeg(
        "-loop", "1", "-i", str(photo), "-t", f"{seconds}", "-r", "30", "-vf", vf, *H264, str(tmp)
    )
    tmp.replace(out)
    return out


def demo_samples(data_dir: Path, work_dir: Path) -> list[Sample]:
    """The real labelled vehicle photos, the pan video made from one, and a real dashcam clip."""
    pan = make_pan_video(data_dir / PAN_PHOTO, work_dir / "samples" / "pan_dev_vehicle_014.mp4")
    samples = labelled_photos(data_dir)
    samples.append(Sample(pan, label_of(data_dir, PAN_PHOTO)))
    dashcam = data_dir / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
    if dashcam.is_file():
        samples.append(Sample(dashcam, None))
    return samples


EMERGENCY_DRIVE = Drive("sedan_rear", 0, (440.0, 465.0), (INSIDE, ON_SHOULDER))
"""The demo's dashcam clip: the driving-school saloon ahead moves from the traffic lane onto the
emergency lane after 1 s and stays there (in it from 2.5 s to the end, 6 s)."""


@dataclass(frozen=True, slots=True)
class DashcamSample:
    """A composited dashcam clip with what a dashcam sends beside it, and its truth."""

    path: Path
    plate: str | None
    clip_start: datetime
    track: tuple[Point, ...]
    rules: Path
    """Rule data naming the track's road an expressway."""
    rule: str
    """The rule a correct system finds on it."""
    in_lane: tuple[float, float]
    """Seconds of the clip in which the vehicle is in the emergency lane."""


def emergency_lane_sample(data_dir: Path, work_dir: Path) -> DashcamSample:
    """The composited emergency-lane clip (made at run time from ../shared/data), its GPS track on
    an expressway, its clip start (a weekday morning) and the rule data."""
    folder = work_dir / "samples"
    clip = folder / "dashcam_emergency_lane.mp4"
    in_lane = write_clip(SWR, EMERGENCY_DRIVE, clip, data_dir)
    assert in_lane is not None
    photo, _ = CUTOUTS[EMERGENCY_DRIVE.vehicle]
    return DashcamSample(
        clip,
        label_of(data_dir, photo),
        WEDNESDAY_0830_CST,
        track(EMERGENCY_DRIVE.seconds, WEDNESDAY_0830_CST),
        expressway_rules(folder / "demo_rules.yaml"),
        "emergency_lane@1",
        in_lane,
    )
