"""The span of times that evidence can plausibly carry.

A declared time, a track's fix or a photo's EXIF capture time outside it is not a clock's
reading but a placeholder or an attack (``0001-01-01T00:00:00+14:00`` is not even a UTC
instant Python can hold): it is refused at the boundary, before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
SPAN = f"{EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC)"


def as_utc(at: datetime) -> datetime | None:
    """``at`` (aware) in UTC when it lies in [EARLIEST, LATEST); else None."""
    try:  # a tzinfo may answer an offset of a day or more, which utcoffset() refuses
        if at.tzinfo is None or at.utcoffset() is None:
            return None
        utc = at.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. year 1 at +14:00 is before datetime.min UTC
        return None
    return utc if EARLIEST <= utc < LATEST else None


def plausible(at: datetime) -> bool:
    return as_utc(at) is not None
