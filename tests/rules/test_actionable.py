"""Findings an officer can act on: a lane finding without a plate is counted as unidentified,
not made a case (unless the reporter declared it); a covered plate needs the plate region in
view; a scene with no placeable shoulder gives no lane finding."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from harness.scenes import rules_config
from ingest.tracks import Point
from models.types import Box
from rules import ClipFacts, RuleBook, TrackFacts, evaluate, judge
from rules.facts import Edge, LaneLine, Scene
from workers.rule_files import load_rules

from .test_rules_unit import ON_ROAD, RIGHT, WEDNESDAY_0830_CST

EDGE = LaneLine(1.0, 400.0, 200.0, 720.0, "white", "solid", 1.0)
LEFT_OF_EDGE = Box(360, 300, 460, 400)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> RuleBook:
    return load_rules(rules_config(tmp_path_factory.mktemp("rules")))


def _facts(box: Box, plate: str | None, scene: Scene | None = None, **kw: object) -> ClipFacts:
    times = [i * 0.5 for i in range(8)]
    start = WEDNESDAY_0830_CST
    return ClipFacts(
        "video",
        1280,
        720,
        (TrackFacts(1, "car", tuple((t, box) for t in times), plate, 3 if plate else 0),),
        {t: replace(scene or Scene(t, 1280, 720, (EDGE,)), pts=t) for t in times},
        start,
        tuple(Point(start + timedelta(seconds=s), *ON_ROAD) for s in (0, 5, 10)),
        **kw,  # type: ignore[arg-type]
    )


def test_lane_finding_without_a_plate_is_unidentified_not_a_case(book: RuleBook) -> None:
    verdict = judge(_facts(RIGHT, None), book)
    assert [f.rule for f in verdict.unidentified] == ["emergency_lane@1"]
    assert verdict.cases == []
    read = judge(_facts(RIGHT, "粤B12345"), book)
    assert [f.rule for f in read.cases] == ["emergency_lane@1"] and read.unidentified == []


def test_declared_lane_violation_stays_a_case_without_a_plate(book: RuleBook) -> None:
    verdict = judge(_facts(RIGHT, None, declared="emergency_lane"), book)
    assert [f.rule for f in verdict.cases] == ["emergency_lane@1"]
    assert verdict.unidentified == []


def test_roadside_shoulder_side_is_respected(book: RuleBook) -> None:
    left_edge = LaneLine(-1.0, 900.0, 200.0, 720.0, "white", "solid", 1.0)
    scene = Scene(0.0, 1280, 720, (left_edge,), "roadside", (Edge(left_edge, "left"),))
    # x of the line at the box's foot (y=400) is 500: a box at 360..460 is beyond it on the left
    # (by 0.9 of its width: in the strip along the line, not past it)
    assert [f.rule for f in evaluate(_facts(LEFT_OF_EDGE, "粤B12345", scene), book)] == [
        "emergency_lane@1"
    ]
    assert evaluate(_facts(RIGHT, "粤B12345", scene), book) == []


def test_scene_without_a_placeable_shoulder_gives_no_lane_finding(book: RuleBook) -> None:
    scene = Scene(0.0, 1280, 720, (EDGE,), "roadside", (), "roadside view: no solid edge line")
    verdict = judge(_facts(RIGHT, "粤B12345", scene), book)
    assert verdict.cases == [] and verdict.unidentified == []


def test_covered_plate_needs_the_plate_region_in_view(book: RuleBook) -> None:
    close = Box(400, 300, 800, 650)
    seen = TrackFacts(4, "car", tuple((i * 0.5, close) for i in range(8)), None, 0, 5)
    assert [f.rule for f in evaluate(ClipFacts("video", 1280, 720, (seen,)), book)] == [
        "covered_plate@1"
    ]
    cut = replace(seen, samples=tuple((t, Box(900, 300, 1280, 650)) for t, _ in seen.samples))
    assert evaluate(ClipFacts("video", 1280, 720, (cut,)), book) == []  # cut by the frame edge
    nearer = TrackFacts(5, "truck", tuple((t, Box(350, 450, 850, 700)) for t, _ in seen.samples))
    nearer = replace(nearer, plate="粤B12345", plate_reads=3)
    found = evaluate(ClipFacts("video", 1280, 720, (seen, nearer)), book)
    assert found == []  # its plate region is behind a nearer truck
