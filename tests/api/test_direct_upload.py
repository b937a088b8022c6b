"""Protocol v2 in S3 mode: bytes straight to a real S3 server (SeaweedFS) by presigned
multipart part URLs; the API checks the assembled object's SHA-256 and media before accepting.
Resumable (the plan lists the parts already held), idempotent, checked; embedded mode refuses."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api import routes_direct
from api.app import create_app
from ingest.db import DirectUpload, Submission, Upload
from ingest.migrate import upgrade
from ingest.submissions import original_key
from roadwitness.dashcam import DashcamClient, DeviceCredential
from tests.api.test_protocol import event_body, open_event, signed
from tests.conftest import DATA_DIR, s3_overrides
from workers.frames import run_ffmpeg

CLIP = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real dashcam clip four times over (stream copy): over 8 MiB, so two S3 parts."""
    out = tmp_path_factory.mktemp("media") / "long.mp4"
    run_ffmpeg("-stream_loop", "3", "-i", str(CLIP), "-c", "copy", str(out))
    return out


@pytest.fixture
def s3_client(make_settings: Callable[..., Any], s3_server: Any) -> Iterator[TestClient]:
    settings = make_settings(**s3_overrides(s3_server, f"direct-{uuid.uuid4().hex[:8]}"))
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        yield client


def _device(client: TestClient) -> DeviceCredential:
    identity = client.app.state.services.identity  # type: ignore[attr-defined]
    issued = identity.register_device("cam-direct", owner="Li Lei", model="RW-Cam 2")
    return DeviceCredential(issued.device_id, issued.key_id, issued.private_key)


def _post(client: TestClient, cred: DeviceCredential, path: str) -> Any:
    return client.post(path, headers=signed(cred, "POST", path))


def test_parts_go_to_the_store_and_resume(s3_client: TestClient, long_clip: Path) -> None:
    cred, data = _device(s3_client), long_clip.read_bytes()
    opened = open_event(s3_client, cred, event_body(long_clip, "direct-1")).json()
    plan_path = f"/v1/uploads/{opened['upload_id']}/direct"
    plan = _post(s3_client, cred, plan_path).json()
    assert len(plan["parts"]) == 2 and not any(p["done"] for p in plan["parts"])

    first = plan["parts"][0]
    part = data[first["offset"] : first["offset"] + first["size"]]
    assert httpx.put(first["url"], content=part).status_code == 200  # straight to S3
    early = _post(s3_client, cred, f"{plan_path}/complete")
    assert early.status_code == 409 and early.json()["error"] == "parts_missing"

    again = _post(s3_client, cred, plan_path).json()  # after a cut connection
    assert [p["done"] for p in again["parts"]] == [True, False]
    rest = again["parts"][1]
    httpx.put(rest["url"], content=data[rest["offset"] :]).raise_for_status()
    done = _post(s3_client, cred, f"{plan_path}/complete")
    assert done.status_code == 200, done.text
    submission_id = done.json()["submission_id"]
    assert done.headers["RW-Submission-Id"] == submission_id
    twice = _post(s3_client, cred, f"{plan_path}/complete")
    assert twice.json()["submission_id"] == submission_id  # idempotent

    services = s3_client.app.state.services  # type: ignore[attr-defined]
    sha256 = hashlib.sha256(data).hexdigest()
    stored = services.store.stat(original_key(sha256))
    assert (stored.sha256, stored.size) == (sha256, len(data))
    assert not services.store.exists(f"staging/{opened['upload_id']}")
    with services.sessions() as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None and submission.media.sha256 == sha256
    reopened = open_event(s3_client, cred, event_body(long_clip, "direct-1")).json()
    assert reopened["submission_id"] == submission_id


def test_the_event_answer_carries_the_plan(s3_client: TestClient, long_clip: Path) -> None:
    """``transfer: direct`` in the event: the plan comes in the answer (one request fewer);
    sent again, the same plan with the parts the store holds marked done."""
    cred, data = _device(s3_client), long_clip.read_bytes()
    body = event_body(long_clip, "direct-7", transfer="direct")
    opened = open_event(s3_client, cred, body).json()
    plan = opened["direct"]
    assert plan["upload_id"] == opened["upload_id"] and len(plan["parts"]) == 2
    first = plan["parts"][0]
    httpx.put(first["url"], content=data[: first["size"]]).raise_for_status()
    again = open_event(s3_client, cred, body).json()["direct"]
    assert [p["done"] for p in again["parts"]] == [True, False]
    rest = again["parts"][1]
    httpx.put(rest["url"], content=data[rest["offset"] :]).raise_for_status()
    done = _post(s3_client, cred, plan["complete_url"])
    assert done.status_code == 200, done.text
    services = s3_client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        upload = session.get(Upload, opened["upload_id"])
        assert upload is not None and "transfer" not in upload.event
    assert open_event(s3_client, cred, body).json()["direct"] is None  # done: no plan


def test_wrong_bytes_restart_and_non_media_fails(s3_client: TestClient, tmp_path: Path) -> None:
    cred, data = _device(s3_client), CLIP.read_bytes()
    opened = open_event(s3_client, cred, event_body(CLIP, "direct-2")).json()
    plan_path = f"/v1/uploads/{opened['upload_id']}/direct"
    (part,) = _post(s3_client, cred, plan_path).json()["parts"]
    httpx.put(part["url"], content=data[::-1]).raise_for_status()  # same size, other bytes
    wrong = _post(s3_client, cred, f"{plan_path}/complete")
    assert wrong.status_code == 422 and wrong.json()["error"] == "sha256_mismatch"
    (part,) = _post(s3_client, cred, plan_path).json()["parts"]
    assert not part["done"]  # started afresh
    httpx.put(part["url"], content=data).raise_for_status()
    assert _post(s3_client, cred, f"{plan_path}/complete").status_code == 200

    junk = tmp_path / "notes.mp4"
    junk.write_bytes(b"not a video at all " * 4000)
    opened = open_event(s3_client, cred, event_body(junk, "direct-3")).json()
    plan_path = f"/v1/uploads/{opened['upload_id']}/direct"
    (part,) = _post(s3_client, cred, plan_path).json()["parts"]
    httpx.put(part["url"], content=junk.read_bytes()).raise_for_status()
    bad = _post(s3_client, cred, f"{plan_path}/complete")
    assert 400 <= bad.status_code < 500 and bad.json()["error"] == "bad_media"
    assert _post(s3_client, cred, plan_path).status_code == 410


def test_housekeeping_aborts_given_up_multipart_uploads(s3_client: TestClient) -> None:
    cred = _device(s3_client)
    opened = open_event(s3_client, cred, event_body(CLIP, "direct-6")).json()
    upload_id = opened["upload_id"]
    _post(s3_client, cred, f"/v1/uploads/{upload_id}/direct").raise_for_status()
    url = opened["upload_url"]
    assert s3_client.delete(url, headers=signed(cred, "DELETE", url)).status_code == 204
    services = s3_client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        assert session.get(DirectUpload, upload_id) is not None
    routes_direct.housekeep(services)
    with services.sessions() as session:
        assert session.get(DirectUpload, upload_id) is None


def test_the_reference_client_sends_direct(s3_client: TestClient, long_clip: Path) -> None:
    cred = _device(s3_client)
    asked: list[str] = []
    s3_client.event_hooks["request"].append(lambda request: asked.append(request.url.path))
    with DashcamClient("http://testserver", cred) as client:
        client.http = s3_client  # the in-process API; the parts still go to the real S3
        first = client.report(long_clip, event_id="direct-4", direct=True)
        # Two requests to the API: the event (its answer carries the plan) and the completion.
        assert asked == ["/v1/events", f"/v1/uploads/{first.upload_id}/direct/complete"]
        # The same file again: its parts go to a staging key, never over the stored original.
        second = client.report(long_clip, event_id="direct-4b", direct=True)
    services = s3_client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        one, two = (
            session.get(Submission, first.submission_id),
            session.get(Submission, second.submission_id),
        )
        assert one is not None and two is not None and one.media_id == two.media_id
        assert services.store.stat(one.media.key).sha256 == one.media.sha256
    assert not services.store.exists(f"staging/{second.upload_id}")


def test_embedded_mode_keeps_tus(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        cred = _device(client)
        opened = open_event(client, cred, event_body(CLIP, "direct-5")).json()
        asked = open_event(client, cred, event_body(CLIP, "direct-5", transfer="direct"))
        assert asked.json()["direct"] is None  # no S3 store: no plan, tus as before
        refused = _post(client, cred, f"/v1/uploads/{opened['upload_id']}/direct")
        assert refused.status_code == 409 and refused.json()["error"] == "direct_unavailable"
        assert json.loads(refused.text)["detail"]
