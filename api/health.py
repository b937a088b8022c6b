"""Readiness: can this process reach what it needs (database, object store, job queue)?"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Timeout

from sqlalchemy import text

from cases.services import Services

log = logging.getLogger(__name__)

PROBE_KEY = "readyz/probe"


def _database(services: Services) -> None:
    with services.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _store(services: Services) -> None:
    services.store.exists(PROBE_KEY)  # a missing key is an answer; no answer raises


def _queue(services: Services) -> None:
    with services.engine.connect() as conn:
        conn.execute(text("SELECT 1 FROM jobs LIMIT 1"))
        if services.settings.queue == "procrastinate":
            found = conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar()
            if found is None:
                raise RuntimeError("the Procrastinate schema is not applied")


CHECKS = {"database": _database, "store": _store, "queue": _queue}


def missing(services: Services, timeout_s: float = 3.0) -> dict[str, str]:
    """The parts that do not answer within ``timeout_s`` each, with why; empty when ready."""
    problems: dict[str, str] = {}
    pool = ThreadPoolExecutor(len(CHECKS), thread_name_prefix="readyz")
    try:
        futures = {name: pool.submit(check, services) for name, check in CHECKS.items()}
        for name, future in futures.items():
            try:
                future.result(timeout=timeout_s)
            except Timeout:
                problems[name] = f"no answer within {timeout_s} s"
            except Exception as exc:
                problems[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if problems:
        log.warning("not ready: %s", problems)
    return problems
