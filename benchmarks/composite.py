"""Composited positives on real roads, and the same vehicles as negatives (roadwitness/composite.py
makes each clip: real vehicles cut out of ../shared/data/images with grabCut, driven over real
footage, scaled for perspective).

    PYTHONPATH=$PWD .venv/bin/python -m benchmarks.composite OUT_DIR

- **Emergency lane**: on the emergency lane of the solidWhiteRight dashcam clip (shoulder right
  of its edge line) and of both carriageways of the S2 pole-camera clip, moving for 5 s; the same
  vehicles inside the traffic lane next to the edge line as negatives. Judged with expressway
  and bus-lane rule data (harness.scenes.rules_config) and a track on the segment.
- **Bus lane**: no real footage of a bus lane exists here, so one is painted onto the real
  solidWhiteRight frames as China paints it (benchmarks/bus_lane_paint.py: the lane's solid line
  turned yellow, 公交专用 in the lane beyond it, in the road's perspective); cars move in that
  lane for at least 3 s as positives; the same cars in the camera's lane and in the lane left of
  it, a real minibus (yellow plate) in the bus lane, and a car in it outside the signed hours as
  negatives. Judged with bus-lane rule data only (a city road: Mon-Fri 07:00-09:00 and
  17:00-19:00) and default thresholds.

Writes one MP4 per clip, its GPS track (JSON), the rules YAML files, and ``labels.csv`` in the
format ``benchmarks/rules.py --labels`` reads: the truth interval is the vehicle's time in the
lane, not the whole clip. Where each vehicle goes comes from the edge lines labelled by eye
(tests/data/scene_labels.json), never from the finder under test.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from benchmarks.bus_lane_paint import BusLanePaint
from harness.real_roads import WEDNESDAY_0830_CST, track_on_segment
from harness.scene_labels import labelled_frames
from harness.scenes import rules_config
from roadwitness.composite import (
    INSIDE,
    ON_SHOULDER,
    SWR,
    Drive,
    KeyEdge,
    Road,
    Side,
    road_line,
    track,
    track_json,
    write_clip,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
S2 = "roads/cn_expressway_s2_roadside.mp4"
BUS_LANE = 0.9
"""A car in the bus lane: its ground point this many of its widths beyond the yellow line (the
lane is about two car widths wide)."""
LEFT_LANE = INSIDE - 2.0
"""Centred in the lane left of the camera's own (a lane is about two car widths wide)."""
NOON_CST = datetime.fromisoformat("2026-11-25T04:00:00+00:00")
"""A Wednesday, 12:00 in Shenzhen: outside the bus lane's signed hours."""


def s2_road(shoulder: Side) -> Road:
    """A carriageway of the S2 clip with its edge line as labelled (the pole camera barely
    moves: the labels agree within 2 px)."""
    media = (SHARED / "data" / S2).resolve()
    edges = tuple(
        KeyEdge(f.frame or 0, e.top, e.bottom)
        for f in labelled_frames()
        if f.media == media
        for e in f.edges
        if e.shoulder == shoulder
    )
    return Road(f"s2_{shoulder}", S2, 10.0, 1.0, 150, 0.13, shoulder, edges)


def emergency_drives() -> list[tuple[str, Road, Drive]]:
    """Each stretch's positive drive (from the traffic lane onto the shoulder after 1 s)."""
    far, near = s2_road("right"), s2_road("left")
    move = (INSIDE, ON_SHOULDER)
    return [
        ("swr", SWR, Drive("sedan_rear", 0, (440, 465), move, seconds=5.0)),
        ("swr_late", SWR, Drive("sedan_rear", 80, (465, 445), move, seconds=5.0)),
        ("s2_far", far, Drive("sedan_rear", 500, (500, 330), move, seconds=5.0)),
        ("s2_near", near, Drive("saloon_front", 100, (300, 500), move, seconds=5.0)),
        ("s2_far_late", far, Drive("saloon_front", 520, (480, 300), move, seconds=5.0)),
        ("s2_near_late", near, Drive("saloon_front", 560, (280, 480), move, seconds=5.0)),
    ]  # fmt: skip


def bus_lane_drives() -> list[tuple[str, Drive, bool]]:
    """(name, drive, in the bus lane during its hours by a car): on the painted solidWhiteRight."""
    enter, stay = (INSIDE, BUS_LANE), (BUS_LANE, BUS_LANE)
    return [
        ("bus_sedan_enter", Drive("sedan_rear", 0, (440, 465), enter), True),
        ("bus_saloon_enter", Drive("saloon_rear", 60, (455, 435), enter), True),
        ("bus_sedan_stay", Drive("sedan_rear", 60, (470, 445), stay), True),
        ("bus_saloon_stay", Drive("saloon_rear", 0, (430, 455), stay), True),
        ("bus_sedan_own_lane", Drive("sedan_rear", 0, (440, 465), (INSIDE, INSIDE)), False),
        ("bus_saloon_own_lane", Drive("saloon_rear", 60, (455, 435), (INSIDE, INSIDE)), False),
        ("bus_sedan_left_lane", Drive("sedan_rear", 0, (430, 455), (LEFT_LANE,) * 2), False),
        ("bus_saloon_left_lane", Drive("saloon_rear", 60, (445, 430), (LEFT_LANE,) * 2), False),
        ("bus_minibus_in_lane", Drive("minibus_rear", 0, (440, 465), stay), False),
    ]  # fmt: skip


def bus_rules(folder: Path) -> Path:
    """Bus-lane rule data only (a city road with a bus lane, not an expressway), default
    thresholds."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": road_line(),
                "properties": {
                    "name": "composited bus lane",
                    "hours": ["Mon-Fri 07:00-09:00", "Mon-Fri 17:00-19:00"],
                },
            }
        ],
    }
    path = folder / "bus_rules.yaml"
    path.write_text(f"timezone: Asia/Shanghai\nbus_lanes: {json.dumps(collection)}\n")
    return path


def _track(path: Path, seconds: float, start: datetime) -> str:
    path.with_suffix(".json").write_text(track_json(track(seconds, start)))
    return path.with_suffix(".json").name


def generate(folder: Path, data_dir: Path = SHARED / "data") -> Path:
    """Every composited clip with its track, the rules YAML and labels.csv; returns the CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    config, buses = rules_config(folder), bus_rules(folder)
    labels = folder / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "rule", "t_start", "t_end", "track", "config"])
        for name, road, drive in emergency_drives():
            for positive in (True, False):
                clip = folder / f"{name}_{'shoulder' if positive else 'lane'}.mp4"
                way = drive if positive else replace(drive, lateral=(INSIDE, INSIDE))
                interval = write_clip(road, way, clip, data_dir)
                points = track_on_segment(way.seconds, WEDNESDAY_0830_CST)
                clip.with_suffix(".json").write_text(track_json(points))
                times = [f"{t:.1f}" for t in interval] if interval else ["", ""]
                rule = "emergency_lane" if interval else ""
                writer.writerow([clip.name, rule, *times, clip.with_suffix(".json").name,
                                 config.name])  # fmt: skip
        paint = BusLanePaint(SWR)
        for name, drive, positive in bus_lane_drives():
            clip = folder / f"{name}.mp4"
            interval = write_clip(SWR, drive, clip, data_dir, paint)
            times = [f"{t:.1f}" for t in interval] if interval and positive else ["", ""]
            rule = "bus_lane" if positive else ""
            trk = _track(clip, drive.seconds, WEDNESDAY_0830_CST)
            writer.writerow([clip.name, rule, *times, trk, buses.name])
            if name == "bus_sedan_stay":  # the same clip outside the signed hours
                noon = clip.with_name(f"{name}_noon.mp4")
                shutil.copyfile(clip, noon)
                writer.writerow([noon.name, "", "", "", _track(noon, drive.seconds, NOON_CST),
                                 buses.name])  # fmt: skip
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the clips and labels.csv")
    args = parser.parse_args()
    print(generate(args.out))


if __name__ == "__main__":
    main()
