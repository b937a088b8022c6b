"""Many senders at once on one upload, on SQLite and on PostgreSQL: ten clients re-send one
event id and resume its upload at the same time, round after round. One submission per event,
no 5xx, and no valid upload marked bad."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from ingest.db import Submission, Upload
from ingest.migrate import upgrade
from roadwitness.dashcam import DeviceCredential
from tests.api.test_protocol import signed
from tests.conftest import DATA_DIR

CLIENTS, ROUNDS = 10, 20
CHUNK = 60_000


@pytest.fixture(params=["sqlite", "postgresql"])
def client(
    request: pytest.FixtureRequest, make_settings: Callable[..., Any]
) -> Iterator[TestClient]:
    overrides = (
        {"database_url": request.getfixturevalue("pg_url")} if request.param != "sqlite" else {}
    )
    settings = make_settings(**overrides)
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _device(client: TestClient) -> DeviceCredential:
    identity = client.app.state.services.identity  # type: ignore[attr-defined]
    credential = identity.register_device(f"cam-{uuid.uuid4().hex[:8]}", owner="Li", model="RW")
    return DeviceCredential(credential.device_id, credential.key_id, credential.private_key)


def _sender(
    client: TestClient,
    cred: DeviceCredential,
    body: bytes,
    data: bytes,
    statuses: Counter[int],
    submissions: list[str],
    start: threading.Barrier,
) -> None:
    """One client: open the event, then HEAD and PATCH from the server's offset until the
    upload is complete, as a resuming dashcam does."""
    start.wait()
    headers = signed(cred, "POST", "/v1/events", body, **{"Content-Type": "application/json"})
    opened = client.post("/v1/events", content=body, headers=headers)
    statuses[opened.status_code] += 1
    url = opened.json()["upload_url"]
    for _ in range(200):
        head = client.head(url, headers=signed(cred, "HEAD", url))
        statuses[head.status_code] += 1
        if "RW-Submission-Id" in head.headers:
            submissions.append(head.headers["RW-Submission-Id"])
            return
        if head.status_code != 200:
            return
        offset = int(head.headers["Upload-Offset"])
        chunk = data[offset : offset + CHUNK]
        extra = {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        }
        done = client.patch(url, content=chunk, headers=signed(cred, "PATCH", url, chunk, **extra))
        statuses[done.status_code] += 1
        if "RW-Submission-Id" in done.headers:
            submissions.append(done.headers["RW-Submission-Id"])
            return


def test_ten_clients_resuming_one_event_make_one_submission(client: TestClient) -> None:
    cred = _device(client)
    services = client.app.state.services  # type: ignore[attr-defined]
    photos = sorted((DATA_DIR / "images").glob("*.jpg"))
    statuses: Counter[int] = Counter()
    for round_ in range(ROUNDS):
        photo: Path = photos[round_ % len(photos)]
        data = photo.read_bytes()
        event_id = f"race-{round_}"
        body = json.dumps(
            {
                "event_id": event_id,
                "trigger": "button",
                "media": {
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "filename": photo.name,
                },
            }
        ).encode()
        submissions: list[str] = []
        start = threading.Barrier(CLIENTS)
        threads = [
            threading.Thread(
                target=_sender, args=(client, cred, body, data, statuses, submissions, start)
            )
            for _ in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not [s for s in statuses if s >= 500], (round_, statuses)
        assert len(submissions) == CLIENTS and len(set(submissions)) == 1, (round_, statuses)
        with services.sessions() as session:
            made = session.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.device_id == cred.device, Submission.event_id == event_id)
            )
            upload = session.scalar(
                select(Upload).where(
                    Upload.owner == f"device:{cred.device}", Upload.event_id == event_id
                )
            )
        assert made == 1, (round_, made)
        assert upload is not None and (upload.state, upload.submission_id) == (
            "complete",
            submissions[0],
        )
    # the races did happen: senders were turned away and resumed
    assert statuses[409] + statuses[423] > 0, statuses
