"""Lane occupation rules: emergency lane (Shenzhen item 37) and bus lane (item 44).

Both ask the same question of each sampled frame — is the vehicle's ground point beyond a lane
line, on a configured road segment (matched with the GPS track) that is in force at that
moment — and need the answer to hold for ``min_seconds`` of video time."""

from __future__ import annotations

import math
from collections.abc import Callable

from models.types import Box
from rules.base import ClipFacts, Finding, TrackFacts, runs, sure
from rules.config import EmergencyLaneConfig, RuleBook
from rules.facts import SEEN_AHEAD, Edge, Scene, beyond
from rules.geo import Segment, nearest

EMERGENCY_LANE = "emergency_lane@1"
BUS_LANE = "bus_lane@1"


def _occupations(
    facts: ClipFacts,
    book: RuleBook,
    track: TrackFacts,
    config: EmergencyLaneConfig,
    edges_of: Callable[[Scene], tuple[Edge, ...]],
    segments: tuple[Segment, ...],
    timed: bool,
) -> list[tuple[float, float, set[str]]]:
    """Intervals in which ``track`` is beyond the line on a segment, with the segments' names."""
    names: dict[float, str] = {}

    def holds(pts: float, box: Box) -> bool:
        scene = facts.scenes.get(pts)
        if scene is None:
            return False
        # a dashcam's line runs from under the camera and is often hidden ahead by the very
        # vehicle judged; a roadside camera's line is a piece of road that may not go on (the
        # median's line, with the other carriageway beyond and above it)
        ahead = SEEN_AHEAD if scene.view == "roadside" else math.inf
        if not any(
            beyond(e.line, box, config.margin, e.shoulder, config.reach, ahead)
            for e in edges_of(scene)
        ):
            return False
        place, at = facts.place_at(pts), facts.time_at(pts)
        if place is None or at is None:
            return False
        segment = nearest(segments, place.latitude, place.longitude, book.file.segment_buffer_m)
        if segment is None or (timed and not segment.active(at, book.zone)):
            return False
        names[pts] = segment.name
        return True

    return [
        (t0, t1, {n for pts, n in names.items() if t0 <= pts <= t1})
        for t0, t1 in runs(track.samples, holds, config.min_seconds, config.max_gap_s)
    ]


def emergency_lane(facts: ClipFacts, book: RuleBook) -> list[Finding]:
    config = book.rules.emergency_lane
    return [
        Finding(
            EMERGENCY_LANE,
            "emergency_lane",
            track.id,
            t0,
            t1,
            sure(t1 - t0, config.min_seconds, config.confidence_floor, config.full_after),
            f"{track.kind} beyond the solid edge line for {t1 - t0:.1f} s "
            f"({t0:.1f}-{t1:.1f} s of the clip) on expressway {', '.join(sorted(names))}",
            track.plate,
        )
        for track in facts.tracks
        for t0, t1, names in _occupations(
            facts, book, track, config, lambda s: s.shoulders, book.expressways, timed=False
        )
    ]


BUS_LANE_WORDS = ("公交", "专用")


def _bus_edges(scene: Scene) -> tuple[Edge, ...]:
    edge = scene.bus_lane_edge
    return (edge,) if edge is not None else ()


def _road_text(facts: ClipFacts) -> str:
    """Where the bus-lane marking was read on the road: extra evidence for the officer."""
    seen = sorted(
        t for t, text in facts.road_text.items() if any(w in text for w in BUS_LANE_WORDS)
    )
    if not seen:
        return ""
    best = max((facts.road_text[t] for t in seen), key=len)
    return f"; road text '{best}' read in the lane at {', '.join(f'{t:.1f}' for t in seen[:3])} s"


def _class_note(track: TrackFacts, exempt: tuple[str, ...]) -> str:
    """Why an exempt-looking class is not exempt: its plate does not back it."""
    return "class not confirmed by its plate" if track.kind in exempt else "not a bus"


def bus_lane(facts: ClipFacts, book: RuleBook) -> list[Finding]:
    config = book.rules.bus_lane
    marked = _road_text(facts)
    return [
        Finding(
            BUS_LANE,
            "bus_lane",
            track.id,
            t0,
            t1,
            min(
                1.0,
                sure(t1 - t0, config.min_seconds, config.confidence_floor, config.full_after)
                + (config.road_text_bonus if marked else 0.0),
            ),
            f"{track.kind} ({_class_note(track, config.exempt)}) in the bus lane beyond the "
            f"yellow line for {t1 - t0:.1f} s ({t0:.1f}-{t1:.1f} s of the clip) on "
            f"{', '.join(sorted(names))} during its signed hours{marked}",
            track.plate,
        )
        for track in facts.tracks
        if track.kind not in config.exempt or not track.kind_confirmed
        for t0, t1, names in _occupations(
            facts, book, track, config, lambda s: _bus_edges(s), book.bus_lanes, timed=True
        )
    ]
