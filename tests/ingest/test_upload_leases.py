"""The per-upload lease on SQLite and PostgreSQL: one holder at a time, taken over only after
its holder stops renewing it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ingest.db import Upload, make_engine, make_sessionmaker, now
from ingest.migrate import upgrade
from ingest.upload_leases import LeaseLost, Leases


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(
    request: pytest.FixtureRequest, make_settings: Callable[..., Any]
) -> Iterator[sessionmaker[Session]]:
    overrides = (
        {"database_url": request.getfixturevalue("pg_url")} if request.param != "sqlite" else {}
    )
    settings = make_settings(**overrides)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _upload(sessions: sessionmaker[Session], offset: int = 0) -> str:
    with sessions.begin() as session:
        upload = Upload(
            owner="reporter:r1",
            event_id=f"e-{time.monotonic_ns()}",
            length=10,
            sha256="0" * 64,
            offset=offset,
            expires_at=now() + timedelta(hours=1),
        )
        session.add(upload)
        session.flush()
        return upload.id


def test_one_holder_at_a_time_among_racing_takers(sessions: sessionmaker[Session]) -> None:
    leases = Leases(sessions)
    upload_id = _upload(sessions)
    start, tokens = threading.Barrier(10), []

    def take() -> None:
        start.wait()
        tokens.append(leases.take(upload_id, "reporter:r1", offset=0))

    threads = [threading.Thread(target=take) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = [t for t in tokens if t is not None]
    assert len(held) == 1
    assert leases.take(upload_id, "reporter:r2") is None  # not the owner's
    with sessions.begin() as session:
        leases.release(session, upload_id, held[0], offset=5)
    assert leases.take(upload_id, "reporter:r1", offset=0) is None  # the offset moved
    assert leases.take(upload_id, "reporter:r1", offset=5) is not None


def test_a_silent_holder_is_taken_over_and_its_writes_refused(
    sessions: sessionmaker[Session],
) -> None:
    leases = Leases(sessions, ttl=timedelta(seconds=0.3))
    upload_id = _upload(sessions)
    dead = leases.take(upload_id, "reporter:r1")
    assert dead is not None and leases.take(upload_id, "reporter:r1") is None
    time.sleep(0.4)
    alive = leases.take(upload_id, "reporter:r1")
    assert alive is not None
    with pytest.raises(LeaseLost), sessions.begin() as session:
        leases.release(session, upload_id, dead, offset=10)
    with sessions() as session:
        upload = session.get(Upload, upload_id)
        assert upload is not None and upload.offset == 0


def test_a_working_holder_keeps_its_lease(sessions: sessionmaker[Session]) -> None:
    leases = Leases(sessions, ttl=timedelta(seconds=0.3))
    upload_id = _upload(sessions)
    token = leases.take(upload_id, "reporter:r1")
    assert token is not None
    with leases.held(upload_id, token):
        time.sleep(0.8)  # renewed in the background meanwhile
        assert leases.take(upload_id, "reporter:r1") is None
    assert leases.take(upload_id, "reporter:r1") is not None  # freed at the end of the block
