"""At-least-once job queue. The ``jobs`` table is the ledger: state, attempts, last error.

A job is claimed with a conditional UPDATE (portable: SQLite and PostgreSQL), holds a lease that
its worker renews while it runs, and is taken again when a dead worker's lease runs out. The
worker's final write is fenced on (worker, attempt), so a slow worker whose job was taken over
can never record a second result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ingest.audit import set_submission_state
from ingest.db import Job, Submission, now
from telemetry.jobs import close_job, open_job

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Claim:
    """A job held by one worker for one attempt."""

    job_id: str
    submission_id: str
    worker: str
    attempt: int


def _held(claim: Claim) -> tuple[Any, ...]:
    """The job is still this worker's, in this attempt (the fence on every write)."""
    return (
        Job.id == claim.job_id,
        Job.state == "running",
        Job.worker == claim.worker,
        Job.attempts == claim.attempt,
    )


class LostLease(RuntimeError):
    """The job was taken over by another worker; this attempt must not record a result."""


class Ledger:
    def __init__(
        self, sessions: sessionmaker[Session], lease_s: float = 60.0, retry_delay_s: float = 5.0
    ) -> None:
        self.sessions = sessions
        self.lease = timedelta(seconds=lease_s)
        self.retry_delay = timedelta(seconds=retry_delay_s)

    def _claimable(self) -> Any:
        t = now()
        return or_(
            and_(Job.state == "queued", Job.run_after <= t),
            and_(Job.state == "running", Job.lease_expires_at < t),
        )

    def claim(self, worker: str, job_id: str | None = None) -> Claim | None:
        """Take the oldest claimable job (or ``job_id`` if it is claimable) for ``worker``."""
        self.reap()
        with self.sessions.begin() as session:
            query = select(Job.id).where(self._claimable()).order_by(Job.created_at).limit(5)
            if job_id is not None:
                query = query.where(Job.id == job_id)
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for candidate in session.scalars(query).all():
                claimed = session.execute(
                    update(Job)
                    .where(Job.id == candidate, self._claimable())
                    .values(
                        state="running",
                        worker=worker,
                        attempts=Job.attempts + 1,
                        lease_expires_at=now() + self.lease,
                        updated_at=now(),
                    )
                    .returning(Job.submission_id, Job.attempts)
                ).first()
                if claimed is not None:
                    session.execute(
                        update(Submission)
                        .where(Submission.id == claimed[0])
                        .values(status="processing")
                    )
                    return Claim(candidate, claimed[0], worker, claimed[1])
        return None

    def pending(self) -> bool:
        """True while any job is queued or running."""
        with self.sessions() as session:
            return (
                session.scalar(select(Job.id).where(Job.state.in_(("queued", "running"))).limit(1))
                is not None
            )

    def count_pending(self) -> int:
        with self.sessions() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.state.in_(("queued", "running")))
                )
                or 0
            )

    def reap(self) -> None:
        """Jobs whose workers died as often as they may be tried end as failed."""
        with self.sessions.begin() as session:
            dead = session.scalars(
                select(Job).where(
                    Job.state == "running",
                    Job.lease_expires_at < now(),
                    Job.attempts >= Job.max_attempts,
                )
            ).all()
            for job in dead:
                reason = (
                    f"worker {job.worker} stopped during attempt {job.attempts}; no attempts left"
                )
                self._mark_failed(session, job, reason)

    def renew(self, claim: Claim) -> None:
        with self.sessions.begin() as session:
            renewed = session.execute(
                update(Job).where(*_held(claim)).values(lease_expires_at=now() + self.lease)
            ).rowcount  # type: ignore[attr-defined]
        if renewed != 1:
            raise LostLease(claim.job_id)

    def complete(self, session: Session, claim: Claim) -> None:
        """Mark the job done inside the caller's transaction (the one that writes its results)."""
        done = session.execute(
            update(Job)
            .where(*_held(claim))
            .values(state="done", finished_at=now(), lease_expires_at=None, last_error=None)
        ).rowcount  # type: ignore[attr-defined]
        if done != 1:
            raise LostLease(claim.job_id)

    def fail(self, claim: Claim, error: str) -> str:
        """Record a failed attempt: the job is queued again with a delay, or ends as failed."""
        with self.sessions.begin() as session:
            job = session.get(Job, claim.job_id, with_for_update=True)
            if job is None or job.state != "running" or job.worker != claim.worker:
                return job.state if job else "missing"
            if job.attempts >= job.max_attempts:
                self._mark_failed(session, job, error)
            else:
                job.state, job.last_error, job.lease_expires_at = "queued", error, None
                job.run_after = now() + self.retry_delay * job.attempts
                set_submission_state(job.submission, "received")
            return job.state

    @staticmethod
    def _mark_failed(session: Session, job: Job, error: str) -> None:
        job.state, job.last_error, job.finished_at = "failed", error[-2000:], now()
        job.lease_expires_at = None
        set_submission_state(job.submission, "failed", error)
        log.warning("job %s failed for good: %s", job.id, error)


Handler = Callable[[Claim], None]


def run_claimed(ledger: Ledger, claim: Claim, handler: Handler) -> str:
    """Run one claimed job with a lease-renewing heartbeat; returns the job's new state."""
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(ledger.lease.total_seconds() / 3):
            try:
                ledger.renew(claim)
            except LostLease:
                log.warning("job %s was taken over by another worker", claim.job_id)
                return
            except Exception:  # the database may blink; the next beat tries again
                log.exception("lease renewal failed for job %s", claim.job_id)

    beat = threading.Thread(target=heartbeat, name=f"lease-{claim.job_id}", daemon=True)
    scope = open_job(claim.job_id, claim.submission_id)  # ids on its log lines, stage clock
    beat.start()
    try:
        handler(claim)
        return "done"
    except LostLease:
        return "lost"
    except Exception as exc:
        log.exception("job %s attempt %d failed", claim.job_id, claim.attempt)
        return ledger.fail(claim, f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
        beat.join()
        close_job(scope)


def run_worker(
    ledger: Ledger,
    handler: Handler,
    worker: str,
    *,
    stop: threading.Event | None = None,
    drain: bool = False,
    poll_s: float = 1.0,
    on_job: Callable[[Claim, str], None] | None = None,
) -> int:
    """The embedded worker loop. With ``drain`` it returns once no job is claimable."""
    stop = stop or threading.Event()
    handled = 0
    while not stop.is_set():
        claim = ledger.claim(worker)
        if claim is None:
            if drain and not ledger.pending():
                break
            stop.wait(poll_s)
            continue
        state = run_claimed(ledger, claim, handler)
        handled += 1
        if on_job is not None:
            on_job(claim, state)
    return handled
