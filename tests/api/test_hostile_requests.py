"""Hostile requests against the real app on SQLite and on PostgreSQL: each gets a 4xx in the
error body ({"error", "detail"}), and nothing is written. Every case here once answered a 500
on at least one database (a NUL in an id reached PostgreSQL, a 5,000-digit Upload-Offset reached
``int``, a 400-digit RW-Timestamp overflowed the skew check, a time of year 1 at +14:00
overflowed its conversion to UTC, an OFFSET past 64 bits overflowed the driver) or was
ambiguous (a duplicated Upload-Offset wrote at the first one)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from harness.servers import postgres_database
from ingest.db import Reporter, Submission, Upload
from ingest.migrate import upgrade
from ingest.signing import sign_headers
from tests.api.roles import role_headers
from tests.conftest import DATA_DIR, MODELS_DIR

PHOTO = (DATA_DIR / "images" / "dev_vehicle_014.jpg").read_bytes()
TUS = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
NUL_IDS = ["%00", "a%00b", "case%00%27--"]
GPX_9999 = (
    '<gpx><trk><trkseg><trkpt lat="22.5" lon="114">'
    "<time>9999-12-31T23:59:59-14:00</time></trkpt></trkseg></trk></gpx>"
)


class Api:
    def __init__(self, client: TestClient, headers: dict[str, dict[str, str]]) -> None:
        self.client, self.headers = client, headers
        self.services: Any = client.app.state.services  # type: ignore[attr-defined]
        cred = self.services.identity.register_device("cam-hostile", owner="o", model="m")
        self.device = cred

    def signed(self, method: str, path: str, body: bytes = b"", **changed: str) -> dict[str, str]:
        digest = hashlib.sha256(body).hexdigest()
        d = self.device
        sent = sign_headers(
            d.private_key, d.device_id, d.key_id, method, path, digest, int(time.time())
        )
        return {**sent, **changed}

    def count(self, table: Any) -> int:
        with self.services.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)

    def open_upload(self, event_id: str, data: bytes = PHOTO) -> str:
        media = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "filename": "a.jpg"}
        answer = self.client.post(
            "/v1/events", json={"event_id": event_id, "media": media}, headers=self.rep
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["upload_id"])

    @property
    def rep(self) -> dict[str, str]:
        return self.headers["reporter"]

    def offset(self, upload_id: str) -> int:
        head = self.client.head(f"/v1/uploads/{upload_id}", headers={**self.rep, **TUS})
        assert head.status_code == 200
        return int(head.headers["Upload-Offset"])


def _api(database_url: str | None, tmp: Any) -> Iterator[Api]:
    from settings import load_settings

    more = {"database_url": database_url} if database_url else {}
    settings = load_settings(None, data_dir=tmp, models_dir=MODELS_DIR, **more)
    upgrade(settings.database_url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, role_headers(client))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)]
)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("var")
    if request.param == "sqlite":
        yield from _api(None, tmp)
    else:
        with postgres_database() as url:
            yield from _api(url, tmp)


def refused(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:400])
    body: dict[str, Any] = response.json()
    assert body["detail"] and (error is None or body["error"] == error), body
    return body


@pytest.mark.parametrize("bad", NUL_IDS)
def test_a_nul_in_any_id_is_a_400(api: Api, bad: str) -> None:
    h = api.headers
    for method, path, who in [
        ("GET", f"/v1/cases/{bad}", h["officer"]),
        ("POST", f"/v1/cases/{bad}/claim", h["officer"]),
        ("POST", f"/v1/cases/{bad}/verify", h["officer"]),
        ("GET", f"/v1/evidence/{bad}", h["officer"]),
        ("GET", f"/v1/submissions/{bad}", h["officer"]),
        ("GET", f"/v1/reports/{bad}", h["reporter"]),
        ("PATCH", f"/v1/uploads/{bad}", {**h["reporter"], **TUS, "Upload-Offset": "0"}),
        ("DELETE", f"/v1/uploads/{bad}", {**h["reporter"], **TUS}),
        ("POST", f"/v1/uploads/{bad}/direct", h["reporter"]),
        ("POST", f"/v1/rewards/{bad}/paid", h["admin"]),
        ("POST", f"/v1/devices/{bad}/revoke", h["admin"]),
        ("DELETE", f"/v1/reporters/{bad}/reward-suspension", h["supervisor"]),
        ("GET", f"/v1/cases?violation={bad}", h["officer"]),
        ("POST", f"/v1/claims/next?exclude={bad}", h["officer"]),
    ]:
        refused(api.client.request(method, path, headers=who), 400, "bad_request")
    head = api.client.head(f"/v1/uploads/{bad}", headers={**h["reporter"], **TUS})
    assert head.status_code == 400


def test_a_nul_in_a_credential_header_is_a_400(api: Api) -> None:
    headers = api.signed("GET", "/v1/reports", **{"RW-Device": "cam\x00-hostile"})
    answer = api.client.get("/v1/reports", headers={k: v.encode() for k, v in headers.items()})
    refused(answer, 400, "bad_request")


@pytest.mark.parametrize(
    "raw",
    [
        rb'{"real_name": "a\u0000b"}',
        rb'{"payment_account": "\ud800"}',
        b'{"real_name": "\xed\xa0\x80"}',  # a surrogate as raw (CESU-8) bytes
    ],
)
def test_nul_and_lone_surrogates_in_json_are_422_and_nothing_is_stored(
    api: Api, raw: bytes
) -> None:
    before = api.count(Reporter)
    answer = api.client.post(
        "/v1/reporters", content=raw, headers={"Content-Type": "application/json"}
    )
    refused(answer, 422, "invalid_request")
    assert api.count(Reporter) == before
    for path, body, who, method in [
        ("/v1/staff/login", rb'{"username": "a\u0000", "password": "pw"}', {}, "POST"),
        ("/v1/budget/2026", rb'{"amount_yuan": 1, "note": "\u0000"}', api.headers["admin"], "PUT"),
        (
            "/v1/cases/x/decision",
            rb'{"decision": "confirm", "exclusions": {"\ud800": "victim"}}',
            api.headers["officer"],
            "POST",
        ),
    ]:
        answer = api.client.request(
            method, path, content=body, headers={**who, "Content-Type": "application/json"}
        )
        refused(answer, 422, "invalid_request")
    assert api.client.get("/v1/budget/2026", headers=api.headers["admin"]).json()["budget"] == 0
    # An escaped backslash before "u0000" is six plain characters, not a NUL: taken.
    ok = api.client.post(
        "/v1/reporters",
        content=rb'{"real_name": "\\u0000"}',
        headers={"Content-Type": "application/json"},
    )
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    "data",
    [
        {"joint_with": "r-1\x00"},
        {"taken_at": "0001-01-01T00:00:00+14:00"},
        {"taken_at": "9999-12-31T23:59:59-14:00"},
        {"taken_at": "1900-01-01T00:00:00Z"},
    ],
)
def test_bad_form_fields_are_422_and_nothing_is_stored(api: Api, data: dict[str, str]) -> None:
    before = api.count(Submission)
    answer = api.client.post(
        "/v1/submissions", files={"file": ("a.jpg", PHOTO)}, data=data, headers=api.rep
    )
    refused(answer, 422)
    # Written by hand: httpx would escape the NUL as "%00".
    raw = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00.jpg"\r\n\r\n'
    named = api.client.post(
        "/v1/submissions",
        content=raw + PHOTO + b"\r\n--b--\r\n",
        headers={**api.rep, "Content-Type": "multipart/form-data; boundary=b"},
    )
    refused(named, 422)
    assert api.count(Submission) == before


@pytest.mark.parametrize(
    "field,value",
    [
        ("taken_at", "0001-01-01T00:00:00+14:00"),
        ("device_time", "9999-12-31T23:59:59-14:00"),
        ("clip_start", "1969-12-31T23:59:59Z"),
        (
            "track",
            {
                "format": "json",
                "data": json.dumps(
                    [{"time": "0001-01-01T00:00:00+14:00", "lat": 22.5, "lon": 114.0}]
                ),
            },
        ),
        (
            "track",
            {
                "format": "gpx",
                "data": GPX_9999,
            },
        ),
    ],
)
def test_times_out_of_range_in_an_event_open_no_upload(api: Api, field: str, value: Any) -> None:
    before = api.count(Upload)
    media = {"size": len(PHOTO), "sha256": hashlib.sha256(PHOTO).hexdigest()}
    body = {"event_id": f"e-{field}-{len(str(value))}", "media": media, field: value}
    answer = api.client.post("/v1/events", json=body, headers=api.rep)
    refused(answer, 422, "bad_track" if field == "track" else "invalid_request")
    assert "1970" in answer.text
    assert api.count(Upload) == before


@pytest.mark.parametrize(
    "offset", [b"\xb2", b"1" * 5000, b"-1", b"0x0", b" 0", b"1e3", b"", b"\xd9\xa3"]
)
def test_upload_offsets_that_are_not_ascii_digits_write_nothing(api: Api, offset: bytes) -> None:
    upload = api.open_upload(f"off-{hashlib.sha1(offset).hexdigest()[:8]}")
    answer = api.client.patch(
        f"/v1/uploads/{upload}", content=b"ab", headers={**api.rep, **TUS, "Upload-Offset": offset}
    )
    refused(answer, 400, "bad_offset")
    assert api.offset(upload) == 0


def test_duplicated_tus_and_credential_headers_are_refused(api: Api) -> None:
    upload = api.open_upload("dup-headers")
    url = f"/v1/uploads/{upload}"
    for name, values in [("Upload-Offset", ("0", "2")), ("Tus-Resumable", ("1.0.0", "1.0.0"))]:
        base = {**api.rep, **TUS, "Upload-Offset": "0"}
        headers = [(k, v) for k, v in base.items() if k != name] + [(name, v) for v in values]
        refused(api.client.patch(url, content=b"ab", headers=headers), 400, "duplicate_header")
    assert api.offset(upload) == 0
    signed = api.signed("GET", "/v1/reports")
    twice = [*signed.items(), ("RW-Nonce", "another-nonce-0123456789")]
    refused(api.client.get("/v1/reports", headers=twice), 400, "duplicate_header")
    tokens = [("Authorization", api.rep["Authorization"])] * 2
    refused(api.client.get("/v1/reports", headers=tokens), 400, "duplicate_header")


def test_a_patch_longer_than_its_upload_writes_nothing(api: Api) -> None:
    upload = api.open_upload("too-long")
    answer = api.client.patch(
        f"/v1/uploads/{upload}",
        content=PHOTO + b"tail",
        headers={**api.rep, **TUS, "Upload-Offset": "0"},
    )
    refused(answer, 413, "over_length")
    assert api.offset(upload) == 0


@pytest.mark.parametrize(
    "changed,error",
    [
        ({"RW-Timestamp": "1" + "0" * 400}, "bad_timestamp"),
        ({"RW-Timestamp": "-1"}, "bad_timestamp"),
        ({"RW-Timestamp": "1_700_000_000"}, "bad_timestamp"),
        ({"RW-Timestamp": str(int(time.time()) - 10**6)}, "clock_skew"),
        ({"RW-Timestamp": str(int(time.time()) + 10**6)}, "clock_skew"),
        ({"RW-Device": "x" * 5000}, "unknown_device"),
        ({"RW-Device": "../../etc"}, "unknown_device"),
        ({"RW-Key-Id": "k" * 500}, "unknown_key"),
        ({"RW-Signature": "@@@ not base64"}, "bad_signature"),
        ({"RW-Nonce": "short"}, "bad_nonce"),
    ],
)
def test_bad_signature_headers_are_401(api: Api, changed: dict[str, str], error: str) -> None:
    refused(
        api.client.get("/v1/reports", headers=api.signed("GET", "/v1/reports", **changed)),
        401,
        error,
    )


def test_other_senders_uploads_are_404(api: Api) -> None:
    upload = api.open_upload("mine")
    url = f"/v1/uploads/{upload}"
    stranger = role_headers(api.client, f"-{upload[:6]}")["reporter"]
    refused(
        api.client.patch(url, content=b"ab", headers={**stranger, **TUS, "Upload-Offset": "0"}),
        404,
        "no_such_upload",
    )
    refused(api.client.delete(url, headers={**stranger, **TUS}), 404, "no_such_upload")
    assert api.client.head(url, headers={**stranger, **TUS}).status_code == 404
    device = api.signed("DELETE", url, **TUS)
    refused(api.client.delete(url, headers=device), 404, "no_such_upload")
    assert api.offset(upload) == 0


def test_query_numbers_out_of_range_are_422(api: Api) -> None:
    officer = api.headers["officer"]
    for query in [
        "offset=" + "9" * 30,
        "offset=9223372036854775808",
        "offset=-1",
        "limit=0",
        "limit=501",
        "limit=1.5",
    ]:
        refused(api.client.get(f"/v1/cases?{query}", headers=officer), 422, "invalid_request")
    assert api.client.get("/v1/cases?offset=1000000000", headers=officer).json()["items"] == []


def test_a_content_length_of_5000_digits_is_413(api: Api) -> None:
    answer = api.client.post(
        "/v1/reporters",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": "9" * 5000},
    )
    refused(answer, 413, "too_large")


def test_strings_longer_than_their_columns_are_422(api: Api) -> None:
    admin = api.headers["admin"]
    user = {"username": "long-name", "role": "officer", "password": "long enough pw"}
    answer = api.client.post(
        "/v1/staff/users", json={**user, "display_name": "x" * 101}, headers=admin
    )
    refused(answer, 422, "invalid_request")  # PostgreSQL's varchar(100) once made it a 500
    device = {"device_id": "cam-long", "owner": "o", "model": "m", "public_key": "A" * 65}
    refused(api.client.post("/v1/devices", json=device, headers=admin), 422, "invalid_request")
    fits = api.client.post(
        "/v1/staff/users", json={**user, "display_name": "x" * 100}, headers=admin
    )
    assert fits.status_code == 201, fits.text
