"""The HTTP API in-process, on the embedded backends (SQLite, local folder store)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from ingest.db import AuditEvent, Job, MediaObject, Submission
from ingest.migrate import upgrade
from ingest.submissions import original_key
from tests.conftest import DATA_DIR, labels
from tests.media import bad_files
from workers.jobs import SubmissionProcessor
from workers.runner import run

PHOTO = "images/dev_vehicle_014.jpg"


@pytest.fixture
def client(make_settings: Callable[..., Any]) -> Iterator[TestClient]:
    settings = make_settings(max_upload_bytes=2_000_000, job_retry_delay_s=0)
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as test_client:
        token = test_client.post("/v1/reporters", json={}).json()["token"]
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


def staff(client: TestClient, user: str, role: str = "officer") -> dict[str, str]:
    """Headers of a signed-in staff member (the account is made on first use)."""
    services = client.app.state.services  # type: ignore[attr-defined]
    with contextlib.suppress(ValueError):  # made by an earlier call
        services.staff.add_user(user, role, "correct horse battery")
    token, _ = services.staff.login(user, "correct horse battery")
    return {"Authorization": f"Bearer {token}"}


def _counts(client: TestClient) -> tuple[int, int, int, int]:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as s:
        rows = tuple(
            s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Submission, MediaObject, Job)
        )
    objects = services.settings.local_store_path
    files = len([p for p in objects.rglob("*") if p.is_file()]) if objects.exists() else 0
    return (*rows, files)  # type: ignore[return-value]


def _upload(client: TestClient, path: Path, **form: str) -> Any:
    with path.open("rb") as fh:
        return client.post("/v1/submissions", files={"file": (path.name, fh)}, data=form)


def test_each_malformed_upload_gets_a_reason_and_leaves_nothing(
    client: TestClient, tmp_path: Path
) -> None:
    for name, (path, status) in bad_files(tmp_path).items():
        response = _upload(client, path)
        assert response.status_code == status, (name, response.text)
        assert response.json()["detail"]
    assert _counts(client) == (0, 0, 0, 0)


def test_bad_fields_and_oversized_uploads_are_refused(client: TestClient, tmp_path: Path) -> None:
    photo = DATA_DIR / PHOTO
    assert _upload(client, photo, violation="speeding-ish").status_code == 422
    assert _upload(client, photo, latitude="22.5").status_code == 422
    assert _upload(client, photo, latitude="99", longitude="114").status_code == 422
    assert _upload(client, photo, taken_at="2026-11-23T08:00:00").status_code == 422
    assert client.post("/v1/submissions", data={"violation": "bus_lane"}).status_code == 422
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\x00" * 2_500_000)
    response = _upload(client, big)
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert _counts(client) == (0, 0, 0, 0)


def test_uploads_need_a_reporter_token(client: TestClient) -> None:
    photo = DATA_DIR / PHOTO
    with photo.open("rb") as fh:
        anonymous = client.post(
            "/v1/submissions", files={"file": ("a.jpg", fh)}, headers={"Authorization": ""}
        )
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing_credentials"
    with photo.open("rb") as fh:
        forged = client.post(
            "/v1/submissions",
            files={"file": ("a.jpg", fh)},
            headers={"Authorization": "Bearer rwr_not-a-token"},
        )
    assert forged.status_code == 401 and forged.json()["error"] == "bad_token"
    assert _counts(client) == (0, 0, 0, 0)


def test_upload_status_review_and_decision(client: TestClient, models: Any) -> None:
    photo = DATA_DIR / PHOTO
    label = next(r["plate_text"] for r in labels() if r["file"] == PHOTO)
    response = _upload(
        client,
        photo,
        violation="bus_lane",
        latitude="22.54",
        longitude="114.06",
        taken_at="2026-11-23T08:15:00+08:00",
    )
    assert response.status_code == 201, response.text
    created = response.json()
    o1, o2 = staff(client, "o1"), staff(client, "o2")
    status = client.get(f"/v1/submissions/{created['id']}", headers=o1).json()
    assert status["status"] == "received" and status["job"]["state"] == "queued"

    services = client.app.state.services  # type: ignore[attr-defined]
    run(services, SubmissionProcessor(services, models), drain=True)

    status = client.get(f"/v1/submissions/{created['id']}", headers=o1).json()
    assert status["status"] == "candidate" and status["job"]["state"] == "done"
    queue = client.get("/v1/cases", headers=o1).json()
    assert queue["total"] == 1
    case = client.get(f"/v1/cases/{queue['items'][0]['id']}", headers=o1).json()
    assert case["plate"] == label and case["violation"] == "bus_lane"
    assert case["latitude"] == 22.54 and case["original_sha256"] == created["sha256"]
    roles = {e["role"] for e in case["evidence"]}
    assert roles == {"frame_during", "raw_during", "plate_crop", "metadata", "manifest"}
    assert case["rule"] == "declared@1" and "bus lane" in case["explanation"]
    crop = next(e for e in case["evidence"] if e["role"] == "plate_crop")
    body = client.get(crop["url"], headers=o1)
    assert body.status_code == 200 and body.headers["x-content-sha256"] == crop["sha256"]
    assert len(body.content) == crop["size"]
    checked = client.post(f"/v1/cases/{case['id']}/verify", headers=o1).json()
    assert checked["ok"] and len(checked["checked"]) == 5 and not checked["problems"]
    with services.sessions() as s:
        custody = s.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "evidence").order_by(AuditEvent.id)
        ).all()
    assert custody.count("evidence_created") == 5 and custody.count("evidence_viewed") == 1
    assert custody.count("evidence_verified") == 5

    url = f"/v1/cases/{case['id']}/decision"
    bad = client.post(url, json={"decision": "reject"}, headers=o1)
    assert bad.status_code == 422  # a rejection needs a reason
    wrong_plate = client.post(url, json={"decision": "confirm", "plate": "XYZ"}, headers=o1)
    assert wrong_plate.status_code == 422
    claimed = client.post(f"/v1/cases/{case['id']}/claim", headers=o1)
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "o1"
    taken = client.post(url, json={"decision": "confirm"}, headers=o2)
    assert taken.status_code == 409 and "o1" in taken.json()["detail"]  # o1 holds it
    done = client.post(url, json={"decision": "confirm"}, headers=o1)
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    again = client.post(
        url, json={"decision": "reject", "reason": "other", "note": "late"}, headers=o2
    )
    assert again.status_code == 409 and "confirmed" in again.json()["detail"]
    assert client.get("/v1/cases", headers=o1).json()["total"] == 0
    with services.sessions() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.entity_id == case["id"]).order_by(AuditEvent.id)
        ).all()
        assert [e.action for e in events] == ["case_created", "claim", "confirmed"]
        assert events[2].actor == "officer:o1"
        assert events[2].data["before"]["status"] == "under_review"
        assert events[2].data["after"]["status"] == "confirmed"


def test_unknown_ids_are_404(client: TestClient) -> None:
    o = staff(client, "o")
    assert client.get("/v1/submissions/nope", headers=o).status_code == 404
    assert client.get("/v1/cases/nope", headers=o).status_code == 404
    assert client.get("/v1/evidence/nope", headers=o).status_code == 404
    decision = client.post("/v1/cases/nope/decision", json={"decision": "confirm"}, headers=o)
    assert decision.status_code == 404


def test_a_job_that_keeps_failing_shows_failed_with_its_reason(
    client: TestClient, models: Any
) -> None:
    response = _upload(client, DATA_DIR / PHOTO)
    created = response.json()
    services = client.app.state.services  # type: ignore[attr-defined]
    # The original vanishes from the store (an operator's mistake): every attempt fails.
    services.store.delete(original_key(created["sha256"]))
    handled = run(services, SubmissionProcessor(services, models), drain=True)
    assert handled == services.settings.job_max_attempts
    status = client.get(f"/v1/submissions/{created['id']}", headers=staff(client, "o")).json()
    assert status["status"] == "failed" and status["job"]["state"] == "failed"
    assert status["job"]["attempts"] == services.settings.job_max_attempts
    assert "ObjectMissing" in status["job"]["last_error"] and status["error"]
