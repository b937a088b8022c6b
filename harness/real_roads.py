"""The real negatives: every clip and still of real roads in ../shared/data/roads and
../shared/data/videos (as far as a frame-by-frame look shows, no vehicle in them is in an
emergency lane or a bus lane), judged with expressway and bus-lane rule data active (the
rendered scenes' segments, harness.scenes.rules_config) and a GPS track on the segment during
the bus lane's signed hours, so the lane rules have every chance to fire.

The GIFs are converted to MP4 (same frames, same timing) because intake takes videos, not GIFs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from roadwitness.composite import WEDNESDAY_0830_CST as WEDNESDAY_0830_CST
from roadwitness.composite import track
from workers.frames import run_ffmpeg

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


track_on_segment = track
"""One fix a second from a Wednesday 08:30, driving north along the rule data's segment from
its origin (the composited clips' track: the same road, the same rule data)."""
