"""Worker processes: the embedded ledger poller, or a Procrastinate worker on PostgreSQL."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from cases.services import Services
from ingest.dispatch import QUEUE, TASK, ProcrastinateDispatch, procrastinate_app, sweep
from ingest.queue import Claim, Handler, run_claimed, run_worker

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 5.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run(
    services: Services,
    handler: Handler,
    *,
    stop: threading.Event | None = None,
    drain: bool = False,
    on_job: Callable[[Claim, str], None] | None = None,
) -> int:
    """Process jobs until ``stop`` is set (or, with ``drain``, until none is left)."""
    name = worker_name()
    if services.settings.queue == "embedded":
        log.info("embedded worker %s polling %s", name, services.settings.database_url)
        return run_worker(services.ledger, handler, name, stop=stop, drain=drain, on_job=on_job)
    return _run_procrastinate(services, handler, name, stop or threading.Event(), on_job)


def _run_procrastinate(
    services: Services,
    handler: Handler,
    name: str,
    stop: threading.Event,
    on_job: Callable[[Claim, str], None] | None,
) -> int:
    app = procrastinate_app(services.settings.psycopg_dsn)
    handled = 0

    @app.task(name=TASK, queue=QUEUE)  # type: ignore[untyped-decorator]
    def process_submission(job_id: str) -> None:
        nonlocal handled
        claim = services.ledger.claim(name, job_id)
        if claim is None:
            return  # already done, or held by a live worker: a duplicate dispatch
        state = run_claimed(services.ledger, claim, handler)
        handled += 1
        if on_job is not None:
            on_job(claim, state)

    redispatch = ProcrastinateDispatch(services.settings.psycopg_dsn)

    def sweeper() -> None:
        while not stop.wait(SWEEP_INTERVAL_S):
            try:
                sweep(services.sessions, redispatch)
                services.ledger.reap()
            except Exception:
                log.exception("sweep failed")

    thread = threading.Thread(target=sweeper, name="sweeper", daemon=True)
    thread.start()
    log.info("procrastinate worker %s on queue %r", name, QUEUE)
    try:
        with app.open():
            app.run_worker(queues=[QUEUE], name=name, concurrency=1, wait=True)
    finally:
        stop.set()
        thread.join()
        redispatch.close()
    return handled
