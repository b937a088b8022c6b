"""A real photo uploaded over HTTP to the API process, processed by a separate worker process,
reviewed by an officer: on the embedded backends and on PostgreSQL + S3 + Procrastinate."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from harness.processes import api_server, run_cli, running, wait_for
from ingest.db import AuditEvent, make_engine, make_sessionmaker
from tests.conftest import DATA_DIR, MODELS_DIR, labels

pytestmark = pytest.mark.integration

PHOTO = "images/dev_vehicle_009.jpg"


def _backends(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    base: dict[str, Any] = {"data_dir": tmp_path / "var", "models_dir": MODELS_DIR}
    if kind == "embedded":
        return base
    server = request.getfixturevalue("s3_server")
    return {
        **base,
        "database_url": request.getfixturevalue("pg_url"),
        "queue": "procrastinate",
        "store": "s3",
        "s3_endpoint": server.endpoint,
        "s3_access_key": server.access_key,
        "s3_secret_key": server.secret_key,
        "s3_bucket": f"e2e-{uuid.uuid4().hex[:8]}",
    }


@pytest.mark.parametrize("kind", ["embedded", "distributed"])
def test_upload_process_review(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    settings = _backends(kind, tmp_path, request)
    run_cli(settings, "db", "upgrade")
    run_cli(settings, "staff", "add", "officer-7", "--role", "officer", "--password", "s3cret-pass")
    label = next(r["plate_text"] for r in labels() if r["file"] == PHOTO)
    logs = tmp_path
    with api_server(settings, logs) as api, running("worker", ["worker"], settings, logs) as worker:
        token = api.post("/v1/reporters", json={}).json()["token"]
        with (DATA_DIR / PHOTO).open("rb") as fh:
            created = api.post(
                "/v1/submissions",
                files={"file": ("car.jpg", fh, "image/jpeg")},
                data={"violation": "emergency_lane"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert created.status_code == 201, created.text
        status_url = f"/v1/submissions/{created.json()['id']}"
        login = api.post(
            "/v1/staff/login", json={"username": "officer-7", "password": "s3cret-pass"}
        )
        officer = {"Authorization": f"Bearer {login.json()['token']}"}

        def finished() -> dict[str, Any] | None:
            body: dict[str, Any] = api.get(status_url, headers=officer).json()
            return body if body["status"] in ("candidate", "no_case", "failed") else None

        status = wait_for(finished, 120, worker.log)
        assert status["status"] == "candidate", status
        case = api.get(f"/v1/cases/{status['cases'][0]}", headers=officer).json()
        assert case["plate"] == label and case["violation"] == "emergency_lane"
        frame = next(e for e in case["evidence"] if e["role"] == "raw_during")
        image = api.get(frame["url"], headers=officer)
        assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"

        decided = api.post(
            f"/v1/cases/{case['id']}/decision", json={"decision": "confirm"}, headers=officer
        )
        assert decided.status_code == 200 and decided.json()["status"] == "confirmed"
        report = api.get(created.json()["status_url"], headers={"Authorization": f"Bearer {token}"})
        assert report.status_code == 200, report.text
        assert report.json()["state"] == "confirmed"
    verified = run_cli(settings, "evidence", "verify", case["id"])
    assert "all 5 file(s) verify" in verified, verified

    engine = make_engine(
        settings.get("database_url") or f"sqlite:///{settings['data_dir'] / 'roadwitness.db'}"
    )
    with make_sessionmaker(engine)() as session:
        event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.entity_id == case["id"], AuditEvent.action == "confirmed"
            )
        )
        assert event is not None and event.actor == "officer:officer-7"
    engine.dispose()
