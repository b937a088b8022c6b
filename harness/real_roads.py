"""The real negatives: every clip and still of real roads in ../shared/data/roads and
../shared/data/videos (as far as a frame-by-frame look shows, no vehicle in them is in an
emergency lane or a bus lane), judged with expressway and bus-lane rule data active (the
rendered scenes' segments, harness.scenes.rules_config) and a GPS track on the segment during
the bus lane's signed hours, so the lane rules have every chance to fire.

The GIFs are converted to MP4 (same frames, same timing) because intake takes videos, not GIFs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness.scenes import EGO_SPEED, ORIGIN
from rules.facts import Point
from workers.frames import run_ffmpeg

WEDNESDAY_0830_CST = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
"""Inside the rendered rule data's bus-lane hours (Mon-Fri 07:00-09:00 Asia/Shanghai)."""
MEDIA = (".mp4", ".avi", ".mov", ".jpg", ".jpeg", ".png", ".gif")


@dataclass(frozen=True, slots=True)
class Negative:
    name: str
    path: Path
    """A file intake takes (a GIF's MP4 copy)."""


def negatives(data_dir: Path, folder: Path) -> list[Negative]:
    """The real road media, GIFs converted to MP4 under ``folder``."""
    found = []
    for sub in ("roads", "videos"):
        for path in sorted((data_dir / sub).iterdir()):
            if path.suffix.lower() not in MEDIA:
                continue
            if path.suffix.lower() == ".gif":
                converted = folder / f"{path.stem}.mp4"
                if not converted.exists():
                    run_ffmpeg(
                        "-i", str(path), "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                        "-c:v", "libx264", "-pix_fmt", "yuv420p", str(converted),
                    )  # fmt: skip
                found.append(Negative(path.name, converted))
            else:
                found.append(Negative(path.name, path))
    return found


def track_on_segment(seconds: float, start: datetime = WEDNESDAY_0830_CST) -> tuple[Point, ...]:
    """One fix a second, driving north along the rule data's segment from its origin."""
    lat, lon = ORIGIN
    step = EGO_SPEED / 111_320
    return tuple(
        Point(start + timedelta(seconds=i), lat + i * step, lon, EGO_SPEED)
        for i in range(int(seconds) + 2)
    )
