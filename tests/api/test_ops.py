"""Operations endpoints in-process: back-pressure on new uploads, /readyz against real servers
that go away, /metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from api.app import create_app
from harness.servers import PG_ADMIN, postgres_database, seaweed_s3
from ingest.db import Job, Submission
from ingest.migrate import upgrade
from tests.conftest import DATA_DIR, s3_overrides

PHOTOS = [DATA_DIR / "images" / f"dev_vehicle_{n:03d}.jpg" for n in (8, 9, 14)]


def _reporter(client: TestClient) -> None:
    token = client.post("/v1/reporters", json={}).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"


def _upload(client: TestClient, path: Path) -> Any:
    with path.open("rb") as fh:
        return client.post("/v1/submissions", files={"file": (path.name, fh)})


def test_new_uploads_get_503_with_retry_after_while_the_queue_is_full(
    make_settings: Callable[..., Any],
) -> None:
    settings = make_settings(max_queue_depth=2, busy_retry_after_s=7)
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        _reporter(client)
        assert _upload(client, PHOTOS[0]).status_code == 201
        time.sleep(1.1)  # the depth is read at most once a second
        assert _upload(client, PHOTOS[1]).status_code == 201
        time.sleep(1.1)
        refused = _upload(client, PHOTOS[2])
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "7"
        assert refused.json()["error"] == "busy"
        event = {"event_id": "e1", "media": {"size": 10, "sha256": "0" * 64, "filename": "a.mp4"}}
        opened = client.post("/v1/events", json=event)
        assert opened.status_code == 503 and opened.headers["Retry-After"] == "7"
        assert client.get("/healthz").status_code == 200  # only new uploads wait
        services = client.app.state.services  # type: ignore[attr-defined]
        with services.sessions.begin() as session:
            assert session.scalar(select(func.count()).select_from(Submission)) == 2
            # One job leaves the queue: uploads are taken again.
            job = session.scalars(select(Job).order_by(Job.created_at)).first()
            job.state = "done"
        time.sleep(1.1)
        assert _upload(client, PHOTOS[2]).status_code == 201
        scraped = client.get("/metrics").text
    refused_total = [
        s.value
        for f in text_string_to_metric_families(scraped)
        for s in f.samples
        if s.name == "roadwitness_uploads_refused_total"
    ]
    assert refused_total and refused_total[0] >= 2


def test_no_limit_never_refuses(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        _reporter(client)
        for photo in PHOTOS:
            assert _upload(client, photo).status_code == 201


@pytest.mark.integration
def test_readyz_answers_503_when_the_store_stops(
    make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    (tmp_path / "s3").mkdir()
    with seaweed_s3(tmp_path / "s3") as server:
        settings = make_settings(**s3_overrides(server, "readyz"))
        upgrade(settings.database_url)
        client = TestClient(create_app(settings))
        client.__enter__()
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready"}
    try:
        down = client.get("/readyz")
        assert down.status_code == 503
        body = down.json()
        assert body["error"] == "not_ready"
        assert set(body["missing"]) == {"store"}
        assert client.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        client.__exit__(None, None, None)


@pytest.mark.integration
def test_readyz_answers_503_when_the_database_goes(make_settings: Callable[..., Any]) -> None:
    with postgres_database() as url:
        settings = make_settings(database_url=url)
        upgrade(url)
        with TestClient(create_app(settings)) as client:
            assert client.get("/readyz").status_code == 200
            name = url.rsplit("/", 1)[1]
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            down = client.get("/readyz")
            assert down.status_code == 503
            assert {"database", "queue"} <= set(down.json()["missing"])


def test_metrics_answer_without_the_database_gauges_when_it_is_not_there(
    make_settings: Callable[..., Any],
) -> None:
    settings = make_settings()  # no schema: every database gauge fails
    with TestClient(create_app(settings)) as client:
        page = client.get("/metrics")
        assert page.status_code == 200
        samples = {
            s.name: s.value for f in text_string_to_metric_families(page.text) for s in f.samples
        }
        assert samples["roadwitness_database_scrape_ok"] == 0
        upgrade(settings.database_url)
        samples = {
            (s.name, s.labels.get("queue")): s.value
            for f in text_string_to_metric_families(client.get("/metrics").text)
            for s in f.samples
        }
        assert samples[("roadwitness_database_scrape_ok", None)] == 1
        assert samples[("roadwitness_queue_depth", "process_submission")] == 0
