"""Protocol v2 with a standard tus client, unchanged (tuspy from PyPI) against the real API
server: as a reporter (bearer token) and as a device (the upload token from the signed
``POST /v1/events``, one header set once), resumed after a stop, with ``Upload-Checksum``;
and the tus-conformant refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.processes import api_server, run_cli
from ingest.db import make_engine, make_sessionmaker
from ingest.identity import Identity
from ingest.signing import sign_headers
from roadwitness.dashcam import DeviceCredential
from tests.conftest import DATA_DIR, MODELS_DIR

CLIP = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
PHOTO = DATA_DIR / "images" / "dev_vehicle_008.jpg"
CHUNK = 256 * 1024

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, str]]:
    work = tmp_path_factory.mktemp("tus")
    settings: dict[str, Any] = {"data_dir": work / "var", "models_dir": MODELS_DIR}
    run_cli(settings, "db", "upgrade")
    with api_server(settings, work) as api:
        api.settings = settings  # type: ignore[attr-defined]
        yield api, f"http://127.0.0.1:{api.port}"  # type: ignore[attr-defined]


def _device(api: httpx.Client, name: str) -> DeviceCredential:
    url = api.settings["data_dir"] / "roadwitness.db"  # type: ignore[attr-defined]
    identity = Identity(make_sessionmaker(make_engine(f"sqlite:///{url}")))
    issued = identity.register_device(name, owner="Li Lei", model="RW-Cam 2")
    assert issued.private_key is not None
    return DeviceCredential(issued.device_id, issued.key_id, issued.private_key)


def _event(path: Path, event_id: str, **more: Any) -> dict[str, Any]:
    data = path.read_bytes()
    media = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "filename": path.name}
    return {"event_id": event_id, "media": media, **more}


def _signed_event(api: httpx.Client, cred: DeviceCredential, event: dict[str, Any]) -> Any:
    body = json.dumps(event).encode()
    headers = sign_headers(
        cred.private_key,
        cred.device,
        cred.key_id,
        "POST",
        "/v1/events",
        hashlib.sha256(body).hexdigest(),
        int(time.time()),
    )
    answer = api.post(
        "/v1/events", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _reporter(api: httpx.Client) -> str:
    token: str = api.post("/v1/reporters", json={}).json()["token"]
    return token


def test_reporter_with_tuspy_resumes_after_a_stop(server: tuple[httpx.Client, str]) -> None:
    from tusclient.client import TusClient

    api, base = server
    token = _reporter(api)
    auth = {"Authorization": f"Bearer {token}"}
    opened = api.post(
        "/v1/events", json=_event(CLIP, "tuspy-r-1", declared_violation="bus_lane"), headers=auth
    ).json()
    assert opened["location"] == f"{base}/v1/uploads/{opened['upload_id']}"

    client = TusClient(f"{base}/v1/uploads", headers=auth)
    first = client.uploader(
        file_path=str(CLIP), url=opened["location"], chunk_size=CHUNK, upload_checksum=True
    )
    first.upload_chunk()  # one chunk, then the "app" is stopped
    assert api.head(opened["upload_url"], headers=auth).headers["Upload-Offset"] == str(CHUNK)

    again = client.uploader(
        file_path=str(CLIP), url=opened["location"], chunk_size=CHUNK, upload_checksum=True
    )
    assert again.offset == CHUNK  # tuspy asked the server (HEAD) where to resume
    again.upload()
    head = api.head(opened["upload_url"], headers=auth)
    submission = head.headers["RW-Submission-Id"]
    report = api.get(f"/v1/reports/{submission}", headers=auth).json()
    assert report["state"] in ("received", "processing") and report["declared_violation"] == (
        "bus_lane"
    )


def test_device_with_tuspy_and_an_upload_token(server: tuple[httpx.Client, str]) -> None:
    from tusclient.client import TusClient

    api, base = server
    cred = _device(api, "cam-tuspy-1")
    opened = _signed_event(api, cred, _event(PHOTO, "tuspy-d-1", trigger="button"))
    assert opened["upload_token"].startswith("rwu_")

    client = TusClient(
        f"{base}/v1/uploads", headers={"Authorization": f"Bearer {opened['upload_token']}"}
    )
    client.uploader(file_path=str(PHOTO), url=opened["location"], chunk_size=CHUNK).upload()
    head = api.head(
        opened["upload_url"], headers={"Authorization": f"Bearer {opened['upload_token']}"}
    )
    assert head.headers["Upload-Offset"] == str(PHOTO.stat().st_size)
    assert head.headers["RW-Submission-Id"]


def test_an_upload_token_opens_its_own_upload_only(server: tuple[httpx.Client, str]) -> None:
    api, _ = server
    cred = _device(api, "cam-tuspy-2")
    one = _signed_event(api, cred, _event(PHOTO, "scope-1"))
    two = _signed_event(api, cred, _event(CLIP, "scope-2"))
    auth = {"Authorization": f"Bearer {one['upload_token']}", "Tus-Resumable": "1.0.0"}
    other = api.head(two["upload_url"], headers=auth)
    assert other.status_code == 403
    opened = api.post("/v1/events", json=_event(PHOTO, "scope-3"), headers=auth)
    assert opened.status_code == 403 and opened.json()["error"] == "token_scope"
    forged = api.head(one["upload_url"], headers={"Authorization": "Bearer rwu_not-a-token"})
    assert forged.status_code == 401


def test_tus_refusals_are_tus_conformant(server: tuple[httpx.Client, str]) -> None:
    api, _ = server
    auth = {"Authorization": f"Bearer {_reporter(api)}"}
    opened = api.post("/v1/events", json=_event(PHOTO, "refusals-1"), headers=auth).json()
    url, chunk = opened["upload_url"], PHOTO.read_bytes()[:CHUNK]
    tus = {**auth, "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}

    missing = api.patch(url, content=chunk, headers={**tus, "Tus-Resumable": ""})
    assert missing.status_code == 412 and missing.headers["Tus-Version"] == "1.0.0"
    assert missing.json()["error"] == "tus_version"
    old = api.patch(url, content=chunk, headers={**tus, "Tus-Resumable": "0.2.2"})
    assert old.status_code == 412 and old.headers["Tus-Version"] == "1.0.0"
    no_offset = api.patch(url, content=chunk, headers=tus)
    assert no_offset.status_code == 400 and no_offset.json()["error"] == "bad_offset"
    plain = api.patch(
        url, content=chunk, headers={**tus, "Upload-Offset": "0", "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415

    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    refused = api.patch(
        url,
        content=chunk,
        headers={**tus, "Upload-Offset": "0", "Upload-Checksum": f"sha256 {wrong}"},
    )
    assert refused.status_code == 460 and refused.json()["error"] == "checksum_mismatch"
    assert api.head(url, headers=auth).headers["Upload-Offset"] == "0"  # the chunk was dropped
    odd = api.patch(
        url, content=chunk, headers={**tus, "Upload-Offset": "0", "Upload-Checksum": "crc32 AAAA"}
    )
    assert odd.status_code == 400 and odd.json()["error"] == "checksum_algorithm"
    right = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
    taken = api.patch(
        url,
        content=chunk,
        headers={**tus, "Upload-Offset": "0", "Upload-Checksum": f"sha256 {right}"},
    )
    assert taken.status_code == 204 and taken.headers["Upload-Offset"] == str(len(chunk))

    options = api.options("/v1/uploads")
    assert "checksum" in options.headers["Tus-Extension"]
    assert "sha256" in options.headers["Tus-Checksum-Algorithm"]
