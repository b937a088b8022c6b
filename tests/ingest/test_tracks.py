from datetime import datetime, timedelta, tzinfo

import pytest

from ingest.submissions import Declared, whereabouts
from ingest.timebounds import as_utc
from ingest.tracks import (
    MAX_POINTS,
    MAX_TRACK_CHARS,
    Point,
    TrackError,
    distance_m,
    parse,
    position_at,
    read,
)
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
        (lambda p: [*p[:5], (p[5][0], p[5][1] + 1.0, p[5][2]), *p[6:]], "jump"),
        (lambda p: [(p[0][0], 95.0, p[0][2]), *p[1:]], "out of range"),
        (lambda p: [(p[0][0], 0.0, 0.0), *p[1:]], "without a fix"),
        (lambda p: [], "no valid fix"),
    ],
)
def test_bad_tracks_say_what_is_wrong(change: object, message: str) -> None:
    with pytest.raises(TrackError, match=message):
        parse(json_track(change(drive())), "json")  # type: ignore[operator]


def test_late_and_repeated_fixes_are_sorted_and_dropped() -> None:
    points = drive()
    shuffled = [points[1], points[0], *points[2:6], points[5], *points[6:]]
    for fmt, render in (("nmea", nmea), ("gpx", gpx), ("json", json_track)):
        track = read(render(shuffled), fmt)  # type: ignore[arg-type]
        assert [p.at for p in track.points] == [at for at, _, _ in points], fmt
        assert (track.reordered, track.dropped) == (1, {"duplicate": 1}), fmt


def _sentence(body: str) -> str:
    """An NMEA sentence with a correct checksum."""
    checksum = 0
    for char in body:
        checksum ^= ord(char)
    return f"${body}*{checksum:02X}"


def test_real_receiver_quirks_are_skipped_not_fatal() -> None:
    lines = nmea(drive(3)).splitlines()
    rmc = lines[3]
    lines[3] = rmc[:-2] + ("00" if rmc[-2:] != "00" else "11")  # garbled on the serial line
    talkers = [
        _sentence(f"{talker}RMC,003006.00,A,2232.5860,N,11403.4740,E,29.2,90.0,231126,,,A")
        for talker in ("GP", "GL", "BD", "GA")
    ]
    extra = [
        "# a comment a logger wrote",
        _sentence("PSRF156,1,2,3"),  # proprietary
        _sentence("GPRMC,,V,,,,,,,,,,N"),  # no fix yet
        *talkers,
    ]
    track = read("\n".join(lines + extra), "nmea")
    assert len(track.points) == 4 and track.points[-1].at == START + timedelta(seconds=6)
    assert track.dropped == {"bad_checksum": 1, "void": 1, "duplicate": 3}
    assert track.ignored == 4 + 2  # the GGA lines, the comment, the proprietary sentence
    with pytest.raises(TrackError, match="no valid fix"):
        parse(nmea(drive(3), status="V"), "nmea")


@pytest.mark.parametrize(
    "fields,message",
    [
        ("003000.00,A,nan,N,11403.4740,E,29.2,90.0,231126", "bad_position 1"),
        ("003000.00,A,2232.5860,N,1e999,E,29.2,90.0,231126", "bad_position 1"),
        ("003000.00,A,2232.5860,N,11403.4740,E,29.2,90.0,000000", "bad_time 1"),
        ("256199,A,2232.5860,N,11403.4740,E,29.2,90.0,231126", "bad_time 1"),
        ("003000.00,A,2232.5860,N,11403.4740,E,inf,90.0,231126", "bad_speed 1"),
        ("003000.00,A,2299.5860,N,11403.4740,E,29.2,90.0,231126", "bad_position 1"),
    ],
)
def test_a_valid_looking_rmc_with_impossible_fields_is_dropped(fields: str, message: str) -> None:
    """Dropped and counted (a log keeps its other fixes); alone, there is no valid fix."""
    with pytest.raises(TrackError, match=message):
        parse(_sentence(f"GNRMC,{fields},,,A") + "\n", "nmea")


@pytest.mark.parametrize(
    "data,message",
    [
        ("[" * 1000 + "]" * 1000, "nested too deeply|not an object"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('[{"time": "2026-11-23T00:30:00Z", "lat": "nan", "lon": 114.0}]', "finite"),
        ('[{"time": "2026-11-23T00:30:00Z", "lat": 22.5, "lon": 1e999}]', "finite"),
        ('[{"time": "2026-11-23T00:30:00Z", "lat": true, "lon": 114.0}]', "not a number"),
        ('{"time": "2026-11-23T00:30:00Z"}', "not a list"),
        ("[1, 2]", "not an object"),
    ],
)
def test_hostile_json_tracks_are_refused(data: str, message: str) -> None:
    with pytest.raises(TrackError, match=message):
        parse(data, "json")


def test_tracks_are_bounded() -> None:
    with pytest.raises(TrackError, match="characters, over"):
        parse(" " * (MAX_TRACK_CHARS + 1), "nmea")
    many = drive(MAX_POINTS + 1, speed_mps=1.0)
    with pytest.raises(TrackError, match="points, over"):
        parse(json_track(many), "json")


# (file, kept, dropped, reordered, first fix, last fix), as ../shared/data/gps/MANIFEST.md counts
REAL_LOGS = [
    (
        "nmea_boat_ijsselmeer.log",
        145,
        {"duplicate": 1},
        0,
        ("2018-08-20T09:47:37Z", 52 + 51.0093 / 60, 5 + 18.8170 / 60),
        ("2018-08-20T09:50:03Z", 52 + 50.8736 / 60, 5 + 18.5095 / 60),
    ),
    (
        "nmea_walk_brisbane.log",
        68,
        {"void": 6},
        0,
        ("2007-04-08T09:53:04.802000Z", None, None),
        ("2007-04-08T09:54:15.787000Z", None, None),
    ),
    (
        "nmea_static_telit.log",
        187,
        {"void": 37},
        1,
        ("2019-03-12T10:51:53.408000Z", 50 + 50.41 / 60, 4 + 20.82 / 60),
        ("2019-03-12T10:54:59.408000Z", 50 + 50.41 / 60, 4 + 20.82 / 60),
    ),
]


@pytest.mark.parametrize("name,kept,dropped,reordered,first,last", REAL_LOGS)
def test_real_receiver_logs_parse(
    name: str,
    kept: int,
    dropped: dict[str, int],
    reordered: int,
    first: tuple[str, float | None, float | None],
    last: tuple[str, float | None, float | None],
) -> None:
    track = read((DATA_DIR / "gps" / name).read_text(encoding="utf-8"), "nmea")
    summary = track.summary()
    assert (summary["kept"], summary["dropped"], summary["reordered"]) == (
        kept,
        dropped,
        reordered,
    )
    for got, (at, lat, lon) in ((summary["first"], first), (summary["last"], last)):
        assert got["time"] == at
        if lat is not None and lon is not None:
            assert got["latitude"] == pytest.approx(lat, abs=1e-3)
            assert got["longitude"] == pytest.approx(lon, abs=1e-3)


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


class _DayOffset(tzinfo):
    """A zone whose offset is a whole day: ``datetime.utcoffset`` raises on any use of it."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=24)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "+24:00"


def test_a_time_whose_zone_offset_raises_is_not_plausible() -> None:
    assert as_utc(datetime(2026, 11, 23, tzinfo=_DayOffset())) is None
