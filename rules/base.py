"""What the rules see (the clip's facts) and what they say (findings), and the persistence
test they share: a condition counts only when it holds for long enough in video time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.types import Box
from rules.facts import Point, Scene, position_at


@dataclass(frozen=True, slots=True)
class TrackFacts:
    """One vehicle followed through the clip."""

    id: int
    kind: str
    """car, bus, truck or motorcycle, by vote over the sightings."""
    samples: tuple[tuple[float, Box], ...]
    """(video time, box) of every sampled frame it was seen in."""
    plate: str | None = None
    """The voted plate when it was read (plate grammar holds), else None."""
    plate_reads: int = 0
    plates_unread: int = 0
    """Plate regions found on this vehicle that could not be read."""
    kind_confirmed: bool = True
    """False when the plate does not back the class (see workers/vehicles.py): such a vehicle
    gets no class-based exemption."""
    kind_reason: str = ""


@dataclass(frozen=True, slots=True)
class ClipFacts:
    kind: str
    """image or video."""
    width: int
    height: int
    tracks: tuple[TrackFacts, ...]
    scenes: dict[float, Scene] = field(default_factory=dict)
    """The road scene of each sampled frame, by video time."""
    start: datetime | None = None
    """UTC time of the first frame, when known."""
    positions: tuple[Point, ...] = ()
    """The GPS/time track (device track or a photo's EXIF position)."""
    declared: str | None = None
    road_text: dict[float, str] = field(default_factory=dict)
    """Text read on the road beyond the bus-lane line, by video time."""

    def time_at(self, pts: float) -> datetime | None:
        return None if self.start is None else self.start + timedelta(seconds=pts)

    def place_at(self, pts: float) -> Point | None:
        at = self.time_at(pts)
        if at is None or not self.positions:
            return None
        if len(self.positions) == 1:  # a photo's place, or one fix
            return self.positions[0]
        return position_at(list(self.positions), at)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    """Versioned rule id, e.g. ``bus_lane@1``."""
    violation: str
    track_id: int | None
    t_start: float
    t_end: float
    confidence: float
    explanation: str
    plate: str | None = None

    @property
    def t_key(self) -> float:
        """The moment the evidence's 'during' frame shows."""
        return (self.t_start + self.t_end) / 2


def runs(
    samples: Sequence[tuple[float, Box]],
    holds: Callable[[float, Box], bool],
    min_seconds: float,
    max_gap_s: float,
) -> list[tuple[float, float]]:
    """Intervals (video seconds) in which ``holds`` is true for at least ``min_seconds``.

    A sample where it is false ends the interval; so does a gap in the sightings longer than
    ``max_gap_s``. One frame, however clear, spans no time and never makes an interval."""
    found: list[tuple[float, float]] = []
    start: float | None = None
    last: float | None = None
    for pts, box in samples:
        ok = holds(pts, box)
        if ok and start is not None and last is not None and pts - last <= max_gap_s:
            last = pts
            continue
        if start is not None and last is not None and last - start >= min_seconds:
            found.append((start, last))
        start, last = (pts, pts) if ok else (None, None)
    if start is not None and last is not None and last - start >= min_seconds:
        found.append((start, last))
    return found


def scene_at(facts: ClipFacts, pts: float) -> Scene | None:
    return facts.scenes.get(pts)


def sure(duration: float, min_seconds: float, floor: float, full_after: float) -> float:
    """Confidence grows from ``floor`` with how long the condition held, reaching 1 after
    ``full_after`` times ``min_seconds``."""
    return round(min(1.0, floor + (1 - floor) * duration / (full_after * min_seconds)), 3)
