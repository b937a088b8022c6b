"""How many of the vehicles counted by eye on the S2 expressway clip the pipeline tracks.

    PYTHONPATH=$PWD .venv/bin/python -m benchmarks.s2_tracking [--fps F] [--from S] [--to S]
        [--json OUT]

Runs the real recognition (``workers.recognise.analyse``: detector, motion proposals on a still
camera, ByteTrack, plates, scene) over ``../shared/data/roads/cn_expressway_s2_roadside.mp4`` at
the default sampling rate and matches its tracks with ``tests/data/s2_vehicles.json``. A counted
vehicle is tracked when some track, not already given to another counted vehicle, has at least
``MIN_SIGHTINGS`` sightings within the vehicle's time span (``SLACK`` s either side) with its
box centre on the vehicle's carriageway side of the frame (left of ``DIVIDE`` x width: the
carriageway coming towards the camera). Tracks matched to no counted vehicle are listed too:
a vehicle the count missed, or a false track.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.media import probe
from models.registry import VEHICLE_DETECTORS, ModelSet
from models.types import Vehicle
from settings.features import RulesSettings
from workers.frames import Frame, iter_frames
from workers.proposals import RoadsideDetector
from workers.recognise import analyse

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "data" / "s2_vehicles.json"
MODELS = ROOT.parent / "shared" / "models"
DIVIDE = 0.46
"""The median strip's x, as a share of the width (the red flower bed, nearly vertical)."""
SLACK = 0.5
MIN_SIGHTINGS = 2


@dataclass(frozen=True, slots=True)
class Counted:
    what: str
    carriageway: str
    t0: float
    t1: float


def counted(path: Path = LABELS) -> tuple[Path, list[Counted]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    media = (path.parent.parent.parent / data["media"]).resolve()
    return media, [
        Counted(v["what"], v["carriageway"], float(v["seconds"][0]), float(v["seconds"][1]))
        for v in data["vehicles"]
    ]


def _side(vehicle: Vehicle, width: int) -> str:
    return "left" if vehicle.box.centre[0] < DIVIDE * width else "right"


def match(
    sightings: dict[int, list[tuple[float, Vehicle]]], vehicles: list[Counted], width: int
) -> dict[int, int]:
    """Counted vehicle index -> track id, one track per vehicle, the longest-seen first."""
    taken: set[int] = set()
    found: dict[int, int] = {}
    for n, v in enumerate(vehicles):
        seen = {
            track: sum(
                1
                for pts, vehicle in samples
                if v.t0 - SLACK <= pts <= v.t1 + SLACK and _side(vehicle, width) == v.carriageway
            )
            for track, samples in sightings.items()
            if track not in taken
        }
        best = max(seen, key=lambda t: seen[t], default=None)
        if best is not None and seen[best] >= MIN_SIGHTINGS:
            found[n] = best
            taken.add(best)
    return found


def _window(frames: Iterator[Frame], start: float, end: float | None) -> Iterator[Frame]:
    for frame in frames:
        if frame.pts < start:
            continue
        if end is not None and frame.pts > end:
            return
        yield frame


def measure(
    models: ModelSet,
    fps: float = RulesSettings().sample_fps,
    start: float = 0.0,
    end: float | None = None,
    labels: Path = LABELS,
) -> dict[str, Any]:
    """Counted vs tracked on the clip (or the part from ``start`` to ``end`` seconds: only the
    counted vehicles whose span lies in it count)."""
    media, vehicles = counted(labels)
    vehicles = [v for v in vehicles if v.t0 >= start and (end is None or v.t1 <= end)]
    info = probe(media)
    roadside = RoadsideDetector(models)
    began = time.perf_counter()
    frames = _window(iter_frames(media, info, fps, 10_000), start, end)
    analysis = analyse(models, frames, fps=fps, roadside=roadside)
    seconds = time.perf_counter() - began
    found = match(analysis.sightings, vehicles, analysis.width)
    used = set(found.values())
    return {
        "media": media.name,
        "fps": fps,
        "from_s": start,
        "to_s": end,
        "counted": len(vehicles),
        "tracked": len(found),
        "share": round(len(found) / len(vehicles), 3) if vehicles else 0.0,
        "vehicles": [
            {"what": v.what, "carriageway": v.carriageway, "seconds": [v.t0, v.t1]}
            | {"track": found.get(n)}
            for n, v in enumerate(vehicles)
        ],
        "other_tracks": [
            {
                "track": t,
                "seconds": [samples[0][0], samples[-1][0]],
                "sightings": len(samples),
                "first_box": samples[0][1].box.as_list(),
            }
            for t, samples in sorted(analysis.sightings.items())
            if t not in used
        ],
        "frames": analysis.frames,
        "static_frames": roadside.static_frames,
        "proposed_vehicles": roadside.proposed,
        "crop_calls": roadside.crop_calls,
        "proposal_ms_per_frame": round(1000 * roadside.seconds / max(1, roadside.frames), 1),
        "crop_ms_per_frame": round(1000 * roadside.crop_seconds / max(1, roadside.frames), 1),
        "pipeline_ms_per_frame": round(1000 * seconds / max(1, analysis.frames), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=RulesSettings().sample_fps)
    parser.add_argument("--from", dest="start", type=float, default=0.0)
    parser.add_argument("--to", dest="end", type=float, default=None)
    parser.add_argument("--models", type=Path, default=MODELS)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--detector", default="yolov8n_onnx", choices=sorted(VEHICLE_DETECTORS))
    args = parser.parse_args()
    result = measure(ModelSet(args.models, detector=args.detector), args.fps, args.start, args.end)
    for v in result["vehicles"]:
        mark = f"track {v['track']}" if v["track"] is not None else "NOT TRACKED"
        print(f"  {v['seconds']} {v['carriageway']:5} {v['what']:26} {mark}")
    print(
        f"counted {result['counted']}, tracked {result['tracked']} ({result['share']:.0%}); "
        f"{len(result['other_tracks'])} other track(s); proposals "
        f"{result['proposal_ms_per_frame']} ms/frame (crops {result['crop_ms_per_frame']}), "
        f"pipeline "
        f"{result['pipeline_ms_per_frame']} ms/frame"
    )
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
