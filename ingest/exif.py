"""Time and place from a photo's EXIF (Pillow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

GPS_IFD, EXIF_IFD = 0x8825, 0x8769
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, DATETIME = 0x9003, 0x9011, 0x0132
CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    taken_at: datetime | None
    latitude: float | None
    longitude: float | None


def _degrees(value: tuple[float, float, float], ref: str) -> float:
    d, m, s = (float(v) for v in value)
    degrees = d + m / 60 + s / 3600
    return -degrees if ref in ("S", "W") else degrees


def read(path: Path) -> PhotoFacts:
    """EXIF capture time (local time with its offset, or China time when none is recorded)
    and GPS position; each None when absent or unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            exif = im.getexif()
    except Exception:
        return PhotoFacts(None, None, None)
    taken_at = None
    sub = exif.get_ifd(EXIF_IFD)
    raw = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if raw:
        try:
            local = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            offset = sub.get(OFFSET_TIME_ORIGINAL)
            zone = datetime.strptime(offset, "%z").tzinfo if offset else CHINA
            taken_at = local.replace(tzinfo=zone)
        except ValueError:
            taken_at = None
    gps = exif.get_ifd(GPS_IFD)
    latitude = longitude = None
    try:
        if 2 in gps and 4 in gps:
            latitude = _degrees(gps[2], gps.get(1, "N"))
            longitude = _degrees(gps[4], gps.get(3, "E"))
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                latitude = longitude = None
    except (TypeError, ValueError, ZeroDivisionError):
        latitude = longitude = None
    return PhotoFacts(taken_at, latitude, longitude)
