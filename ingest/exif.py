"""Time and place from a photo's EXIF (Pillow), each with the source it came from.

A camera's own clock is rarely set well (the shared sample photos' clocks are a day off their GPS
time), so the GPS receiver's UTC date and time stamp wins; then the capture time with the
offset the camera recorded; last the camera's clock, read in the zone of the photo's place (or a
configured zone), and marked ``camera_clock`` with the zone assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from numbers import Rational
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ingest.timebounds import plausible
from ingest.xmp import read_xmp

GPS_IFD, EXIF_IFD = 0x8825, 0x8769
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, DATETIME, OFFSET_TIME = 0x9003, 0x9011, 0x0132, 0x9010
DATETIME_DIGITIZED, OFFSET_TIME_DIGITIZED = 0x9004, 0x9012
SUBSEC_ORIGINAL, SUBSEC_DIGITIZED = 0x9291, 0x9292
CAPTURE_TIMES = (
    (DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, SUBSEC_ORIGINAL),
    (DATETIME_DIGITIZED, OFFSET_TIME_DIGITIZED, SUBSEC_DIGITIZED),
)
"""Capture times, best first. IFD0's DateTime is not one: it is when the file was last
changed (the shared Nikon photos': nine days after capture, by the transfer software)."""
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4
GPS_TIME, GPS_STATUS, GPS_DATE = 7, 9, 29
GPS_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
"""A GPS date stamp before this is a placeholder (phones write 1970:01:01 for a position
without a GPS time) or an old receiver's week-number rollover, not a capture time."""
DEFAULT_ZONE = "Asia/Shanghai"
"""The zone a camera clock is read in when the photo has no place to look one up."""

TimeSource = Literal["gps", "exif_offset", "camera_clock"]


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    taken_at: datetime | None
    latitude: float | None
    longitude: float | None
    time_source: TimeSource | None = None
    """``gps`` (GPS date and time stamp, UTC), ``exif_offset`` (capture time with the offset
    the camera recorded) or ``camera_clock`` (capture time read in ``time_zone``)."""
    time_zone: str | None = None
    """The zone assumed for a ``camera_clock`` time: the place's (looked up) or the default."""
    place_source: Literal["gps"] | None = None


def _degrees(value: Any, ref: Any, refs: tuple[str, str]) -> float | None:
    """Degrees from the three rationals (degrees, minutes, seconds) and their reference, or
    None when the tag is not what the standard says: a missing or unknown reference (no
    hemisphere is guessed), a text, a negative value (unsigned by the standard: a sign and a
    reference together would be read twice) or minutes or seconds of 60 or more."""
    hemisphere = _text(ref).upper() if ref is not None else ""
    if hemisphere not in refs or not isinstance(value, tuple | list) or len(value) != 3:
        return None
    if not all(isinstance(v, int | float | Rational) and not isinstance(v, bool) for v in value):
        return None
    d, m, s = float(value[0]), _part(value[1]), _part(value[2])
    if not all(math.isfinite(v) and v >= 0 for v in (d, m, s)) or m >= 60 or s >= 60:
        return None
    degrees = d + m / 60 + s / 3600
    return -degrees if hemisphere == refs[1] else degrees


def _part(value: Any) -> float:
    """A minutes or seconds rational; 0/0 is 0 (writers put it where the part is not used:
    minutes with decimals, seconds of a whole-second stamp), any other x/0 is not a number."""
    if isinstance(value, Rational) and value.denominator == 0 and value.numerator == 0:
        return 0.0
    return float(value)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip("\x00 ")


def _gps_place(gps: dict[int, Any]) -> tuple[float, float] | None:
    if GPS_LAT not in gps or GPS_LON not in gps or _text(gps.get(GPS_STATUS, "A")) == "V":
        return None  # a receiver's "measurement void" is no place
    try:
        latitude = _degrees(gps[GPS_LAT], gps.get(GPS_LAT_REF), ("N", "S"))
        longitude = _degrees(gps[GPS_LON], gps.get(GPS_LON_REF), ("E", "W"))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or latitude == longitude == 0:
        return None
    return latitude, longitude


def gps_stamp(gps: dict[int, Any]) -> datetime | None:
    """The GPS date and time stamp: UTC by the EXIF standard. A time without its date is not
    used (the camera's date is its local clock's, and may be days off)."""
    if GPS_DATE not in gps or GPS_TIME not in gps:
        return None
    try:
        day = datetime.strptime(_text(gps[GPS_DATE]).replace("-", ":"), "%Y:%m:%d")
        stamp_value = gps[GPS_TIME]
        if not isinstance(stamp_value, tuple | list) or len(stamp_value) != 3:
            return None
        hours, minutes, seconds = (_part(v) for v in stamp_value)
        if not all(math.isfinite(v) for v in (hours, minutes, seconds)):
            return None
        if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
            return None
        offset = timedelta(hours=hours, minutes=minutes, seconds=seconds)
        stamp = (day + offset).replace(tzinfo=UTC)
        return stamp if plausible(stamp) and stamp >= GPS_FLOOR else None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None


def _local_time(raw: Any, subsec: Any) -> datetime | None:
    """A capture time (``YYYY:MM:DD HH:MM:SS``, blanks or zeros when unknown) with the
    fraction of a second the camera wrote beside it."""
    try:
        local = datetime.strptime(_text(raw), "%Y:%m:%d %H:%M:%S")
    except (TypeError, ValueError):
        return None
    digits = _text(subsec) if subsec is not None else ""
    if digits.isdigit():
        local = local.replace(microsecond=int(digits[:6].ljust(6, "0")))
    return local


def _offset(raw: Any) -> tzinfo | None:
    """``+08:00`` as the standard writes it, or ``+0800``, ``+08``, ``Z``; blanks are none."""
    text = _text(raw) if raw is not None else ""
    if len(text) == 3 and text[0] in "+-" and text[1:].isdigit():
        text += ":00"
    try:
        return datetime.strptime(text, "%z").tzinfo if text else None
    except (TypeError, ValueError):
        return None


@cache
def _zone_finder() -> Any:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()  # loads its polygons once, on first need


def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA time zone in force at a place (offline lookup), or None at sea."""
    found = _zone_finder().timezone_at(lat=latitude, lng=longitude)
    return str(found) if found else None


def read(path: Path, default_zone: str = DEFAULT_ZONE, gps_time: bool = True) -> PhotoFacts:
    """Capture time and GPS position of a photo, each None when absent or unreadable; with
    ``gps_time=False`` the camera's own capture time even when a GPS time stamp is there (the
    anti-fraud check compares the two)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            packet = im.info.get("xmp")
            exif = im.getexif()
            sub, gps = dict(exif.get_ifd(EXIF_IFD)), dict(exif.get_ifd(GPS_IFD))
    except Exception:  # Pillow raises many types for a broken EXIF block
        return PhotoFacts(None, None, None)
    xmp = read_xmp(packet if isinstance(packet, bytes | str) else None)
    place = _gps_place(gps)
    if place is None and xmp.latitude is not None and xmp.longitude is not None:
        place = xmp.latitude, xmp.longitude  # the same GPS tags, kept in XMP by an editor
    latitude, longitude = place if place else (None, None)
    place_source: Literal["gps"] | None = "gps" if place else None
    stamp = (gps_stamp(gps) or _plausible(xmp.gps_time)) if place and gps_time else None
    if stamp is not None:
        return PhotoFacts(stamp, latitude, longitude, "gps", None, place_source)
    for when, offset, subsec in CAPTURE_TIMES:
        local = _local_time(sub.get(when), sub.get(subsec))
        if local is None:
            continue
        zone = _offset(sub.get(offset))
        if zone is not None:
            if not plausible(local.replace(tzinfo=zone)):
                continue  # a placeholder (0001:01:01) or a forged stamp: no capture time
            return PhotoFacts(
                local.replace(tzinfo=zone), latitude, longitude, "exif_offset", None, place_source
            )
        name = (zone_at(*place) if place else None) or default_zone
        if not plausible(local.replace(tzinfo=ZoneInfo(name))):
            continue
        return PhotoFacts(
            local.replace(tzinfo=ZoneInfo(name)),
            latitude,
            longitude,
            "camera_clock",
            name,
            place_source,
        )
    taken = _plausible(xmp.taken_at)
    if taken is not None and taken.tzinfo is not None:
        return PhotoFacts(taken, latitude, longitude, "exif_offset", None, place_source)
    if taken is not None:
        name = (zone_at(*place) if place else None) or default_zone
        taken = _plausible(taken.replace(tzinfo=ZoneInfo(name)))
        if taken is not None:
            return PhotoFacts(taken, latitude, longitude, "camera_clock", name, place_source)
    return PhotoFacts(None, latitude, longitude, None, None, place_source)


def _plausible(at: datetime | None) -> datetime | None:
    """``at`` when it is a moment from the plausible span (a naive one: its wall time)."""
    if at is None:
        return None
    return at if plausible(at if at.tzinfo else at.replace(tzinfo=UTC)) else None
