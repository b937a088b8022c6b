"""Real receiver logs (../shared/data/gps) as other receivers and loggers would have written
them: their bytes edited the way serial lines, SD cards and firmware do, and each must give
the same fixes, or drop and count what cannot be used."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.tracks import TrackError, read
from tests.conftest import DATA_DIR

BOAT = DATA_DIR / "gps" / "nmea_boat_ijsselmeer.log"
TELIT = DATA_DIR / "gps" / "nmea_static_telit.log"
WALK = DATA_DIR / "gps" / "nmea_walk_brisbane.log"


def _sentence(body: str, lower: bool = False) -> str:
    checksum = 0
    for char in body:
        checksum ^= ord(char)
    hexed = f"{checksum:02X}"
    return f"${body}*{hexed.lower() if lower else hexed}"


def _summary(data: bytes) -> dict[str, Any]:
    """What the intake keeps of a log's bytes (a client decodes them as the CLI does)."""
    return read(data.decode("utf-8", errors="replace"), "nmea").summary()


def _same_fixes(got: dict[str, Any], want: dict[str, Any]) -> None:
    keys = ("kept", "dropped", "reordered", "first", "last")
    assert {k: got[k] for k in keys} == {k: want[k] for k in keys}


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda b: b.replace(b"\r\n", b"\r"), id="cr-only"),
        pytest.param(lambda b: b.replace(b"\r\n", b"\n"), id="lf-only"),
        pytest.param(lambda b: b.replace(b"\r\n", b""), id="glued-no-newline"),
        pytest.param(lambda b: b.replace(b"\r\n", b"\r\n\x00\x00\x00"), id="nul-padding"),
        pytest.param(lambda b: b + b"\x00" * 4096, id="nul-tail-of-sd-card"),
        pytest.param(
            # a u-blox UBX NAV-PVT header and payload bytes (not UTF-8) glued before each RMC
            lambda b: b.replace(b"\r\n$GPRMC", b"\r\n\xb5\x62\x01\x07\x5c\x00\xff\xfe\x80$GPRMC"),
            id="ubx-binary-before-sentences",
        ),
        pytest.param(
            lambda b: b.replace(b"\r\n$GPGSV", b"\r\n\xa0\xa2\x00\x29\x02\xff$\xb0\xb3\r\n$GPGSV"),
            id="sirf-binary-with-a-dollar",
        ),
    ],
)
def test_line_ends_padding_and_binary_keep_every_fix(edit: object) -> None:
    raw = BOAT.read_bytes()
    _same_fixes(_summary(edit(raw)), _summary(raw))  # type: ignore[operator]


def test_glued_lines_in_every_real_log() -> None:
    for log in (TELIT, WALK):
        raw = log.read_bytes()
        _same_fixes(_summary(raw.replace(b"\n", b"").replace(b"\r", b"")), _summary(raw))


def test_a_log_cut_mid_sentence_counts_the_cut_fix() -> None:
    raw = WALK.read_bytes()
    cut = raw[: raw.rindex(b"$GPRMC") + 40]
    got, whole = _summary(cut), _summary(raw)
    assert got["kept"] == whole["kept"] - 1
    assert got["dropped"] == {**whole["dropped"], "no_checksum": 1}


RMC = "GPRMC,{t},A,5251.0093,N,00518.8170,E,5.6,230.5,200818,1.4,E{tail}"


def _rmc(second: int, tail: str = ",A", t: str | None = None, **kw: str) -> str:
    body = RMC.format(t=t or f"0947{second:02d}", tail=tail)
    for field, value in kw.items():
        body = body.replace({"lat": "5251.0093", "lon": "00518.8170"}[field], value)
    return _sentence(body)


def test_mode_and_nav_status_say_not_valid() -> None:
    lines = [
        _rmc(10, ",A"),  # NMEA 2.3, autonomous
        _rmc(11, ",N"),  # 2.3: status A but mode N, data not valid
        _rmc(12, ",S"),  # simulator
        _rmc(13, ",A,V"),  # 4.1: navigational status V, as u-blox writes beside valid fixes
        _rmc(14, ",D,S"),  # 4.1: safe
        _rmc(15, ""),  # NMEA 2.0: no mode field
    ]
    track = read("\r\n".join(lines), "nmea")
    assert [p.at.second for p in track.points] == [10, 13, 14, 15]
    assert track.dropped == {"void": 2}


def test_lower_case_checksum_and_other_talkers() -> None:
    lines = [
        _sentence(_rmc(i)[1:-3].replace("GP", talker), lower=True)
        for i, talker in enumerate(("GN", "BD", "GA", "GL", "GB", "GQ"))
    ]
    lines.append(_sentence("PGRMC,A,1.5,,,,,,,,,,2,1"))  # Garmin's own sentence, not an RMC
    track = read("\n".join(lines), "nmea")
    assert (len(track.points), track.dropped, track.ignored) == (6, {}, 1)


def test_impossible_fields_are_dropped_and_counted_not_fatal() -> None:
    lines = [
        _rmc(20),
        _rmc(21, lat="9100.0000"),  # beyond 90 degrees
        _rmc(22, lon="18100.0000"),
        _rmc(23, lat="5260.5000"),  # 60 minutes
        _rmc(24, lat="nan"),
        _rmc(25, lat="0000.0000", lon="00000.0000"),
        _rmc(26, t="256199"),
        _sentence(RMC.format(t="094727", tail=",A").replace("200818", "000000")),
        _sentence(RMC.format(t="094728", tail=",A").replace("5.6", "inf")),
        _sentence(RMC.format(t="094729", tail=",A").replace("5.6,230.5", ",")),  # no speed
        _rmc(30, lat="9000.0000", lon="18000.0000"),  # the limits: a jump, so alone below
    ]
    track = read("\n".join(lines[:-1]), "nmea")
    assert [p.at.second for p in track.points] == [20, 29]
    assert track.points[1].speed_mps is None
    assert track.dropped == {"bad_position": 5, "bad_time": 2, "bad_speed": 1}
    limits = read(lines[-1], "nmea").points[0]
    assert (limits.latitude, limits.longitude) == (90.0, 180.0)


def test_leap_second_is_counted_not_fatal() -> None:
    day = "311216"
    lines = [
        _sentence(f"GPRMC,235959,A,3351.0000,S,07040.0000,W,0.0,,{day},,,A"),
        _sentence(f"GPRMC,235960,A,3351.0000,S,07040.0000,W,0.0,,{day},,,A"),
        _sentence("GPRMC,000000,A,3351.0000,S,07040.0000,W,0.0,,010117,,,A"),
    ]
    track = read("\n".join(lines), "nmea")
    assert track.dropped == {"leap_second": 1}
    assert track.points[-1].at == datetime(2017, 1, 1, tzinfo=UTC)
    assert track.points[0].latitude == pytest.approx(-33.85)  # southern, western
    assert track.points[0].longitude == pytest.approx(-70.6667, abs=1e-4)


def test_gga_fixes_are_dated_by_the_logs_zda() -> None:
    """The boat's log without its RMC sentences: GGA fixes dated by its ZDA sentences."""
    text = BOAT.read_text(encoding="utf-8")
    track = read("\r\n".join(x for x in text.splitlines() if "RMC," not in x), "nmea")
    summary = track.summary()
    assert summary["kept"] == 138 and summary["reordered"] == 0
    assert summary["first"]["time"] == "2018-08-20T09:47:36Z"
    assert summary["last"]["time"] == "2018-08-20T09:49:59Z"


def test_gga_across_midnight_and_before_the_first_zda() -> None:
    gga = "GPGGA,{},3351.0000,S,07040.0000,W,1,08,0.9,30.0,M,,M,,"
    lines = [
        _sentence(gga.format("235958")),  # before any date: dated back from the ZDA
        _sentence("GPZDA,235959,31,12,2016,00,00"),
        _sentence(gga.format("235959")),
        _sentence(gga.format("000000")),  # the next day
        _sentence(gga.format("000001").replace(",1,08", ",0,00")),  # quality 0: no fix
    ]
    track = read("\n".join(lines), "nmea")
    assert [p.at.isoformat() for p in track.points] == [
        "2016-12-31T23:59:58+00:00",
        "2016-12-31T23:59:59+00:00",
        "2017-01-01T00:00:00+00:00",
    ]
    assert track.dropped == {"void": 1}


@pytest.mark.parametrize("log", [TELIT, WALK])
def test_gga_without_any_date_says_so(log: object) -> None:
    text = log.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    with pytest.raises(TrackError, match="no date and it has no RMC or ZDA"):
        read("\n".join(x for x in text.splitlines() if "RMC," not in x), "nmea")


@pytest.mark.parametrize(
    "data,reason",
    [
        ("", "no valid fix"),
        ("\x00" * 1000, "no valid fix"),
        (bytes(range(256)).decode("latin-1") * 50, "no valid fix"),
        ("$GPRMC,094720,A,5251.0093,N,00518.8170,E,5.6,230.5,200818,1.4,E,A\n", "no_checksum 1"),
        ("$" * 10_000 + "GPRMC," * 100_000, "no valid fix"),
    ],
)
def test_empty_or_garbage_logs_are_refused_clearly(data: str, reason: str) -> None:
    with pytest.raises(TrackError, match=reason):
        read(data, "nmea")


def test_gpx_point_without_a_time_is_dropped_and_counted() -> None:
    head = '<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
    points = [
        '<trkpt lat="-33.85" lon="-70.66"></trkpt>',  # before the receiver had a time
        '<trkpt lat="-33.85" lon="-70.66"><time>yesterday</time></trkpt>',
        '<trkpt lat="-33.85" lon="-70.66"><time>2020-01-01T08:00:00+08:00</time></trkpt>',
    ]
    track = read(head + "".join(points) + "</trkseg></trk></gpx>", "gpx")
    assert track.dropped == {"no_time": 2}
    assert track.points[0].at == datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(TrackError, match=r"no valid fix.*no_time 1"):
        read(head + points[0] + "</trkseg></trk></gpx>", "gpx")


def _moved(line: str, lat: str) -> str:
    """An RMC of the boat's log with another latitude and a checksum that matches it."""
    fields = line[1:].partition("*")[0].split(",")
    fields[3] = lat
    return _sentence(",".join(fields))


@pytest.mark.parametrize("which", [0, 40, -1])
def test_a_lone_fix_astray_is_dropped_as_a_jump(which: int) -> None:
    """Multipath or a first fix before the receiver settled: one RMC 10 km off (first,
    middle, last), checksum intact. The whole log was once refused for it."""
    lines = BOAT.read_text(encoding="utf-8").splitlines()
    rmc = [i for i, line in enumerate(lines) if line.startswith("$GPRMC") and ",A," in line]
    lines[rmc[which]] = _moved(lines[rmc[which]], "5256.0000")
    track = read("\n".join(lines), "nmea")
    assert (len(track.points), track.dropped) == (144, {"duplicate": 1, "jump": 1})


def test_a_real_leap_between_two_runs_is_still_refused() -> None:
    lines = BOAT.read_text(encoding="utf-8").splitlines()
    rmc = [i for i, line in enumerate(lines) if line.startswith("$GPRMC") and ",A," in line]
    for i in rmc[70:]:
        lines[i] = _moved(lines[i], "5256.0000")
    with pytest.raises(TrackError, match="jump"):
        read("\n".join(lines), "nmea")


def test_a_speed_glitch_is_dropped() -> None:
    lines = [_rmc(40), _sentence(RMC.format(t="094741", tail=",A").replace("5.6", "999.0"))]
    track = read("\n".join(lines), "nmea")
    assert (len(track.points), track.dropped) == (1, {"bad_speed": 1})


def test_one_fix_per_constellation_counts_once_against_the_limit() -> None:
    """6,700 epochs, each as $GPRMC, $GLRMC and $GNRMC: 20,100 sentences, 6,700 fixes (the
    raw count was once held against the 20,000-fix limit)."""
    lines = []
    for i in range(6_700):
        hhmmss = f"{9 + i // 3600:02d}{i // 60 % 60:02d}{i % 60:02d}"
        body = f"RMC,{hhmmss},A,3351.0000,S,07040.0000,W,0.0,,311216,,,A"
        lines += [_sentence(talker + body) for talker in ("GP", "GL", "GN")]
    track = read("\n".join(lines), "nmea")
    assert (len(track.points), track.dropped) == (6_700, {"duplicate": 13_400})
