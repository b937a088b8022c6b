"""GPS/time tracks: parsed from NMEA 0183 (RMC of any talker), GPX or JSON points, cleaned the
way real receivers need (repeated fixes dropped, fixes sorted, void fixes skipped), validated,
and looked up at any moment of a clip."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ingest.nmea import NoDate, read_nmea
from ingest.timebounds import SPAN, as_utc
from rules.facts import Point as Point
from rules.facts import position_at as position_at

TrackFormat = Literal["nmea", "gpx", "json"]
TRACK_FORMATS: tuple[TrackFormat, ...] = ("nmea", "gpx", "json")
MAX_POINTS = 20_000
MAX_RAW_POINTS = 5 * MAX_POINTS
"""Fixes before repeated ones are dropped: a receiver may give each epoch's fix once per
constellation ($GPRMC, $GLRMC, $GNRMC)."""
MAX_TRACK_CHARS = 4_000_000
"""About a day of 1 Hz NMEA with every sentence a receiver emits; more is not one event's."""
MAX_SPEED_MPS = 100.0  # 360 km/h: above this between two fixes, the track is not a vehicle's
MIN_JUMP_WINDOW_S = 1.0
"""Fixes closer in time than this are judged over this window: a receiver's metre of noise
between two fixes 0.3 s apart is not a 3 m/s jump."""
EARTH_RADIUS_M = 6_371_008.8


class TrackError(ValueError):
    """The track cannot be used; the message says which point and why."""


@dataclass(frozen=True, slots=True)
class Track:
    """The fixes kept, in time order, and what was left out and why."""

    points: list[Point]
    dropped: dict[str, int] = field(default_factory=dict)
    """Reason -> fixes left out: ``duplicate`` (a fix repeated at the same time), ``no_time``
    (a GPX point without one) and, for NMEA, the reasons :mod:`ingest.nmea` lists."""
    reordered: int = 0
    """Fixes that came before an earlier time and were sorted into place."""
    ignored: int = 0
    """Lines that are no position fix: other sentences, proprietary sentences, comments."""

    def summary(self) -> dict[str, Any]:
        """What ``roadwitness track inspect --json`` prints."""

        def fix(p: Point) -> dict[str, Any]:
            at = p.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
            return {"time": at, "latitude": p.latitude, "longitude": p.longitude}

        first, last = self.points[0], self.points[-1]
        return {
            "kept": len(self.points),
            "dropped": dict(sorted(self.dropped.items())),
            "reordered": self.reordered,
            "ignored_lines": self.ignored,
            "first": fix(first),
            "last": fix(last),
            "span_s": (last.at - first.at).total_seconds(),
        }


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def parse(data: str, fmt: TrackFormat) -> list[Point]:
    """Parse, clean and validate a track; raises :class:`TrackError`."""
    return read(data, fmt).points


def read(data: str, fmt: TrackFormat) -> Track:
    """Parse, clean and validate a track, with the counts of what was left out."""
    if fmt not in TRACK_FORMATS:
        raise TrackError(f"unknown track format {fmt!r}; use nmea, gpx or json")
    if len(data) > MAX_TRACK_CHARS:
        raise TrackError(f"the track has {len(data)} characters, over {MAX_TRACK_CHARS}")
    dropped: Counter[str] = Counter()
    ignored = 0
    if fmt == "nmea":
        try:
            raw, ignored = read_nmea(data, dropped)
        except NoDate as exc:
            raise TrackError(str(exc)) from None
    elif fmt == "gpx":
        raw = _gpx(data, dropped)
    else:
        raw = _json(data)
    if len(raw) > MAX_RAW_POINTS:
        raise TrackError(f"the track has {len(raw)} points, over {MAX_RAW_POINTS}")
    points, reordered = _in_time_order(raw, dropped)
    if fmt != "json":  # a receiver's own output: its glitches are dropped, counted
        points = _despike(_plausible_speeds(points, dropped), dropped)
    if not points:
        left_out = ", ".join(f"{k} {v}" for k, v in sorted(dropped.items()) if v)
        raise TrackError(
            "the track has no valid fix"
            + (f" (dropped: {left_out})" if left_out else "")
            + (f"; {ignored} other lines or sentences ignored" if fmt == "nmea" else "")
        )
    validate(points)
    return Track(points, {k: v for k, v in dropped.items() if v}, reordered, ignored)


def _plausible_speeds(points: list[Point], dropped: Counter[str]) -> list[Point]:
    kept = []
    for p in points:
        if p.speed_mps is not None and not 0 <= p.speed_mps <= MAX_SPEED_MPS:
            dropped["bad_speed"] += 1
            continue
        kept.append(p)
    return kept


def _step_ok(a: Point, b: Point) -> bool:
    seconds = (b.at - a.at).total_seconds()
    return distance_m(a, b) / max(seconds, MIN_JUMP_WINDOW_S) <= MAX_SPEED_MPS


def _despike(points: list[Point], dropped: Counter[str]) -> list[Point]:
    """Drop a lone fix that jumps away from the fixes on both sides of it while they agree
    (multipath, a receiver's first fix before it settles), counted as ``jump``. A track that
    really leaps (two runs of fixes far apart) is left for :func:`validate` to refuse."""
    kept: list[Point] = []
    for i, p in enumerate(points):
        after = points[i + 1] if i + 1 < len(points) else None
        if kept and not _step_ok(kept[-1], p) and (after is None or _step_ok(kept[-1], after)):
            dropped["jump"] += 1
            continue
        first_astray = (
            not kept
            and after is not None
            and i + 2 < len(points)
            and not _step_ok(p, after)
            and _step_ok(after, points[i + 2])
        )
        if first_astray:
            dropped["jump"] += 1
            continue
        kept.append(p)
    return kept


def _in_time_order(raw: list[Point], dropped: Counter[str]) -> tuple[list[Point], int]:
    """Sort fixes by time (a receiver may emit one late) and keep the first of repeated ones."""
    reordered, latest = 0, None
    for p in raw:
        if latest is not None and p.at < latest:
            reordered += 1
        latest = p.at if latest is None else max(latest, p.at)
    points: list[Point] = []
    for p in sorted(raw, key=lambda p: p.at):
        if points and p.at == points[-1].at:
            dropped["duplicate"] += 1
            continue
        points.append(p)
    return points, reordered


def _gpx(data: str, dropped: Counter[str]) -> list[Point]:
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
                if p.time is None:  # absent, or not a time gpxpy can read
                    dropped["no_time"] += 1
                    continue
                where = f"GPX point at {p.latitude},{p.longitude}"
                try:  # gpxpy keeps an offset of a day or more, which raises on any use
                    p.time.utcoffset()
                except ValueError:
                    raise TrackError(f"{where}: a time zone offset of a day or more") from None
                at = p.time if p.time.tzinfo else p.time.replace(tzinfo=UTC)
                points.append(Point(_utc(at, where), p.latitude, p.longitude, p.speed))
    return points


def _json(data: str) -> list[Point]:
    expected = "expected [{time, lat, lon, speed_mps?}]"
    try:
        raw = json.loads(data)
    except RecursionError:
        raise TrackError(f"JSON track: nested too deeply; {expected}") from None
    except ValueError as exc:
        raise TrackError(f"JSON track: {exc}; {expected}") from exc
    if not isinstance(raw, list):
        raise TrackError(f"JSON track: not a list; {expected}")
    points = []
    for i, p in enumerate(raw):
        if not isinstance(p, dict):
            raise TrackError(f"point {i}: not an object; {expected}")
        try:
            at = datetime.fromisoformat(str(p["time"]).replace("Z", "+00:00"))
            speed = p.get("speed_mps")
            point = Point(
                at, _finite(p["lat"]), _finite(p["lon"]), None if speed is None else _finite(speed)
            )
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            raise TrackError(f"point {i}: {exc!r}; {expected}") from exc
        if at.tzinfo is None:
            raise TrackError(f"point {i}: time {p['time']!r} has no time zone")
        utc = _utc(at, f"point {i}")
        points.append(Point(utc, point.latitude, point.longitude, point.speed_mps))
    return points


def _utc(at: datetime, where: str) -> datetime:
    """The fix's time in UTC; a time outside the plausible span is refused (year 1 at +14:00
    is not even an instant Python can hold in UTC)."""
    utc = as_utc(at)
    if utc is None:
        raise TrackError(f"{where}: time {at.isoformat()} is not from {SPAN}")
    return utc


_DECIMAL = re.compile(
    r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?:inf|infinity|nan)",
    re.ASCII | re.IGNORECASE,
)
"""A number in a JSON string: ``float`` alone also reads ``"2_2.5"`` (22.5), other scripts'
digits and surrounding white space."""


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{value!r} is not a number")
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError(f"{value!r} is not a decimal number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def validate(points: list[Point]) -> None:
    """Points in strictly increasing time, on Earth, at a vehicle's speed."""
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
        if distance_m(a, b) / max(seconds, MIN_JUMP_WINDOW_S) > MAX_SPEED_MPS:
            raise TrackError(f"point {i}: a jump of {distance_m(a, b):.0f} m in {seconds:.1f} s")
