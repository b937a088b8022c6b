from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from ingest import exif
from ingest.submissions import Declared, whereabouts
from ingest.tracks import Point, TrackError, distance_m, parse, position_at
from tests.conftest import DATA_DIR
from tests.tracks import START, drive, gpx, json_track, nmea


@pytest.mark.parametrize("fmt,render", [("nmea", nmea), ("gpx", gpx), ("json", json_track)])
def test_formats_parse_to_the_same_drive(fmt: str, render: object) -> None:
    points = parse(render(drive()), fmt)  # type: ignore[operator]
    assert len(points) == 21 and points[0].at == START
    assert distance_m(points[0], points[-1]) == pytest.approx(300, rel=0.02)
    if fmt == "nmea":
        assert points[3].speed_mps == pytest.approx(15.0, abs=0.1)


def test_position_at_interpolates_and_refuses_gaps() -> None:
    points = parse(json_track(drive()), "json")
    middle = position_at(points, START + timedelta(seconds=2.5))
    assert middle is not None
    assert middle.longitude == pytest.approx((points[2].longitude + points[3].longitude) / 2)
    assert position_at(points, START - timedelta(minutes=1)) is None
    gap = [
        points[0],
        Point(points[0].at + timedelta(seconds=60), points[1].latitude, points[1].longitude),
    ]
    assert position_at(gap, START + timedelta(seconds=30)) is None  # a tunnel: no guess


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda p: [p[1], p[0], *p[2:]], "does not follow"),
        (lambda p: [*p[:5], (p[5][0], p[5][1] + 1.0, p[5][2]), *p[6:]], "jump"),
        (lambda p: [(p[0][0], 95.0, p[0][2]), *p[1:]], "out of range"),
        (lambda p: [(p[0][0], 0.0, 0.0), *p[1:]], "without a fix"),
        (lambda p: [], "no valid fix"),
    ],
)
def test_bad_tracks_say_what_is_wrong(change: object, message: str) -> None:
    with pytest.raises(TrackError, match=message):
        parse(json_track(change(drive())), "json")  # type: ignore[operator]


def test_nmea_checksum_and_void_fixes() -> None:
    lines = nmea(drive(3)).splitlines()
    rmc = lines[1]
    lines[1] = rmc[:-2] + ("00" if rmc[-2:] != "00" else "11")  # a corrupted checksum
    with pytest.raises(TrackError, match="NMEA line 2"):
        parse("\n".join(lines), "nmea")
    with pytest.raises(TrackError, match="no valid fix"):
        parse(nmea(drive(3), status="V"), "nmea")


def _with_gps_exif(src: Path, out: Path) -> Path:
    """A real photo with EXIF time and GPS written by Pillow (no real photo with GPS EXIF is
    available in ../shared/data)."""
    with Image.open(src) as im:
        data = im.getexif()
        data.get_ifd(0x8769)[0x9003] = "2026:11:23 08:30:05"
        data.get_ifd(0x8769)[0x9011] = "+08:00"
        gps = data.get_ifd(0x8825)
        gps.update({1: "N", 2: (22.0, 32.0, 35.16), 3: "E", 4: (114.0, 3.0, 28.44)})
        im.save(out, exif=data)
    return out


def test_photo_exif_time_and_place_with_their_sources(tmp_path: Path) -> None:
    photo = _with_gps_exif(DATA_DIR / "images" / "dev_vehicle_008.jpg", tmp_path / "gps.jpg")
    facts = exif.read(photo)
    assert facts.taken_at is not None and facts.taken_at.isoformat() == "2026-11-23T08:30:05+08:00"
    assert facts.latitude == pytest.approx(22.5431, abs=1e-4)
    assert facts.longitude == pytest.approx(114.0579, abs=1e-4)
    where = whereabouts(photo, "image", Declared(latitude=1.0, longitude=2.0))
    assert (where.time_source, where.place_source) == ("exif", "exif")
    assert [p.source for p in where.points] == ["exif"]
    plain = whereabouts(
        DATA_DIR / "images" / "dev_vehicle_008.jpg",
        "image",
        Declared(latitude=22.5, longitude=114.0, taken_at=START),
    )
    assert (plain.time_source, plain.place_source) == ("reporter", "reporter")


def test_device_track_gives_time_and_place() -> None:
    points = tuple(parse(json_track(drive()), "json"))
    where = whereabouts(
        DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4",
        "video",
        Declared(clip_start=START + timedelta(seconds=4), track=points),
    )
    assert (where.time_source, where.place_source) == ("device_clock", "device_track")
    assert where.longitude == pytest.approx(points[4].longitude)
    assert len(where.points) == 21
