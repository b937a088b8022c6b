"""The intake and the job ledger, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from cases.services import Services
from harness.servers import postgres_database
from ingest.db import AuditEvent, Job, MediaObject, Submission
from ingest.migrate import upgrade
from ingest.queue import Claim, LostLease, run_claimed, run_worker
from ingest.store import sha256_file
from ingest.submissions import Declared, original_key
from tests.conftest import DATA_DIR

PHOTO = DATA_DIR / "images" / "dev_vehicle_014.jpg"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def services(
    request: pytest.FixtureRequest, make_settings: Callable[..., Any]
) -> Iterator[Services]:
    def build(url: str | None) -> Services:
        settings = make_settings(
            **({"database_url": url} if url else {}),
            job_lease_s=1.0,
            job_retry_delay_s=0.0,
            job_max_attempts=2,
        )
        upgrade(settings.database_url)
        return Services.build(settings)

    if request.param == "sqlite":
        built = build(None)
        yield built
        built.close()
    else:
        with postgres_database() as url:
            built = build(url)
            yield built
            built.close()


def _count(services: Services, model: Any) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_migrations_are_idempotent(services: Services) -> None:
    upgrade(services.settings.database_url)
    assert _count(services, Job) == 0


def test_accepted_upload_has_its_job_and_audit(services: Services) -> None:
    sub = services.intake.accept(PHOTO, "car.jpg", Declared(violation="bus_lane"))
    with services.sessions() as session:
        job = session.scalar(select(Job).where(Job.submission_id == sub.id))
        assert job is not None and job.state == "queued" and job.attempts == 0
        assert (
            session.scalar(select(AuditEvent.action).where(AuditEvent.entity_id == sub.id))
            == "submitted"
        )
    assert services.store.stat(original_key(sub.sha256)).sha256 == sub.sha256


def test_identical_originals_are_stored_once(services: Services) -> None:
    a = services.intake.accept(PHOTO, "a.jpg", Declared())
    b = services.intake.accept(PHOTO, "b.jpg", Declared())
    assert a.id != b.id and a.media_id == b.media_id
    assert _count(services, MediaObject) == 1 and _count(services, Job) == 2


def test_failed_record_leaves_no_row_and_no_object(services: Services) -> None:
    from datetime import datetime

    # A naive time is refused when the row is written, after the original was stored:
    # the intake must roll back and remove the object it created.
    with pytest.raises(StatementError, match="naive"):
        services.intake.accept(PHOTO, "car.jpg", Declared(taken_at=datetime(2026, 1, 1)))
    assert _count(services, Submission) == 0 and _count(services, MediaObject) == 0
    assert _count(services, Job) == 0
    sha = sha256_file(PHOTO)
    assert not services.store.exists(original_key(sha))


def test_claim_complete_and_fence(services: Services) -> None:
    services.intake.accept(PHOTO, "car.jpg", Declared())
    claim = services.ledger.claim("w1")
    assert claim is not None and claim.attempt == 1
    assert services.ledger.claim("w2") is None  # held by w1
    with services.sessions.begin() as session:
        services.ledger.complete(session, claim)
    with services.sessions() as session:
        assert session.get(Job, claim.job_id).state == "done"  # type: ignore[union-attr]
    with pytest.raises(LostLease), services.sessions.begin() as session:
        services.ledger.complete(session, claim)


def test_expired_lease_is_taken_over_and_old_worker_is_fenced(services: Services) -> None:
    services.intake.accept(PHOTO, "car.jpg", Declared())
    first = services.ledger.claim("dead-worker")
    assert first is not None
    time.sleep(1.2)  # lease 1 s, never renewed: the worker "died"
    second = services.ledger.claim("w2")
    assert second is not None and second.job_id == first.job_id and second.attempt == 2
    with pytest.raises(LostLease), services.sessions.begin() as session:
        services.ledger.complete(session, first)
    with services.sessions.begin() as session:
        services.ledger.complete(session, second)


def test_a_job_that_keeps_failing_ends_failed_with_its_reason(services: Services) -> None:
    sub = services.intake.accept(PHOTO, "car.jpg", Declared())

    def broken(claim: Claim) -> None:
        raise RuntimeError(f"cannot decode (attempt {claim.attempt})")

    handled = run_worker(services.ledger, broken, "w1", drain=True, poll_s=0.05)
    assert handled == 2
    with services.sessions() as session:
        job = session.scalar(select(Job).where(Job.submission_id == sub.id))
        assert job is not None
        assert (job.state, job.attempts) == ("failed", 2)
        assert job.last_error == "RuntimeError: cannot decode (attempt 2)"
        assert session.get(Submission, sub.id).status == "failed"  # type: ignore[union-attr]


def test_heartbeat_keeps_a_long_job(services: Services) -> None:
    services.intake.accept(PHOTO, "car.jpg", Declared())
    claim = services.ledger.claim("w1")
    assert claim is not None
    stolen: list[Claim | None] = []

    def slow(c: Claim) -> None:
        time.sleep(2.0)  # twice the lease: only the heartbeat keeps it
        stolen.append(services.ledger.claim("w2"))
        with services.sessions.begin() as session:
            services.ledger.complete(session, c)

    assert run_claimed(services.ledger, claim, slow) == "done"
    assert stolen == [None]
