"""A photo's time and place, from real camera photos with GPS EXIF and real photos given EXIF."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ingest import exif
from ingest.submissions import Declared, whereabouts
from tests.conftest import DATA_DIR
from tests.tracks import START

PLAIN = DATA_DIR / "images" / "dev_vehicle_008.jpg"


@pytest.mark.parametrize(
    "name,taken_at,latitude,longitude",
    [  # as ../shared/data/gps/MANIFEST.md gives them (the camera's own clock is a day off)
        (
            "photo_gps_DSCN0010.jpg",
            "2008-10-23T14:27:07.240000+00:00",
            (43, 28, 2.814),
            (11, 53, 6.456),
        ),
        (
            "photo_gps_DSCN0021.jpg",
            "2008-10-23T14:36:47.230000+00:00",
            (43, 28, 1.494),
            (11, 53, 4.338),
        ),
    ],
)
def test_real_camera_photos_get_their_gps_time_and_place(
    name: str, taken_at: str, latitude: tuple[float, ...], longitude: tuple[float, ...]
) -> None:
    photo = DATA_DIR / "gps" / name
    facts = exif.read(photo)
    assert facts.taken_at is not None and facts.taken_at.isoformat() == taken_at
    assert (facts.time_source, facts.place_source) == ("gps", "gps")
    assert facts.latitude == pytest.approx(latitude[0] + latitude[1] / 60 + latitude[2] / 3600)
    assert facts.longitude == pytest.approx(longitude[0] + longitude[1] / 60 + longitude[2] / 3600)
    where = whereabouts(photo, "image", Declared(latitude=22.5, longitude=114.0, taken_at=START))
    assert (where.time_source, where.place_source) == ("gps", "gps")
    assert where.clip_start == facts.taken_at and where.latitude == facts.latitude
    assert [p.source for p in where.points] == ["gps"]


def _with_exif(out: Path, original: str | None, offset: str | None, gps: dict[int, Any]) -> Path:
    """A real photo given EXIF written by Pillow: a capture time, its offset, GPS tags."""
    with Image.open(PLAIN) as im:
        data = im.getexif()
        if original:
            data.get_ifd(exif.EXIF_IFD)[exif.DATETIME_ORIGINAL] = original
        if offset:
            data.get_ifd(exif.EXIF_IFD)[exif.OFFSET_TIME_ORIGINAL] = offset
        data.get_ifd(exif.GPS_IFD).update(gps)
        im.save(out, exif=data)
    return out


SHENZHEN = {1: "N", 2: (22.0, 32.0, 35.16), 3: "E", 4: (114.0, 3.0, 28.44)}
SIENA = {1: "N", 2: (43.0, 28.0, 2.814), 3: "E", 4: (11.0, 53.0, 6.456)}


def test_capture_time_with_its_recorded_offset(tmp_path: Path) -> None:
    photo = _with_exif(tmp_path / "a.jpg", "2026:11:23 08:30:05", "+08:00", SHENZHEN)
    facts = exif.read(photo)
    assert facts.taken_at is not None and facts.taken_at.isoformat() == "2026-11-23T08:30:05+08:00"
    assert (facts.time_source, facts.place_source, facts.time_zone) == ("exif_offset", "gps", None)
    assert facts.latitude == pytest.approx(22.5431, abs=1e-4)
    assert facts.longitude == pytest.approx(114.0579, abs=1e-4)
    where = whereabouts(photo, "image", Declared(latitude=1.0, longitude=2.0))
    assert (where.time_source, where.place_source) == ("exif_offset", "gps")


def test_camera_clock_is_read_in_the_zone_of_the_place(tmp_path: Path) -> None:
    photo = _with_exif(tmp_path / "b.jpg", "2008:10:22 16:28:39", None, SIENA)
    facts = exif.read(photo)
    assert (facts.time_source, facts.time_zone) == ("camera_clock", "Europe/Rome")
    assert facts.taken_at is not None
    assert facts.taken_at.astimezone(UTC) == datetime(2008, 10, 22, 14, 28, 39, tzinfo=UTC)
    where = whereabouts(photo, "image", Declared())
    assert (where.time_source, where.time_zone, where.place_source) == (
        "camera_clock",
        "Europe/Rome",
        "gps",
    )


def test_camera_clock_without_a_place_uses_the_configured_zone(tmp_path: Path) -> None:
    photo = _with_exif(tmp_path / "c.jpg", "2026:11:23 08:30:05", None, {})
    assert exif.read(photo).time_zone == "Asia/Shanghai"
    facts = exif.read(photo, default_zone="Asia/Urumqi")
    assert (facts.time_source, facts.time_zone, facts.place_source) == (
        "camera_clock",
        "Asia/Urumqi",
        None,
    )
    assert facts.taken_at is not None and facts.taken_at.isoformat() == "2026-11-23T08:30:05+06:00"


def test_void_or_broken_gps_is_no_place(tmp_path: Path) -> None:
    void = _with_exif(tmp_path / "d.jpg", None, None, {**SHENZHEN, 9: "V"})
    assert exif.read(void).latitude is None
    zero = _with_exif(tmp_path / "e.jpg", None, None, {2: (0.0, 0.0, 0.0), 4: (0.0, 0.0, 0.0)})
    assert exif.read(zero).place_source is None
    plain = whereabouts(PLAIN, "image", Declared(latitude=22.5, longitude=114.0, taken_at=START))
    assert (plain.time_source, plain.place_source) == ("reporter", "reporter")


@pytest.mark.parametrize(
    "stamp,offset,gps",
    [
        ("0001:01:01 00:00:00", "+14:00", {}),  # before datetime.min in UTC: once a 500
        ("0001:01:01 00:00:00", None, SHENZHEN),  # the camera clock read in Asia/Shanghai
        ("9999:12:31 23:59:59", "-12:00", {}),  # after datetime.max in UTC
        ("1969:12:31 23:59:59", "+00:00", {}),  # before 1970: a reset clock's placeholder
        (None, None, {**SHENZHEN, 29: "2150:01:01", 7: (1.0, 2.0, 3.0)}),  # a GPS stamp
    ],
)
def test_capture_times_out_of_range_are_no_time(
    tmp_path: Path, stamp: str | None, offset: str | None, gps: dict[int, Any]
) -> None:
    facts = exif.read(_with_exif(tmp_path / "f.jpg", stamp, offset, gps))
    assert (facts.taken_at, facts.time_source) == (None, None)
    assert (facts.latitude is not None) == bool(gps)  # the place still counts
