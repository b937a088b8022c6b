"""Road segments (GeoJSON) and signed hours: is a GPS position on a configured segment, and
is a local time within a segment's hours."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

EARTH_RADIUS_M = 6_371_008.8
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = re.compile(
    r"^(?P<d1>[A-Za-z]{3})(?:-(?P<d2>[A-Za-z]{3}))?\s+"
    r"(?P<h1>\d{2}):(?P<m1>\d{2})-(?P<h2>\d{2}):(?P<m2>\d{2})$"
)


@dataclass(frozen=True, slots=True)
class Hours:
    """Days of the week (0 = Monday) and a start-end time of day, e.g. ``Mon-Fri 07:00-09:00``."""

    days: frozenset[int]
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> Hours:
        m = HOURS.match(text.strip())
        if m is None:
            raise ValueError(f"{text!r} is not like 'Mon-Fri 07:00-09:00'")
        d1 = m["d1"].lower()
        d2 = (m["d2"] or m["d1"]).lower()
        if d1 not in DAYS or d2 not in DAYS:
            raise ValueError(f"{text!r}: days are Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        first, last = DAYS.index(d1), DAYS.index(d2)
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        try:
            start = time(int(m["h1"]), int(m["m1"]))
            end = time(int(m["h2"]), int(m["m2"]))
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
        if end <= start:
            raise ValueError(f"{text!r}: the end must be after the start")
        return cls(frozenset(days), start, end)

    def holds(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    line: tuple[tuple[float, float], ...]
    """(lon, lat) vertices, as GeoJSON writes them."""
    hours: tuple[Hours, ...] = ()

    def distance_m(self, lat: float, lon: float) -> float:
        """Distance from a point to the polyline, in a local flat projection (segments are
        short next to the Earth's curvature)."""
        kx = math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(lat))
        ky = math.radians(1) * EARTH_RADIUS_M
        pts = [((x - lon) * kx, (y - lat) * ky) for x, y in self.line]
        best = math.inf
        for (ax, ay), (bx, by) in itertools.pairwise(pts):
            dx, dy = bx - ax, by - ay
            length2 = dx * dx + dy * dy
            f = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
            best = min(best, math.hypot(ax + f * dx, ay + f * dy))
        return best

    def active(self, at: datetime, zone: ZoneInfo) -> bool:
        local = at.astimezone(zone)
        return not self.hours or any(h.holds(local) for h in self.hours)


def nearest(
    segments: tuple[Segment, ...], lat: float, lon: float, within_m: float
) -> Segment | None:
    found = [(s.distance_m(lat, lon), s) for s in segments]
    found = [(d, s) for d, s in found if d <= within_m]
    return min(found, key=lambda x: x[0])[1] if found else None
