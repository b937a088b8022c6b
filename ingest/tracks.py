"""GPS/time tracks: parsed from NMEA 0183 ($GPRMC/$GNRMC), GPX or JSON points, validated, and
looked up at any moment of a clip."""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime
from typing import Any, Literal

from rules.facts import Point as Point
from rules.facts import position_at as position_at

TrackFormat = Literal["nmea", "gpx", "json"]
MAX_POINTS = 20_000
MAX_SPEED_MPS = 100.0  # 360 km/h: above this between two fixes, the track is not a vehicle's
EARTH_RADIUS_M = 6_371_008.8


class TrackError(ValueError):
    """The track cannot be used; the message says which point and why."""


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def parse(data: str, fmt: TrackFormat) -> list[Point]:
    """Parse and validate a track; raises :class:`TrackError`."""
    parsers = {"nmea": _nmea, "gpx": _gpx, "json": _json}
    if fmt not in parsers:
        raise TrackError(f"unknown track format {fmt!r}; use nmea, gpx or json")
    points = parsers[fmt](data)
    validate(points)
    return points


def _nmea(data: str) -> list[Point]:
    import pynmea2

    points = []
    for number, line in enumerate(data.splitlines(), start=1):
        line = line.strip()
        if not line.startswith("$") or line[3:6] != "RMC":
            continue  # other sentences (GGA, GSV...) carry no date; RMC has all we need
        try:
            msg = pynmea2.parse(line, check=True)
        except (pynmea2.ParseError, pynmea2.ChecksumError, ValueError) as exc:
            raise TrackError(f"NMEA line {number}: {exc}") from exc
        if msg.status != "A" or msg.datestamp is None or msg.timestamp is None:
            continue  # a void fix is not a position
        at = datetime.combine(msg.datestamp, msg.timestamp)
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        knots = float(msg.spd_over_grnd) if msg.spd_over_grnd not in (None, "") else None
        points.append(
            Point(
                at,
                float(msg.latitude),
                float(msg.longitude),
                knots * 0.514444 if knots is not None else None,
            )
        )
    return points


def _gpx(data: str) -> list[Point]:
    import gpxpy
    import gpxpy.gpx

    try:
        gpx = gpxpy.parse(data)
    except gpxpy.gpx.GPXException as exc:
        raise TrackError(f"GPX: {exc}") from exc
    points = []
    for track in gpx.tracks:
        for segment in track.segments:
            for p in segment.points:
                if p.time is None:
                    raise TrackError(f"GPX point at {p.latitude},{p.longitude} has no time")
                at = p.time if p.time.tzinfo else p.time.replace(tzinfo=UTC)
                points.append(Point(at.astimezone(UTC), p.latitude, p.longitude, p.speed))
    return points


def _json(data: str | list[dict[str, Any]]) -> list[Point]:
    try:
        raw = json.loads(data) if isinstance(data, str) else data
        points = []
        for i, p in enumerate(raw):
            at = datetime.fromisoformat(str(p["time"]).replace("Z", "+00:00"))
            if at.tzinfo is None:
                raise TrackError(f"point {i}: time {p['time']!r} has no time zone")
            speed = p.get("speed_mps")
            points.append(
                Point(
                    at.astimezone(UTC),
                    float(p["lat"]),
                    float(p["lon"]),
                    float(speed) if speed is not None else None,
                )
            )
    except TrackError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise TrackError(f"JSON track: {exc!r}; expected [{{time, lat, lon, speed_mps?}}]") from exc
    return points


def validate(points: list[Point]) -> None:
    if not points:
        raise TrackError("the track has no valid fix")
    if len(points) > MAX_POINTS:
        raise TrackError(f"the track has {len(points)} points, over {MAX_POINTS}")
    for i, p in enumerate(points):
        if not (-90 <= p.latitude <= 90 and -180 <= p.longitude <= 180):
            raise TrackError(f"point {i}: coordinates {p.latitude},{p.longitude} out of range")
        if p.latitude == 0 and p.longitude == 0:
            raise TrackError(f"point {i}: 0,0 is a receiver without a fix, not a place")
        if p.speed_mps is not None and not 0 <= p.speed_mps <= MAX_SPEED_MPS:
            raise TrackError(f"point {i}: speed {p.speed_mps:.1f} m/s is not plausible")
    for i, (a, b) in enumerate(itertools.pairwise(points), start=1):
        seconds = (b.at - a.at).total_seconds()
        if seconds <= 0:
            raise TrackError(
                f"point {i}: time {b.at.isoformat()} does not follow {a.at.isoformat()}"
            )
        if distance_m(a, b) / seconds > MAX_SPEED_MPS:
            raise TrackError(f"point {i}: a jump of {distance_m(a, b):.0f} m in {seconds:.1f} s")
