"""Signs that media was edited. Each is a flag with its explanation for the officer, never a
rejection: a real camera can drop a frame, a phone can have its clock wrong.

- ``spliced@1``: the picture changes at once between two consecutive frames, as at a cut (a
  dashcam or a roadside camera films continuously; a sudden change of the whole picture is an
  edit), or presentation times jump or step back;
- ``duplicated_frames@1``: a run of identical frames (or repeated presentation times) in a clip
  that otherwise moves, or a burned-in clock that stops for longer than a whole number of
  seconds (``workers.clock``: this also sees repeats in a clip whose picture often stands
  still, where a run of identical frames says nothing);
- ``editing_software@1``: the file names an editing program (EXIF Software, encoder tag);
- ``container_mismatch@1``: a registered dashcam's clip was written by a transcoder or editor,
  or not by the recorder its model is configured with;
- ``exif_gps_time@1``: the photo's EXIF capture time and its GPS (UTC) time disagree;
- ``place_mismatch@1``: the photo's GPS place is far from the place its report declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from ingest.tracks import Point, distance_m
from workers.clock import find_clock, stops
from workers.fingerprint import dct_hash
from workers.scan import Scan

SPLICED = "spliced@1"
DUPLICATED = "duplicated_frames@1"
EDITING_SOFTWARE = "editing_software@1"
CONTAINER_MISMATCH = "container_mismatch@1"
EXIF_GPS_TIME = "exif_gps_time@1"
PLACE_MISMATCH = "place_mismatch@1"

CUT_BITS = 18
"""Consecutive frames whose hashes differ by this many bits of 64 show different pictures
(consecutive frames of a real clip differ by at most 16 in the dev footage)."""
CUT_OVER_USUAL = 4
"""...and by this many more than the clip's own 99th percentile, so a noisy clip is judged
against itself."""
STILL_LEVEL = 0.3
"""Mean grey-level difference under which two consecutive thumbnails are the same frame."""
DUPLICATE_RUN = 4
"""This many identical frames in a row is a duplicated frame, not a pause in the traffic..."""
STILL_SHARE = 0.05
"""...unless more than this share of the rest of the clip is still anyway (a screen recording,
a parked camera at night): such a clip says nothing either way."""
PTS_JUMP = 3.0
"""A gap between frames of this many times the usual interval (and over 0.2 s) is a jump."""
EDITORS = (
    "adobe",
    "premiere",
    "after effects",
    "photoshop",
    "lightroom",
    "final cut",
    "imovie",
    "capcut",
    "剪映",
    "inshot",
    "kinemaster",
    "davinci",
    "shotcut",
    "openshot",
    "kdenlive",
    "gimp",
    "snapseed",
    "meitu",
    "美图",
    "picsart",
    "vsco",
    "pixelmator",
)
MAX_RUNS = 2
"""More runs than this in one clip is a camera that often shows a still picture."""
TRANSCODERS = ("lavf", "handbrake", "ffmpeg", "libav")


@dataclass(frozen=True, slots=True)
class Sign:
    kind: str
    reason: str
    data: dict[str, Any]

    def flag(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, **self.data}


def _cuts(scan: Scan) -> list[Sign]:
    if len(scan.thumbs) < 3:
        return []
    hashes = np.array([dct_hash(t) for t in scan.thumbs], dtype=np.uint64)
    jumps = np.bitwise_count(hashes[1:] ^ hashes[:-1]).astype(np.int32)
    usual = float(np.percentile(jumps, 99))
    at = np.nonzero((jumps >= CUT_BITS) & (jumps >= usual + CUT_OVER_USUAL))[0]
    if not len(at):
        return []
    times = [round(scan.times[i + 1], 2) for i in at.tolist()[:5]]
    return [
        Sign(
            SPLICED,
            f"the whole picture changes between two frames at {times} s (a cut)",
            {"at_s": times, "bits": int(jumps[at].max())},
        )
    ]


def _timing(scan: Scan) -> list[Sign]:
    if len(scan.times) < 3:
        return []
    gaps = np.diff(np.asarray(scan.times))
    usual = float(np.median(gaps))
    signs = []
    repeated = np.nonzero(gaps <= 1e-6)[0]
    if len(repeated):
        at = [round(scan.times[i + 1], 2) for i in repeated.tolist()[:5]]
        signs.append(Sign(DUPLICATED, f"presentation times repeat at {at} s", {"at_s": at}))
    jumps = np.nonzero((gaps > PTS_JUMP * usual) & (gaps > 0.2))[0]
    backwards = np.nonzero(gaps < 0)[0]
    if len(jumps) or len(backwards):
        at = [round(scan.times[i + 1], 2) for i in np.concatenate([jumps, backwards]).tolist()]
        signs.append(
            Sign(
                SPLICED,
                f"presentation times jump or step back at {at[:5]} s (usual step {usual:.3f} s)",
                {"at_s": at[:5]},
            )
        )
    return signs


def _duplicates(scan: Scan) -> list[Sign]:
    if len(scan.thumbs) < DUPLICATE_RUN + 2:
        return []
    thumbs = np.asarray(scan.thumbs, dtype=np.float32)
    still = np.abs(np.diff(thumbs, axis=0)).mean(axis=(1, 2)) < STILL_LEVEL
    runs, length, start, in_runs = [], 0, 0, 0
    for i, s in enumerate([*still.tolist(), False]):
        if s:
            start, length = (i if length == 0 else start), length + 1
        elif length:
            if length + 1 >= DUPLICATE_RUN:
                runs.append((round(scan.times[start], 2), length + 1))
                in_runs += length
            length = 0
    # a clip that stands still often, or much of the time besides the runs, says nothing
    if not runs or len(runs) > MAX_RUNS or (still.sum() - in_runs) > STILL_SHARE * len(still):
        return []
    return [
        Sign(
            DUPLICATED,
            f"{runs[0][1]} identical frames in a row at {runs[0][0]} s in a moving clip",
            {"runs": [{"at_s": t, "frames": n} for t, n in runs[:5]]},
        )
    ]


def _clock_stops(scan: Scan) -> list[Sign]:
    clock = find_clock(scan.caption_changes, scan.times)
    found = stops(clock) if clock else []
    if clock is None or not found:
        return []
    first = found[0]
    return [
        Sign(
            DUPLICATED,
            f"the clock printed on the picture stands still for {first.gap_s} s of video at "
            f"{first.at_s} s, not a whole number of its {clock.beat_s:.2f} s beat "
            "(frames repeated)",
            {
                "clock_stops": [{"at_s": s.at_s, "gap_s": s.gap_s} for s in found[:5]],
                "beat_s": round(clock.beat_s, 3),
            },
        )
    ]


def video_signs(scan: Scan) -> list[Sign]:
    """Splices and duplicated frames, from a scan of every frame."""
    if scan.kind != "video":
        return []
    signs = _cuts(scan) + _timing(scan) + _duplicates(scan) + _clock_stops(scan)
    merged: dict[str, Sign] = {}
    for sign in signs:  # one flag per kind, the first explanation with the others' times
        merged.setdefault(sign.kind, sign)
    return list(merged.values())


def software_signs(
    tags: dict[str, str], device_model: str | None, expected: dict[str, list[str]]
) -> list[Sign]:
    """An editing program named in the file; for a registered dashcam, a file its recorder
    did not write. ``expected``: device model -> substrings of the tags its recorder writes."""
    written = " ".join(f"{k}={v}" for k, v in sorted(tags.items())).lower()
    signs = []
    editor = next((e for e in EDITORS if e in written), None)
    if editor is not None:
        signs.append(
            Sign(EDITING_SOFTWARE, f"the file names editing software ({editor})", {"tool": editor})
        )
    if device_model is None:
        return signs
    tool = editor or next((t for t in TRANSCODERS if t in written), None)
    wanted = expected.get(device_model)
    if tool is not None:
        reason = f"a {device_model} dashcam's clip was written by {tool}, not by its recorder"
        signs.append(Sign(CONTAINER_MISMATCH, reason, {"tool": tool}))
    elif wanted and not any(w.lower() in written for w in wanted):
        reason = f"the container is not what a {device_model} writes ({', '.join(wanted)})"
        signs.append(Sign(CONTAINER_MISMATCH, reason, {"expected": wanted}))
    return signs


def photo_signs(
    exif_time: datetime | None,
    gps_time: datetime | None,
    tolerance_s: float,
    photo_place: tuple[float, float] | None,
    declared_place: tuple[float, float] | None,
    max_km: float,
) -> list[Sign]:
    """EXIF time against GPS time; the photo's GPS place against the declared place."""
    signs = []
    if exif_time is not None and gps_time is not None:
        apart = abs((exif_time - gps_time).total_seconds())
        if apart > tolerance_s:
            signs.append(
                Sign(
                    EXIF_GPS_TIME,
                    f"EXIF time {exif_time.isoformat()} and GPS time {gps_time.isoformat()} "
                    f"are {apart:.0f} s apart",
                    {"seconds": round(apart)},
                )
            )
    if photo_place is not None and declared_place is not None:
        when = exif_time or gps_time or datetime.now().astimezone()
        km = distance_m(Point(when, *photo_place), Point(when, *declared_place)) / 1000
        if km > max_km:
            signs.append(
                Sign(
                    PLACE_MISMATCH,
                    f"the photo was taken {km:.1f} km from the place the report declares",
                    {"distance_km": round(km, 1)},
                )
            )
    return signs
