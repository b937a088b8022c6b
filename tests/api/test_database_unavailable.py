"""A database that is busy or gone is a 503 with ``Retry-After``, never a 500: every database
connection held (the pool's wait runs out) and a PostgreSQL server that cannot be reached."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from ingest.migrate import upgrade
from tests.conftest import MODELS_DIR


def _unavailable(response: object) -> None:
    status = getattr(response, "status_code", None)
    assert status == 503, getattr(response, "text", "")[:300]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == "unavailable" and "again" in body["detail"], body
    assert int(response.headers["Retry-After"]) > 0  # type: ignore[attr-defined]


def test_every_connection_busy_is_a_503_and_the_request_works_once_one_is_free(
    pg_url: str, tmp_path: Path
) -> None:
    from settings import load_settings

    settings = load_settings(
        None,
        data_dir=tmp_path,
        models_dir=MODELS_DIR,
        database_url=pg_url,
        db_pool_size=1,
        db_pool_overflow=0,
        db_pool_timeout_s=0.2,
    )
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.services.engine  # type: ignore[attr-defined]
        held = engine.connect()  # the pool's one connection
        try:
            _unavailable(client.post("/v1/reporters", json={}))
        finally:
            held.close()
        answer = client.post("/v1/reporters", json={})
        assert answer.status_code == 201, answer.text
        assert answer.json()["token"]


def test_an_unreachable_database_is_a_503(tmp_path: Path) -> None:
    from settings import load_settings

    settings = load_settings(
        None,
        data_dir=tmp_path,
        models_dir=MODELS_DIR,
        # port 1 on this machine: nothing listens there, the connection is refused at once
        database_url="postgresql+psycopg://roadwitness@127.0.0.1:1/roadwitness",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        _unavailable(client.post("/v1/reporters", json={}))
        _unavailable(client.get("/v1/reports", headers={"Authorization": "Bearer not-a-token"}))
