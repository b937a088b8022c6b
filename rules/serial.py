"""A clip's facts and the rules' findings as JSON-ready data and back, exactly: what
``facts.json`` holds, so stored facts can be judged again without models or media."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from models.types import Box
from rules.base import ClipFacts, Finding, TrackFacts
from rules.facts import Edge, LaneLine, Point, Scene

FORMAT = "roadwitness.facts/1"


class FactsError(ValueError):
    """The data is not facts this version can judge; the message says what is wrong."""


def _box(box: Box) -> list[float]:
    return [box.x1, box.y1, box.x2, box.y2]


def facts_to_data(facts: ClipFacts) -> dict[str, Any]:
    return {
        "kind": facts.kind,
        "width": facts.width,
        "height": facts.height,
        "start": facts.start.isoformat() if facts.start else None,
        "declared": facts.declared,
        "tracks": [
            {
                "id": t.id,
                "kind": t.kind,
                "plate": t.plate,
                "plate_reads": t.plate_reads,
                "plates_unread": t.plates_unread,
                "kind_confirmed": t.kind_confirmed,
                "kind_reason": t.kind_reason,
                "samples": [[pts, _box(box)] for pts, box in t.samples],
            }
            for t in facts.tracks
        ],
        "scenes": [
            {
                "pts": pts,
                "width": s.width,
                "height": s.height,
                "lines": [asdict(line) for line in s.lines],
                "view": s.view,
                "edges": None
                if s.edges is None
                else [{"line": asdict(e.line), "shoulder": e.shoulder} for e in s.edges],
                "reason": s.reason,
            }
            for pts, s in facts.scenes.items()
        ],
        "positions": [
            {
                "at": p.at.isoformat(),
                "latitude": p.latitude,
                "longitude": p.longitude,
                "speed_mps": p.speed_mps,
            }
            for p in facts.positions
        ],
        "road_text": [[pts, text] for pts, text in facts.road_text.items()],
    }


def facts_from_data(data: dict[str, Any]) -> ClipFacts:
    """The inverse of :func:`facts_to_data`; raises :class:`FactsError` on malformed data."""
    try:
        return ClipFacts(
            data["kind"],
            int(data["width"]),
            int(data["height"]),
            tuple(
                TrackFacts(
                    int(t["id"]),
                    t["kind"],
                    tuple((float(pts), Box(*map(float, box))) for pts, box in t["samples"]),
                    t["plate"],
                    int(t["plate_reads"]),
                    int(t["plates_unread"]),
                    bool(t.get("kind_confirmed", True)),
                    str(t.get("kind_reason", "")),
                )
                for t in data["tracks"]
            ),
            {
                float(s["pts"]): Scene(
                    float(s["pts"]),
                    int(s["width"]),
                    int(s["height"]),
                    tuple(LaneLine(**line) for line in s["lines"]),
                    s.get("view", "dashcam"),
                    None
                    if s.get("edges") is None
                    else tuple(Edge(LaneLine(**e["line"]), e["shoulder"]) for e in s["edges"]),
                    str(s.get("reason", "")),
                )
                for s in data["scenes"]
            },
            datetime.fromisoformat(data["start"]) if data["start"] else None,
            tuple(
                Point(
                    datetime.fromisoformat(p["at"]),
                    float(p["latitude"]),
                    float(p["longitude"]),
                    None if p["speed_mps"] is None else float(p["speed_mps"]),
                )
                for p in data["positions"]
            ),
            data["declared"],
            {float(pts): str(text) for pts, text in data["road_text"]},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FactsError(f"not clip facts: {type(exc).__name__}: {exc}") from None


def finding_to_data(finding: Finding) -> dict[str, Any]:
    return asdict(finding)


def findings_from_data(items: list[dict[str, Any]]) -> list[Finding]:
    try:
        return [Finding(**item) for item in items]
    except TypeError as exc:
        raise FactsError(f"not findings: {exc}") from None
