"""The rules as pure functions: persistence, exemptions, hours, segments, config errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.scenes import rules_config
from ingest.tracks import Point
from models.types import Box
from rules import ClipFacts, RuleConfigError, TrackFacts, evaluate
from rules.base import runs
from rules.geo import Hours, Segment
from workers.rule_files import load_rules
from workers.scene import LaneLine, Scene

WEDNESDAY_0830_CST = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
ON_ROAD = (22.60, 113.90)
RIGHT = Box(900, 300, 1000, 400)  # ground point right of the lines below
CENTRE = Box(590, 300, 690, 400)


def _scene(pts: float, colour: str) -> Scene:
    line = LaneLine(1.0, 400.0, 200.0, 720.0, colour, "solid", 1.0)  # type: ignore[arg-type]
    return Scene(pts, 1280, 720, (line,))


def _facts(
    kind: str,
    boxes: dict[float, Box],
    colour: str = "white",
    start: datetime = WEDNESDAY_0830_CST,
    where: tuple[float, float] = ON_ROAD,
) -> ClipFacts:
    times = sorted(boxes)
    return ClipFacts(
        "video",
        1280,
        720,
        (TrackFacts(1, kind, tuple((t, boxes[t]) for t in times), "粤B12345", 3),),
        {t: _scene(t, colour) for t in times},
        start,
        tuple(Point(start + timedelta(seconds=s), *where) for s in (0, 5, 10)),
    )


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> object:
    return load_rules(rules_config(tmp_path_factory.mktemp("rules")))


def _ids(facts: ClipFacts, book: object) -> list[str]:
    return [f.rule for f in evaluate(facts, book)]  # type: ignore[arg-type]


def test_runs_need_the_condition_to_persist() -> None:
    samples = [(i * 0.2, RIGHT) for i in range(20)]
    assert runs(samples, lambda t, b: 1.0 <= t <= 3.0, 1.5, 1.0) == [(1.0, 3.0)]
    assert runs(samples, lambda t, b: abs(t - 2.0) < 0.01, 0.0001, 1.0) == []  # one frame
    gappy = [(0.0, RIGHT), (0.5, RIGHT), (2.5, RIGHT), (3.0, RIGHT)]
    assert runs(gappy, lambda t, b: True, 1.0, 1.0) == []  # a 2 s hole breaks it


def test_emergency_lane_needs_time_beyond_the_edge_on_an_expressway(book: object) -> None:
    steady = {i * 0.5: RIGHT for i in range(8)}
    assert _ids(_facts("car", steady), book) == ["emergency_lane@1"]
    one_frame = {i * 0.5: (RIGHT if i == 4 else CENTRE) for i in range(8)}
    assert _ids(_facts("car", one_frame), book) == []
    assert _ids(_facts("car", steady, where=(23.1, 114.4)), book) == []  # not an expressway


def test_bus_lane_spares_buses_and_holds_only_in_signed_hours(book: object) -> None:
    steady = {i * 0.5: RIGHT for i in range(8)}
    assert _ids(_facts("car", steady, "yellow"), book) == ["bus_lane@1"]
    assert _ids(_facts("bus", steady, "yellow"), book) == []
    noon = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    assert _ids(_facts("car", steady, "yellow", start=noon), book) == []
    saturday = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
    assert _ids(_facts("car", steady, "yellow", start=saturday), book) == []


def test_covered_plate_needs_a_close_vehicle_never_read(book: object) -> None:
    close = Box(400, 300, 800, 650)
    track = TrackFacts(4, "car", tuple((i * 0.5, close) for i in range(8)), None, 0, 5)
    facts = ClipFacts("video", 1280, 720, (track,))
    found = evaluate(facts, book)  # type: ignore[arg-type]
    assert [f.rule for f in found] == ["covered_plate@1"]
    assert "found 5 time(s) but never read" in found[0].explanation
    far = TrackFacts(4, "car", tuple((i * 0.5, Box(600, 300, 640, 330)) for i in range(8)))
    assert evaluate(ClipFacts("video", 1280, 720, (far,)), book) == []  # type: ignore[arg-type]
    read = TrackFacts(4, "car", track.samples, "粤B12345", 4)
    assert evaluate(ClipFacts("video", 1280, 720, (read,)), book) == []  # type: ignore[arg-type]


def test_hours_parse_and_hold() -> None:
    h = Hours.parse("Mon-Fri 07:00-09:00")
    assert h.holds(datetime(2026, 11, 25, 8, 59)) and not h.holds(datetime(2026, 11, 25, 9, 0))
    assert not h.holds(datetime(2026, 11, 29, 8, 0))  # Sunday
    assert Hours.parse("Sat-Sun 10:00-12:00").days == frozenset({5, 6})
    for bad in ("weekdays 7-9", "Mon-Fri 09:00-07:00", "Mon-Fry 07:00-09:00", "Mon 25:00-26:00"):
        with pytest.raises(ValueError):
            Hours.parse(bad)


def test_segment_distance() -> None:
    road = Segment("north", ((113.90, 22.59), (113.90, 22.65)))
    assert road.distance_m(22.60, 113.90) < 0.01
    assert 95 < road.distance_m(22.60, 113.90097) < 105  # ~100 m east
    assert 1100 < road.distance_m(22.66, 113.90) < 1120  # 0.01 deg beyond its end


def _write(folder: Path, yaml_text: str, **files: str) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text)
    path = folder / "rules.yaml"
    path.write_text(yaml_text)
    return path


LINE = '{"type": "LineString", "coordinates": [[113.9, 22.59], [113.9, 22.65]]}'


@pytest.mark.parametrize(
    ("yaml_text", "files", "names"),
    [
        ("rules:\n  bus_lane: {min_secs: 2}\n", {}, ["rules.yaml", "rules.bus_lane.min_secs"]),
        ("speed_limit: 3\n", {}, ["rules.yaml", "speed_limit"]),
        ("timezone: Mars/Olympus\n", {}, ["rules.yaml", "timezone"]),
        (
            "expressways: e.geojson\n",
            {
                "e.geojson": '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                '"geometry": {"type": "LineString", "coordinates": [[113.9, 22.59]]}, '
                '"properties": {"name": "x"}}]}'
            },
            ["e.geojson", "features.0.geometry.coordinates"],
        ),
        (
            "expressways: e.geojson\n",
            {"e.geojson": "{not json"},
            ["e.geojson", "not JSON"],
        ),
        (
            "bus_lanes: b.geojson\n",
            {
                "b.geojson": '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                f'"geometry": {LINE}, "properties": {{"name": "x", "hours": ["7-9 weekdays"]}}}}]}}'
            },
            ["b.geojson", "features.0.properties.hours"],
        ),
        ("bus_lanes: missing.geojson\n", {}, ["missing.geojson", "bus_lanes"]),
    ],
)
def test_config_errors_name_the_file_and_field(
    tmp_path: Path, yaml_text: str, files: dict[str, str], names: list[str]
) -> None:
    path = _write(tmp_path, yaml_text, **files)
    with pytest.raises(RuleConfigError) as caught:
        load_rules(path)
    for name in names:
        assert name in str(caught.value)


def test_a_bus_its_plate_does_not_back_gets_no_exemption(book: object) -> None:
    steady = {i * 0.5: RIGHT for i in range(8)}
    facts = _facts("bus", steady, "yellow")
    unconfirmed = replace(facts, tracks=(replace(facts.tracks[0], kind_confirmed=False),))
    assert _ids(unconfirmed, book) == ["bus_lane@1"]
    [finding] = evaluate(unconfirmed, book)  # type: ignore[arg-type]
    assert "class not confirmed by its plate" in finding.explanation
