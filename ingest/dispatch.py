"""Dispatching ledger jobs to workers.

Embedded mode needs no dispatcher: workers poll the ledger. Distributed mode dispatches each job
through Procrastinate on the same PostgreSQL (LISTEN/NOTIFY wake-ups, a queue per worker kind).
The ledger stays the source of truth: a dispatch lost in a crash (after the submission's commit,
before the defer) or a job whose worker died is dispatched again by :func:`sweep`, and the
ledger's conditional claim makes a duplicate dispatch a no-op.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.db import Job, now

log = logging.getLogger(__name__)

TASK = "process_submission"
QUEUE = "process"


class Dispatcher(Protocol):
    def dispatch(self, job_id: str) -> None: ...

    def close(self) -> None: ...


class PollingDispatch:
    """Embedded mode: workers poll the ledger, nothing to send."""

    def dispatch(self, job_id: str) -> None:
        return None

    def close(self) -> None:
        return None


def procrastinate_app(dsn: str) -> Any:
    import procrastinate

    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn))


def apply_procrastinate_schema(dsn: str) -> bool:
    """Create Procrastinate's tables once; returns False when they already exist."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        exists = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    if exists and exists[0] is not None:
        return False
    app = procrastinate_app(dsn)
    with app.open():
        app.schema_manager.apply_schema()
    return True


class ProcrastinateDispatch:
    def __init__(self, dsn: str) -> None:
        self.app = procrastinate_app(dsn)
        self.app.open()

    def dispatch(self, job_id: str) -> None:
        from procrastinate import exceptions

        # AlreadyEnqueued: a dispatch for this job is already waiting.
        with contextlib.suppress(exceptions.AlreadyEnqueued):
            self.app.configure_task(TASK, queue=QUEUE, queueing_lock=f"job:{job_id}").defer(
                job_id=job_id
            )

    def close(self) -> None:
        self.app.close()


def sweep(sessions: sessionmaker[Session], dispatcher: Dispatcher, grace_s: float = 5.0) -> int:
    """Dispatch again every ledger job that should be running but has no live dispatch."""
    t = now()
    with sessions() as session:
        ids = session.scalars(
            select(Job.id).where(
                or_(
                    and_(
                        Job.state == "queued",
                        Job.run_after <= t,
                        Job.updated_at < t - timedelta(seconds=grace_s),
                    ),
                    and_(Job.state == "running", Job.lease_expires_at < t),
                )
            )
        ).all()
    for job_id in ids:
        dispatcher.dispatch(job_id)
    if ids:
        log.info("re-dispatched %d job(s)", len(ids))
    return len(ids)
