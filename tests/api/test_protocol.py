"""The reporting protocol in-process: signatures, refusals, resumable idempotent uploads."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api.app import create_app
from ingest.db import MediaObject, Submission, TrackPoint, Upload, now
from ingest.migrate import upgrade
from ingest.signing import sign_headers
from ingest.submissions import original_key
from roadwitness.dashcam import DeviceCredential
from tests.conftest import DATA_DIR
from tests.media import bad_files
from tests.tracks import START, drive, json_track, nmea

CLIP = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"


@pytest.fixture
def client(make_settings: Callable[..., Any]) -> Iterator[TestClient]:
    settings = make_settings()
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def device(client: TestClient) -> DeviceCredential:
    identity = client.app.state.services.identity  # type: ignore[attr-defined]
    credential = identity.register_device("cam-0001", owner="Li Lei", model="RW-Cam 2")
    return DeviceCredential(credential.device_id, credential.key_id, credential.private_key)


def signed(
    cred: DeviceCredential,
    method: str,
    path: str,
    body: bytes = b"",
    ts: float | None = None,
    nonce: str | None = None,
    **extra: str,
) -> dict[str, str]:
    headers = sign_headers(
        cred.private_key,
        cred.device,
        cred.key_id,
        method,
        path,
        hashlib.sha256(body).hexdigest(),
        int(ts or time.time()),
        nonce,
    )
    return {**headers, **extra}


def event_body(path: Path, event_id: str = "evt-1", **more: Any) -> bytes:
    data = path.read_bytes()
    body = {
        "event_id": event_id,
        "trigger": "button",
        "media": {
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "filename": path.name,
        },
        **more,
    }
    return json.dumps(body).encode()


def open_event(client: TestClient, cred: DeviceCredential, body: bytes) -> Any:
    return client.post(
        "/v1/events",
        content=body,
        headers=signed(cred, "POST", "/v1/events", body, **{"Content-Type": "application/json"}),
    )


def patch(client: TestClient, cred: DeviceCredential, url: str, offset: int, chunk: bytes) -> Any:
    return client.patch(
        url,
        content=chunk,
        headers=signed(
            cred,
            "PATCH",
            url,
            chunk,
            **{
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        ),
    )


def upload_all(
    client: TestClient, cred: DeviceCredential, url: str, data: bytes, chunk: int = 700_000
) -> Any:
    offset, response = 0, None
    while offset < len(data):
        response = patch(client, cred, url, offset, data[offset : offset + chunk])
        assert response.status_code == 204, response.text
        offset = int(response.headers["Upload-Offset"])
    return response


def test_dashcam_event_with_track_end_to_end(client: TestClient, device: DeviceCredential) -> None:
    body = event_body(
        CLIP,
        track={"format": "nmea", "data": nmea(drive())},
        declared_violation="emergency_lane",
        clip_start=START.isoformat(),
    )
    opened = open_event(client, device, body)
    assert opened.status_code == 201, opened.text
    upload = opened.json()
    assert upload["offset"] == 0 and opened.headers["Tus-Resumable"] == "1.0.0"

    data = CLIP.read_bytes()
    first = patch(client, device, upload["upload_url"], 0, data[:1_000_000])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "1000000"
    head = client.head(upload["upload_url"], headers=signed(device, "HEAD", upload["upload_url"]))
    assert head.headers["Upload-Offset"] == "1000000"
    again = open_event(client, device, body)  # the same event re-sent after a reboot
    assert again.status_code == 200 and again.json()["upload_id"] == upload["upload_id"]
    assert again.json()["offset"] == 1_000_000

    last = patch(client, device, upload["upload_url"], 1_000_000, data[1_000_000:])
    assert last.status_code == 204, last.text
    submission_id = last.headers["RW-Submission-Id"]
    services = client.app.state.services  # type: ignore[attr-defined]
    stored = services.store.stat(original_key(hashlib.sha256(data).hexdigest()))
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    with services.sessions() as session:
        sub = session.get(Submission, submission_id)
        assert sub is not None and sub.device_id == "cam-0001" and sub.event_id == "evt-1"
        assert (sub.time_source, sub.place_source) == ("device_clock", "device_track")
        assert session.scalar(select(func.count()).select_from(TrackPoint)) == 21

    done = open_event(client, device, body)  # re-sent once more: still one report
    assert done.json()["submission_id"] == submission_id
    report = client.get(
        f"/v1/reports/{submission_id}",
        headers=signed(device, "GET", f"/v1/reports/{submission_id}"),
    )
    assert report.status_code == 200 and report.json()["state"] == "received"
    assert report.json()["answer_due"].startswith(
        (sub.created_at + timedelta(days=30)).date().isoformat()
    )
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1


def test_refusals_have_machine_readable_reasons(
    client: TestClient, device: DeviceCredential
) -> None:
    body = event_body(CLIP)
    path = "/v1/events"
    json_ct = {"Content-Type": "application/json"}

    def post(headers: dict[str, str], content: bytes = body) -> Any:
        return client.post(path, content=content, headers={**headers, **json_ct})

    fixed = signed(device, "POST", path, body, nonce="n" * 20)
    assert post(fixed).status_code == 201
    replay = post(fixed)
    assert (replay.status_code, replay.json()["error"]) == (401, "replayed_nonce")
    skewed = post(signed(device, "POST", path, body, ts=time.time() - 301))
    assert (skewed.status_code, skewed.json()["error"]) == (401, "clock_skew")
    forged = signed(device, "POST", path, body)
    forged["RW-Signature"] = signed(device, "POST", "/v1/other", body)["RW-Signature"]
    assert post(forged).json()["error"] == "bad_signature"
    tampered = post(signed(device, "POST", path, body), content=body.replace(b"evt-1", b"evt-2"))
    assert (tampered.status_code, tampered.json()["error"]) == (400, "digest_mismatch")
    assert post({}).json()["error"] == "missing_credentials"
    stranger = DeviceCredential("cam-9999", device.key_id, device.private_key)
    assert post(signed(stranger, "POST", path, body)).json()["error"] == "unknown_device"

    identity = client.app.state.services.identity  # type: ignore[attr-defined]
    rotated = identity.rotate_key("cam-0001", grace=timedelta(seconds=-1))
    old_key = post(signed(device, "POST", path, body))
    assert (old_key.status_code, old_key.json()["error"]) == (403, "key_revoked")
    new = DeviceCredential("cam-0001", rotated.key_id, rotated.private_key)
    assert post(signed(new, "POST", path, body)).status_code == 200
    identity.revoke_device("cam-0001")
    revoked = post(signed(new, "POST", path, body))
    assert (revoked.status_code, revoked.json()["error"]) == (403, "device_revoked")


def test_upload_errors(client: TestClient, device: DeviceCredential, tmp_path: Path) -> None:
    data = CLIP.read_bytes()
    opened = open_event(client, device, event_body(CLIP)).json()
    url = opened["upload_url"]
    wrong = patch(client, device, url, 5, data[:10])
    assert (wrong.status_code, wrong.json()["error"]) == (409, "offset_mismatch")
    other = event_body(DATA_DIR / "images" / "dev_vehicle_008.jpg", event_id="evt-1")
    conflict = open_event(client, device, other)
    assert (conflict.status_code, conflict.json()["error"]) == (409, "event_conflict")
    teleport = [*drive()[:5], (START + timedelta(seconds=5), 23.5, 114.06)]
    bad_track = open_event(
        client,
        device,
        event_body(CLIP, event_id="evt-t", track={"format": "json", "data": json_track(teleport)}),
    )
    assert (bad_track.status_code, bad_track.json()["error"]) == (422, "bad_track")
    assert "a jump of" in bad_track.json()["detail"]

    # Bytes that do not match the declared SHA-256: refused, and the upload starts over.
    mismatch = patch(client, device, url, 0, data[:-1] + b"x")
    assert mismatch.status_code == 422 and mismatch.json()["error"] == "sha256_mismatch"
    head = client.head(url, headers=signed(device, "HEAD", url))
    assert head.headers["Upload-Offset"] == "0"

    # Not a video at all: a clear 4xx, the upload fails, nothing is stored.
    services = client.app.state.services  # type: ignore[attr-defined]
    for name, (path, status) in bad_files(tmp_path).items():
        if path.stat().st_size == 0:
            continue
        up = open_event(client, device, event_body(path, event_id=f"bad-{name}")).json()
        done = patch(client, device, up["upload_url"], 0, path.read_bytes())
        assert done.status_code == status, (name, done.text)
        assert done.json()["error"] == "bad_media"
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
        assert session.scalar(select(func.count()).select_from(MediaObject)) == 0
    assert not list(services.settings.local_store_path.rglob("originals/*/*"))


def test_idle_uploads_expire_and_are_cleaned_up(
    client: TestClient, device: DeviceCredential
) -> None:
    opened = open_event(client, device, event_body(CLIP)).json()
    url = opened["upload_url"]
    assert patch(client, device, url, 0, CLIP.read_bytes()[:100_000]).status_code == 204
    services = client.app.state.services  # type: ignore[attr-defined]
    staged = services.settings.data_dir / "uploads" / f"{opened['upload_id']}.part"
    assert staged.stat().st_size == 100_000
    with services.sessions.begin() as session:
        session.execute(update(Upload).values(expires_at=now() - timedelta(seconds=1)))
    assert services.uploads.expire() == 1
    assert not staged.exists()
    gone = client.head(url, headers=signed(device, "HEAD", url))
    assert gone.status_code == 410


def test_reporters_follow_their_reports(client: TestClient) -> None:
    anonymous = client.post("/v1/reporters", json={}).json()
    named = client.post("/v1/reporters", json={"real_name": "王芳", "payment_account": "6222"})
    assert named.status_code == 201
    bearer = {"Authorization": f"Bearer {anonymous['token']}"}
    photo = DATA_DIR / "images" / "dev_vehicle_011.jpg"
    body = event_body(
        photo,
        event_id="app-1",
        place={"lat": 22.54, "lon": 114.06},
        taken_at="2026-11-23T08:30:00+08:00",
    )
    opened = client.post(
        "/v1/events", content=body, headers={**bearer, "Content-Type": "application/json"}
    ).json()
    done = client.patch(
        opened["upload_url"],
        content=photo.read_bytes(),
        headers={
            **bearer,
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert done.status_code == 204
    mine = client.get("/v1/reports", headers=bearer).json()
    assert [r["id"] for r in mine] == [done.headers["RW-Submission-Id"]]
    other = {"Authorization": f"Bearer {named.json()['token']}"}
    assert client.get(f"/v1/reports/{mine[0]['id']}", headers=other).status_code == 404
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        sub = session.get(Submission, mine[0]["id"])
        assert sub is not None and (sub.time_source, sub.place_source) == ("reporter", "reporter")


def test_the_signed_path_is_the_path_as_sent(client: TestClient, device: DeviceCredential) -> None:
    """A percent-encoded path is signed as the device sent it, not as the server decoded it."""
    body = event_body(CLIP)
    sent = "/v1/%65vents"  # the same route as /v1/events, spelt another way
    json_ct = {"Content-Type": "application/json"}
    decoded = client.post(
        sent, content=body, headers={**signed(device, "POST", "/v1/events", body), **json_ct}
    )
    assert (decoded.status_code, decoded.json()["error"]) == (401, "bad_signature")
    as_sent = client.post(
        sent, content=body, headers={**signed(device, "POST", sent, body), **json_ct}
    )
    assert as_sent.status_code == 201, as_sent.text
