"""Direct uploads checked without reading the object back (docs/protocol.md 6.3, the argument
in ingest/direct_check.py), on a real S3 server (SeaweedFS): the store's part ETags against the
sender's part MD5s, a sender whose whole-file hash lies caught by the first full read, and an
unconfirmed original never linked by a second report without hashing it."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ingest.db import Submission
from ingest.store import ObjectCorrupt, download_checked, hash_object
from ingest.submissions import original_key
from roadwitness.dashcam import DashcamClient, DeviceCredential, digests
from tests.api.test_direct_upload import _post, long_clip, s3_client  # noqa: F401
from tests.api.test_protocol import event_body, open_event, signed
from tests.conftest import DATA_DIR

pytestmark = pytest.mark.integration


def _device(client: TestClient, name: str = "cam-direct") -> DeviceCredential:
    identity = client.app.state.services.identity  # type: ignore[attr-defined]
    issued = identity.register_device(name, owner="Li Lei", model="RW-Cam 2")
    assert issued.private_key is not None
    return DeviceCredential(issued.device_id, issued.key_id, issued.private_key)


def _md5(data: bytes) -> hashlib._Hash:
    return hashlib.md5(data, usedforsecurity=False)


def _send_direct(client: TestClient, event: bytes, data: bytes, digests: bool = True) -> Any:
    """Open the event, send ``data`` by the plan's parts (each with Content-MD5), complete
    with the parts' MD5s (or wrong ones when ``digests`` is False)."""
    cred = _device(client)
    opened = open_event(client, cred, event).json()
    plan_path = f"/v1/uploads/{opened['upload_id']}/direct"
    sent = []
    for part in _post(client, cred, plan_path).json()["parts"]:
        chunk = data[part["offset"] : part["offset"] + part["size"]]
        md5 = _md5(chunk)
        headers = {"Content-MD5": base64.b64encode(md5.digest()).decode()}
        httpx.put(part["url"], content=chunk, headers=headers).raise_for_status()
        sent.append({"number": part["number"], "md5": md5.hexdigest() if digests else "0" * 32})
    body = json.dumps({"parts": sent}).encode()
    path = f"{plan_path}/complete"
    headers = {**signed(cred, "POST", path, body), "Content-Type": "application/json"}
    return client.post(path, content=body, headers=headers)


def test_part_digests_check_a_video_in_place(
    s3_client: TestClient,  # noqa: F811
    long_clip: Path,  # noqa: F811
) -> None:
    data, services = long_clip.read_bytes(), s3_client.app.state.services  # type: ignore[attr-defined]
    sha256 = hashlib.sha256(data).hexdigest()
    done = _send_direct(s3_client, event_body(long_clip, "in-place-1"), data)
    assert done.status_code == 200, done.text
    stored = services.store.stat(original_key(sha256))
    assert (stored.sha256, stored.size, stored.checked) == (sha256, len(data), "parts")
    assert hash_object(services.store, original_key(sha256)) == sha256  # the bytes are intact


def test_a_part_changed_on_the_way_is_refused_by_the_store(
    s3_client: TestClient,  # noqa: F811
    long_clip: Path,  # noqa: F811
) -> None:
    data, cred = long_clip.read_bytes(), _device(s3_client)
    opened = open_event(s3_client, cred, event_body(long_clip, "in-place-2")).json()
    part = _post(s3_client, cred, f"/v1/uploads/{opened['upload_id']}/direct").json()["parts"][0]
    chunk = data[: part["size"]]
    md5 = base64.b64encode(_md5(chunk).digest()).decode()
    changed = bytes([chunk[0] ^ 1]) + chunk[1:]
    refused = httpx.put(part["url"], content=changed, headers={"Content-MD5": md5})
    assert refused.status_code == 400 and b"BadDigest" in refused.content


def test_digests_that_do_not_match_fall_back_to_reading_back(
    s3_client: TestClient,  # noqa: F811
    long_clip: Path,  # noqa: F811
) -> None:
    data, services = long_clip.read_bytes(), s3_client.app.state.services  # type: ignore[attr-defined]
    done = _send_direct(s3_client, event_body(long_clip, "in-place-3"), data, digests=False)
    assert done.status_code == 200, done.text
    stored = services.store.stat(original_key(hashlib.sha256(data).hexdigest()))
    assert stored.checked == "sha256"


def test_a_lying_sender_is_caught_by_the_first_full_read(
    s3_client: TestClient,  # noqa: F811
    long_clip: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    services = s3_client.app.state.services  # type: ignore[attr-defined]
    honest = long_clip.read_bytes()
    middle = len(honest) // 2
    other = honest[:middle] + bytes(b ^ 0xFF for b in honest[middle : middle + 4096])
    other += honest[middle + 4096 :]
    sha256 = hashlib.sha256(honest).hexdigest()
    # Declares the honest file's hash and length, sends other bytes with their own part MD5s.
    lie = _send_direct(s3_client, event_body(long_clip, "liar-1"), other)
    assert lie.status_code == 200, lie.text
    key = original_key(sha256)
    with pytest.raises(ObjectCorrupt):  # the worker's download, before any case
        download_checked(services.store, key, tmp_path / "original", sha256)

    # The same file reported honestly later never links to the unconfirmed bytes.
    cred = _device(s3_client, "cam-honest")
    with DashcamClient("http://testserver", cred) as client:
        client.http = s3_client
        reported = client.report(long_clip, event_id="honest-1", direct=True)
    assert hash_object(services.store, key) == sha256
    assert services.store.stat(key).checked == "sha256"
    with services.sessions() as session:
        submission = session.get(Submission, reported.submission_id)
        assert submission is not None and submission.media.key == key


def _with_parts(path: Path, event_id: str, part_size: int = 8 << 20, **more: Any) -> bytes:
    sha256, crc32 = digests(path, part_size)
    body = json.loads(event_body(path, event_id, **more))
    body["media"]["parts"] = {"size": part_size, "crc32": crc32}
    assert body["media"]["sha256"] == sha256
    return json.dumps(body).encode()


def test_declared_part_crc32s_are_signed_into_the_urls(
    s3_client: TestClient,  # noqa: F811
    long_clip: Path,  # noqa: F811
) -> None:
    """Each part's CRC32 from the event is part of its URL's signature: the store takes the
    part only with that header, and only bytes with that CRC32; the video is checked in place
    with no digest at completion."""
    data, services = long_clip.read_bytes(), s3_client.app.state.services  # type: ignore[attr-defined]
    cred = _device(s3_client)
    opened = open_event(s3_client, cred, _with_parts(long_clip, "crc-1", transfer="direct"))
    parts = opened.json()["direct"]["parts"]
    assert len(parts) == 2 and all("x-amz-checksum-crc32" in p["headers"] for p in parts)
    first = parts[0]
    chunk = data[: first["size"]]
    assert httpx.put(first["url"], content=chunk).status_code == 403  # header left out
    forged = {"x-amz-checksum-crc32": base64.b64encode(b"\0\0\0\0").decode()}
    assert httpx.put(first["url"], content=chunk, headers=forged).status_code == 403
    changed = bytes([chunk[0] ^ 1]) + chunk[1:]
    refused = httpx.put(first["url"], content=changed, headers=first["headers"])
    assert refused.status_code == 400 and b"BadDigest" in refused.content
    for part in parts:
        piece = data[part["offset"] : part["offset"] + part["size"]]
        httpx.put(part["url"], content=piece, headers=part["headers"]).raise_for_status()
    done = _post(s3_client, cred, f"/v1/uploads/{opened.json()['upload_id']}/direct/complete")
    assert done.status_code == 200, done.text
    sha256 = hashlib.sha256(data).hexdigest()
    stored = services.store.stat(original_key(sha256))
    assert (stored.sha256, stored.size, stored.checked) == (sha256, len(data), "parts")
    assert hash_object(services.store, original_key(sha256)) == sha256


def test_the_reference_client_declares_crc32s(s3_client: TestClient) -> None:  # noqa: F811
    """``DashcamClient.report(direct=True)`` sends the parts' CRC32s and no MD5."""
    services = s3_client.app.state.services  # type: ignore[attr-defined]
    clip = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"
    with DashcamClient("http://testserver", _device(s3_client, "cam-crc")) as client:
        client.http = s3_client
        reported = client.report(clip, event_id="crc-2", direct=True)
    sha256 = hashlib.sha256(clip.read_bytes()).hexdigest()
    assert services.store.stat(original_key(sha256)).checked == "parts"
    with services.sessions() as session:
        submission = session.get(Submission, reported.submission_id)
        assert submission is not None and submission.media.sha256 == sha256


def test_part_checksums_that_do_not_fit_the_file_are_refused(
    s3_client: TestClient,  # noqa: F811
    long_clip: Path,  # noqa: F811
) -> None:
    cred = _device(s3_client)
    small = open_event(s3_client, cred, _with_parts(long_clip, "crc-3", part_size=1 << 20))
    assert small.status_code == 422 and small.json()["error"] == "bad_parts"
    body = json.loads(_with_parts(long_clip, "crc-4"))
    body["media"]["parts"]["crc32"] = body["media"]["parts"]["crc32"][:1]
    short = open_event(s3_client, cred, json.dumps(body).encode())
    assert short.status_code == 422 and short.json()["error"] == "bad_parts"
    body["media"]["parts"]["crc32"] = ["not base64"] * 2
    assert open_event(s3_client, cred, json.dumps(body).encode()).status_code == 422


def test_an_original_checked_in_place_is_not_copied(
    s3_client: TestClient,  # noqa: F811
    long_clip: Path,  # noqa: F811
) -> None:
    """The multipart upload begins with the original's metadata (the store keeps it on the
    assembled object): no copy onto itself to seal it, which SeaweedFS does byte by byte."""
    services = s3_client.app.state.services  # type: ignore[attr-defined]
    copies: list[str] = []
    client = services.store.client
    real_copy = client.copy_object
    client.copy_object = lambda *a, **k: copies.append(a[1]) or real_copy(*a, **k)
    try:
        cred = _device(s3_client)
        opened = open_event(s3_client, cred, _with_parts(long_clip, "crc-5", transfer="direct"))
        data = long_clip.read_bytes()
        for part in opened.json()["direct"]["parts"]:
            piece = data[part["offset"] : part["offset"] + part["size"]]
            httpx.put(part["url"], content=piece, headers=part["headers"]).raise_for_status()
        upload_id = opened.json()["upload_id"]
        done = _post(s3_client, cred, f"/v1/uploads/{upload_id}/direct/complete")
        assert done.status_code == 200, done.text
    finally:
        client.copy_object = real_copy
    sha256 = hashlib.sha256(data).hexdigest()
    stored = services.store.stat(original_key(sha256))
    assert (stored.sha256, stored.checked, stored.content_type) == (sha256, "parts", "video/mp4")
    assert copies == []
