"""Sample media for the demo, from the real files in ``../shared/data`` (never copied here).

No real Chinese road video is available yet, so the demo's video sample is made at set-up time
from a real CCPD photo: a 1080p H.264 camera pan over it, so real plate pixels go through the
real video path (decode, sampling, tracking by time, clip trimming).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

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
