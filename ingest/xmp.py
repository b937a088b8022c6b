"""Time and place from a photo's XMP packet, for photos whose EXIF lacks them (phone editors
and some apps keep GPS and capture time only in XMP): the same EXIF tags in XMP's spelling.

Read with regular expressions over the packet's text, never an XML parser: the packet is the
sender's bytes, and only these few simple values are wanted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from ingest.timebounds import as_utc

MAX_PACKET = 1 << 20
"""A packet is a few kB; a photo is refused by the media checks long before a larger one."""

_COORDINATE = re.compile(r"^(\d{1,3}),(\d{1,2}(?:\.\d+)?)(?:,(\d{1,2}(?:\.\d+)?))?([NSEW])$")


@dataclass(frozen=True, slots=True)
class XmpFacts:
    latitude: float | None = None
    longitude: float | None = None
    gps_time: datetime | None = None
    """``exif:GPSTimeStamp``: date and time, UTC."""
    taken_at: datetime | None = None
    """``exif:DateTimeOriginal``, else ``xmp:CreateDate`` or ``photoshop:DateCreated``: with
    an offset when the writer gave one, else naive (the camera's clock)."""


def _value(packet: str, name: str) -> str | None:
    """The property as an attribute (``exif:GPSLatitude="…"``) or an element."""
    found = re.search(rf'{name}\s*=\s*"([^"<>]{{0,64}})"', packet) or re.search(
        rf"<{name}>([^<]{{0,64}})</{name}>", packet
    )
    return found.group(1).strip() if found else None


def _coordinate(text: str | None, refs: str, limit: float) -> float | None:
    """``DDD,MM,SSk`` or ``DDD,MM.mmk`` (XMP's spelling of the EXIF GPS coordinate)."""
    match = _COORDINATE.match(text or "")
    if match is None or match.group(4) not in refs:
        return None
    degrees, minutes = float(match.group(1)), float(match.group(2))
    seconds = float(match.group(3) or 0)
    if minutes >= 60 or seconds >= 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(value) or value > limit:
        return None
    return -value if match.group(4) == refs[1] else value


def _when(text: str | None) -> datetime | None:
    """An ISO 8601 date and time; a date alone (``photoshop:DateCreated`` often) is none."""
    if not text or "T" not in text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def read_xmp(raw: bytes | str | None) -> XmpFacts:
    """What the packet says; every field None when it says nothing usable."""
    if not raw:
        return XmpFacts()
    packet = raw[:MAX_PACKET]
    text = packet.decode("utf-8", "replace") if isinstance(packet, bytes) else packet
    latitude = _coordinate(_value(text, "exif:GPSLatitude"), "NS", 90)
    longitude = _coordinate(_value(text, "exif:GPSLongitude"), "EW", 180)
    if latitude is None or longitude is None or latitude == longitude == 0:
        latitude = longitude = None
    stamp = _when(_value(text, "exif:GPSTimeStamp"))
    gps_time = as_utc(stamp) if stamp and stamp.tzinfo else None  # year 1 at +14:00: none
    if gps_time is not None and gps_time.year < 2000:
        gps_time = None  # a placeholder, as in EXIF (ingest.exif.GPS_FLOOR)
    names = ("exif:DateTimeOriginal", "xmp:CreateDate", "photoshop:DateCreated")
    taken = next((t for t in (_when(_value(text, n)) for n in names) if t is not None), None)
    return XmpFacts(latitude, longitude, gps_time, taken)
