"""Hostile and real tracks sent over HTTP to ``POST /v1/events``: refused with ``bad_track``
and a reason (never a 5xx), or taken as the real receivers wrote them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ingest.db import Upload
from roadwitness.dashcam import DeviceCredential, track_payload
from tests.api.test_protocol import CLIP, client, device, event_body, open_event
from tests.conftest import DATA_DIR

__all__ = ["client", "device"]  # the fixtures, shared with the protocol tests


def _sentence(body: str) -> str:
    checksum = 0
    for char in body:
        checksum ^= ord(char)
    return f"${body}*{checksum:02X}\r\n"


RMC = "GPRMC,{time},A,{lat},N,{lon},E,5.6,230.5,{date},1.4,E,A"
GOOD = {"time": "094737", "lat": "5251.0093", "lon": "00518.8170", "date": "200818"}


@pytest.mark.parametrize(
    "change,reason",
    [
        ({"lat": "nan"}, "bad_position"),
        ({"lon": "1e999"}, "bad_position"),
        ({"date": "000000"}, "bad_time"),
        ({"time": "256199"}, "bad_time"),
        ({"time": "094738", "lat": "9959.0000"}, "bad_position"),  # 99 degrees north
        ({"time": "094738", "lon": "18500.0000"}, "bad_position"),
        ({"time": "094738", "lat": "0000.0000", "lon": "00000.0000"}, "bad_position"),  # 0,0
        ({"lat": "5261.0000"}, "bad_position"),  # 61 minutes
        ({"date": "311399"}, "bad_time"),
    ],
)
def test_checksum_valid_rmc_with_impossible_fields(
    client: TestClient, device: DeviceCredential, change: dict[str, str], reason: str
) -> None:
    """Such a fix is dropped and counted: alone, the track has no valid fix and says why;
    beside a good fix, the good one is taken."""
    good = _sentence(RMC.format(**GOOD))
    bad = _sentence(RMC.format(**{**GOOD, **change}))
    alone = {"format": "nmea", "data": bad}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-nmea", track=alone))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_track" and f"{reason} 1" in answer.json()["detail"]
    both = {"format": "nmea", "data": good + bad}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-nmea2", track=both))
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_track_nested_deep(client: TestClient, device: DeviceCredential, depth: int) -> None:
    track = {"format": "json", "data": "[" * depth + "]" * depth}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-deep", track=track))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_track"


def test_non_finite_json_track(client: TestClient, device: DeviceCredential) -> None:
    points = [{"time": "2026-11-23T00:30:00Z", "lat": 22.5, "lon": "Infinity"}]
    track = {"format": "json", "data": json.dumps(points)}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-inf", track=track))
    assert (answer.status_code, answer.json()["error"]) == (422, "bad_track")
    assert "finite" in answer.json()["detail"]


def test_real_receiver_log_is_taken(client: TestClient, device: DeviceCredential) -> None:
    log = (DATA_DIR / "gps" / "nmea_boat_ijsselmeer.log").read_text(encoding="utf-8")
    track = {"format": "nmea", "data": log}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-boat", track=track))
    assert answer.status_code == 201, answer.text
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        upload = session.get(Upload, answer.json()["upload_id"])
        assert upload is not None and len(upload.event["track_points"]) == 145


@pytest.mark.parametrize(
    "data",
    [
        "",
        "\x01" * 64,
        "$GPRMC" + "," * 50_000,
        "garbage\r\n" * 1000,
        _sentence("GPRMC,,V,,,,,,,,,"),
    ],
)
def test_nmea_garbage_has_no_fix(client: TestClient, device: DeviceCredential, data: str) -> None:
    track = {"format": "nmea", "data": data}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-junk", track=track))
    assert (answer.status_code, answer.json()["error"]) == (422, "bad_track"), answer.text
    nul = {"format": "nmea", "data": "\x00" * 64}  # refused with the JSON: no text holds one
    answer = open_event(client, device, event_body(CLIP, event_id="evt-nul", track=nul))
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_request"), answer.text


def test_binary_log_from_the_reference_client_is_taken(
    client: TestClient, device: DeviceCredential, tmp_path: Path
) -> None:
    """A log with UBX packets (not UTF-8) and NUL padding between its sentences: the client
    sends what JSON can carry (it once failed with UnicodeDecodeError), the API keeps every fix."""
    raw = (DATA_DIR / "gps" / "nmea_boat_ijsselmeer.log").read_bytes()
    log = tmp_path / "boat.nmea"
    log.write_bytes(raw.replace(b"\r\n$GPRMC", b"\r\n\x00\x00\xb5\x62\x01\x07\xff$GPRMC"))
    body = event_body(CLIP, event_id="evt-ubx", track=track_payload(log))
    answer = open_event(client, device, body)
    assert answer.status_code == 201, answer.text
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        upload = session.get(Upload, answer.json()["upload_id"])
        assert upload is not None and len(upload.event["track_points"]) == 145


@pytest.mark.parametrize("offset", ["+24:00", "-24:00", "+99:00", "-99:99"])
def test_gpx_time_offset_of_a_day_or_more(
    client: TestClient, device: DeviceCredential, offset: str
) -> None:
    """gpxpy raises a bare ValueError for such an offset (no GPXException): it was a 500."""
    point = f'<trkpt lat="22.5" lon="114"><time>2026-11-23T08:00:00{offset}</time></trkpt>'
    track = {"format": "gpx", "data": f"<gpx><trk><trkseg>{point}</trkseg></trk></gpx>"}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-gpx-tz", track=track))
    assert (answer.status_code, answer.json()["error"]) == (422, "bad_track"), answer.text
    assert "offset" in answer.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [{"time": "０９４７３７"}, {"lat": "٥٢٥١.0093"}, {"date": "２００８１８"}],
)
def test_nmea_digits_are_ascii(
    client: TestClient, device: DeviceCredential, change: dict[str, str]
) -> None:
    """NMEA 0183 is ASCII: other scripts' digits (which ``\\d`` and ``int`` took) are garbage."""
    track = {"format": "nmea", "data": _sentence(RMC.format(**{**GOOD, **change}))}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-nmea-digits", track=track))
    assert (answer.status_code, answer.json()["error"]) == (422, "bad_track"), answer.text


@pytest.mark.parametrize("lat", ["٢٢.5", "2_2.5", " 22.5", "0x16", "22.5e0\n"])
def test_json_track_numbers_in_strings_are_plain_decimals(
    client: TestClient, device: DeviceCredential, lat: str
) -> None:
    """``float`` reads ``"2_2.5"`` as 22.5 and Arabic-Indic digits as ASCII ones: refused."""
    points = [{"time": "2026-11-23T00:30:00Z", "lat": lat, "lon": 114.0}]
    track = {"format": "json", "data": json.dumps(points)}
    answer = open_event(client, device, event_body(CLIP, event_id="evt-strnum", track=track))
    assert (answer.status_code, answer.json()["error"]) == (422, "bad_track"), answer.text
