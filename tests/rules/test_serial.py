"""Clip facts survive the trip to facts.json and back exactly, so replayed findings are the
same findings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from models.types import Box
from rules import ClipFacts, TrackFacts, evaluate
from rules.config import book_from
from rules.facts import LaneLine, Point, Scene
from rules.serial import FactsError, facts_from_data, facts_to_data, finding_to_data

START = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
ROAD = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[114.0, 22.5], [114.0, 22.6]]},
            "properties": {"name": "G4"},
        }
    ],
}


def _facts() -> ClipFacts:
    edge = LaneLine(0.9, 700.0, 600.0, 1079.0, "white", "solid", 0.91)
    samples = tuple((t / 5, Box(1500.0 + t, 700.0, 1800.0 + t, 1000.3)) for t in range(20))
    return ClipFacts(
        "video",
        1920,
        1080,
        (TrackFacts(3, "car", samples, "粤B6R678", 4, 1), TrackFacts(-1, "bus", (), None)),
        {pts: Scene(pts, 1920, 1080, (edge,)) for pts, _ in samples},
        START,
        tuple(Point(START + timedelta(seconds=s), 22.55, 114.0, 20.0) for s in range(5)),
        "emergency_lane",
        {0.2: "公交专用"},
    )


def test_facts_round_trip_through_json_exactly() -> None:
    facts = _facts()
    data = json.loads(json.dumps(facts_to_data(facts), ensure_ascii=False))
    assert facts_from_data(data) == facts


def test_replayed_facts_give_the_same_findings() -> None:
    book = book_from({"expressways": ROAD}, "inline")
    facts = _facts()
    found = [finding_to_data(f) for f in evaluate(facts, book)]
    assert found and found[0]["rule"] == "emergency_lane@1"
    again = facts_from_data(json.loads(json.dumps(facts_to_data(facts))))
    assert [finding_to_data(f) for f in evaluate(again, book)] == found


def test_malformed_facts_are_a_clear_error() -> None:
    data = facts_to_data(_facts())
    del data["tracks"][0]["samples"]
    with pytest.raises(FactsError, match="not clip facts"):
        facts_from_data(data)
