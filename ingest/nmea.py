"""NMEA 0183 logs as real receivers and loggers write them: sentences found wherever they are
(binary packets, NUL padding or another sentence on the same line), checked by their checksum,
and fixes taken from RMC, else GGA or GLL dated by a ZDA or RMC of the same log.

A fix that cannot be used is dropped and counted by reason, never guessed at:

- ``bad_checksum``: the checksum does not match (garbled on the serial line);
- ``no_checksum``: no checksum (a line cut short; RMC must carry one, NMEA 0183 2.0 on);
- ``void``: the receiver says it has no fix (RMC/GLL status ``V``, GGA quality 0, 7 or 8, the
  NMEA 2.3 mode ``N`` not valid, ``M`` manual input or ``S`` simulator) or leaves the time or
  position empty (NMEA 4.1's navigational status is not read: u-blox receivers write ``V``,
  "not provided", beside valid fixes);
- ``bad_time``: a time or date that does not exist (``256199``, ``000000``);
- ``leap_second``: ``23:59:60``, a real UTC second that a timestamp here cannot hold;
- ``bad_position``: not ``ddmm.mmmm``, minutes of 60 or more, beyond 90 / 180 degrees, or 0,0;
- ``bad_speed``: a speed that is not a number of knots.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from rules.facts import Point

KNOTS_TO_MPS = 0.514444
FIX_TYPES = ("RMC", "GGA", "GLL")
WANTED = frozenset((*FIX_TYPES, "ZDA"))
VOID_MODES = frozenset("NMS")  # NMEA 2.3 mode: not valid, manual input, simulator
VOID_QUALITY = frozenset(("0", "7", "8"))  # GGA: no fix, manual input, simulator
HALF_DAY = timedelta(hours=12)

_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_ADDRESS = re.compile(r"^[A-OQ-Z][A-Z0-9]([A-Z]{3})$")  # talker + type; P... is proprietary
_TIME = re.compile(r"^(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$", re.ASCII)
_DATE = re.compile(r"^(\d{2})(\d{2})(\d{2})$", re.ASCII)
_ANGLE = re.compile(r"^(\d{1,3})(\d{2}(?:\.\d{1,10})?)$", re.ASCII)
_NUMBER = re.compile(r"^\d{1,4}(?:\.\d{1,6})?$", re.ASCII)
"""NMEA 0183 is ASCII: ``\\d`` without re.ASCII also takes other scripts' digits."""


class NoDate(ValueError):
    """GGA/GLL fixes and nothing in the log that says which day they are from."""


@dataclass(slots=True)
class _Sentence:
    kind: str
    fields: list[str]
    index: int


def _checked(candidate: str) -> tuple[str, str] | None:
    """(address, body) of a sentence candidate (the text after a ``$``), or None when it is
    not a talker sentence at all."""
    text = _PRINTABLE.match(candidate)
    body = text.group(0) if text else ""
    address = body.partition(",")[0].partition("*")[0]
    match = _ADDRESS.match(address)
    return (match.group(1), body) if match else None


def _checksum(body: str) -> str:
    """``ok``, ``bad_checksum`` or ``no_checksum`` (hex in either case is accepted)."""
    payload, star, given = body.partition("*")
    if not star or len(given) < 2 or not all(c in "0123456789abcdefABCDEF" for c in given[:2]):
        return "no_checksum"
    total = 0
    for char in payload:
        total ^= ord(char)
    return "ok" if f"{total:02X}" == given[:2].upper() else "bad_checksum"


def read_nmea(data: str, dropped: Counter[str]) -> tuple[list[Point], int]:
    """The fixes of a log and the number of lines and sentences that are no fix."""
    sentences: list[_Sentence] = []
    faults: dict[str, Counter[str]] = {kind: Counter() for kind in FIX_TYPES}
    ignored = 0
    for line in data.splitlines():  # CR, LF, CRLF (and form feeds and the like: never NMEA)
        candidates = line.split("$")[1:]
        if not candidates and line.strip("\x00 \t"):
            ignored += 1  # comments, binary packets between sentences
        for candidate in candidates:
            if candidate[2:5] not in WANTED:  # most sentences: GSV, GSA, VTG, $P...
                ignored += 1
                continue
            found = _checked(candidate)
            if found is None:
                ignored += 1  # proprietary $P...RMC, binary that held a '$'
                continue
            kind, body = found
            verdict = _checksum(body)
            if verdict != "ok":
                if kind != "ZDA":
                    faults[kind][verdict] += 1
                continue
            fields = body.partition("*")[0].split(",")
            sentences.append(_Sentence(kind, fields, len(sentences)))
    kind = _fix_kind(sentences)
    points: list[Point] = []
    undated: list[tuple[int, time, float, float]] = []
    for s in sentences:
        if s.kind != kind:
            if s.kind != "ZDA":
                ignored += 1  # the same fixes again in another sentence
            continue
        fix = _fix(s, dropped)
        if fix is None:
            continue
        on, at, latitude, longitude, speed = fix
        if on is None:
            undated.append((s.index, at, latitude, longitude))
        else:
            points.append(Point(datetime.combine(on, at, tzinfo=UTC), latitude, longitude, speed))
    for other in FIX_TYPES if not sentences else (kind,):  # none readable: say what failed
        dropped.update(faults[other])
    if undated:
        points += _dated(undated, _anchors(sentences), kind)
    return points, ignored


def _fix_kind(sentences: list[_Sentence]) -> str:
    """RMC when the log has any (it carries the date and speed), else GGA, else GLL."""
    kinds = {s.kind for s in sentences}
    return next((kind for kind in FIX_TYPES if kind in kinds), "RMC")


def _fix(
    s: _Sentence, dropped: Counter[str]
) -> tuple[date | None, time, float, float, float | None] | None:
    """(date or None, time, latitude, longitude, speed) of one sentence, or None (counted)."""
    f = s.fields + [""] * 14
    on: date | None = None
    speed: float | None = None
    if s.kind == "RMC":
        hhmmss, status, lat, ns, lon, ew, knots, ddmmyy = f[1], f[2], *f[3:8], f[9]
        # f[13], NMEA 4.1's navigational status, is not read: u-blox and others write V
        # ("not provided") in every sentence, valid fixes too
        if status != "A" or f[12][:1] in VOID_MODES:
            dropped["void"] += 1
            return None
        if not (hhmmss and lat and lon and ddmmyy):
            dropped["void"] += 1
            return None
    elif s.kind == "GGA":
        hhmmss, lat, ns, lon, ew, quality = f[1:7]
        if quality in VOID_QUALITY or not (quality and hhmmss and lat and lon):
            dropped["void"] += 1
            return None
        knots = ddmmyy = ""
    else:  # GLL
        lat, ns, lon, ew, hhmmss, status, mode = f[1:8]
        if status != "A" or mode[:1] in VOID_MODES or not (hhmmss and lat and lon):
            dropped["void"] += 1
            return None
        knots = ddmmyy = ""
    t = _TIME.match(hhmmss)
    if t is None:
        dropped["bad_time"] += 1
        return None
    hour, minute, second = (int(v) for v in t.groups()[:3])
    if second == 60 and hour == 23 and minute == 59:
        dropped["leap_second"] += 1
        return None
    if hour > 23 or minute > 59 or second > 59:
        dropped["bad_time"] += 1
        return None
    at = time(hour, minute, second, int((t.group(4) or "0")[:6].ljust(6, "0")))
    if ddmmyy:
        on = _date(ddmmyy)
        if on is None:
            dropped["bad_time"] += 1
            return None
    place = _position(lat, ns, lon, ew)
    if place is None:
        dropped["bad_position"] += 1
        return None
    if knots:
        if not _NUMBER.match(knots):
            dropped["bad_speed"] += 1
            return None
        speed = float(knots) * KNOTS_TO_MPS
    return on, at, place[0], place[1], speed


def _date(ddmmyy: str) -> date | None:
    d = _DATE.match(ddmmyy)
    if d is None:
        return None
    day, month, yy = (int(v) for v in d.groups())
    try:  # a two-digit year; receivers were born after 1980
        return date(2000 + yy if yy < 80 else 1900 + yy, month, day)
    except ValueError:
        return None


def _angle(value: str, limit: int) -> float | None:
    match = _ANGLE.match(value)
    if match is None:
        return None
    degrees, minutes = int(match.group(1)), float(match.group(2))
    angle = degrees + minutes / 60
    return angle if minutes < 60 and angle <= limit else None


def _position(lat: str, ns: str, lon: str, ew: str) -> tuple[float, float] | None:
    """Degrees from ``ddmm.mmmm``/``dddmm.mmmm`` and their hemispheres, or None."""
    la, lo = _angle(lat, 90), _angle(lon, 180)
    if la is None or lo is None or ns not in ("N", "S") or ew not in ("E", "W"):
        return None
    if la == 0 and lo == 0:
        return None  # a receiver without a fix that still says A
    return (-la if ns == "S" else la), (-lo if ew == "W" else lo)


def _anchors(sentences: list[_Sentence]) -> list[tuple[int, datetime]]:
    """Moments with a date in the log: every ZDA, and every RMC with a date and time (even a
    void one: its clock is the receiver's)."""
    found = []
    for s in sentences:
        f = s.fields + [""] * 10
        if s.kind == "ZDA":
            on = _zda_date(f[2], f[3], f[4])
        elif s.kind == "RMC":
            on = _date(f[9])
        else:
            continue
        t = _TIME.match(f[1])
        if on is None or t is None:
            continue
        hour, minute, second = (int(v) for v in t.groups()[:3])
        if hour < 24 and minute < 60 and second < 60:
            found.append((s.index, datetime.combine(on, time(hour, minute, second), tzinfo=UTC)))
    return found


def _zda_date(day: str, month: str, year: str) -> date | None:
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _near(at: time, known: datetime) -> datetime:
    """``at`` on the day that puts it within 12 hours of ``known`` (midnight rollover)."""
    moment = datetime.combine(known.date(), at, tzinfo=UTC)
    if moment - known > HALF_DAY:
        return moment - timedelta(days=1)
    if known - moment > HALF_DAY:
        return moment + timedelta(days=1)
    return moment


def _dated(
    undated: list[tuple[int, time, float, float]], anchors: list[tuple[int, datetime]], kind: str
) -> list[Point]:
    """GGA/GLL fixes dated by the nearest dated moment before them in the log (each fix then
    dates the next, across midnight); fixes before the first one are dated backwards from it."""
    if not anchors:
        raise NoDate(
            f"the log's {kind} fixes carry no date and it has no RMC or ZDA sentence "
            "to give one: send the log with its RMC or ZDA sentences"
        )
    dated: list[tuple[int, Point]] = []
    known: datetime | None = None
    next_mark = 0
    for index, at, latitude, longitude in undated:
        while next_mark < len(anchors) and anchors[next_mark][0] < index:
            known = anchors[next_mark][1]
            next_mark += 1
        if known is not None:
            known = _near(at, known)
            dated.append((index, Point(known, latitude, longitude, None)))
    first = anchors[0][1]
    before = [u for u in undated if u[0] < anchors[0][0]]
    for index, at, latitude, longitude in reversed(before):
        first = _near(at, first)
        dated.append((index, Point(first, latitude, longitude, None)))
    return [p for _, p in sorted(dated, key=lambda item: item[0])]
