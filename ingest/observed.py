"""Gauges read from the database at scrape time: queue depth and oldest job per queue, cases by
rule, desk decisions per officer in the last hour. Read at scrape time (not counted in a
process) so every API and worker process shows the same truth, restarts included."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.db import Case, Job, now

log = logging.getLogger(__name__)

JOB_KIND = "process_submission"


class DatabaseCollector(Collector):
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "roadwitness_queue_depth", "Jobs waiting (queued, incl. retries).", labels=["queue"]
        )
        running = GaugeMetricFamily(
            "roadwitness_queue_running", "Jobs held by a worker now.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "roadwitness_queue_oldest_job_age_seconds",
            "Age of the oldest waiting job (0 when none waits).",
            labels=["queue"],
        )
        cases = GaugeMetricFamily(
            "roadwitness_cases",
            "Cases in the database, by rule and status.",
            labels=["rule", "status"],
        )
        decisions = GaugeMetricFamily(
            "roadwitness_desk_decisions_last_hour",
            "Desk decisions in the last hour, by officer and decision.",
            labels=["officer", "decision"],
        )
        scraped = GaugeMetricFamily(
            "roadwitness_database_scrape_ok",
            "1 when the gauges read from the database at this scrape are current, else 0.",
        )
        families = [depth, running, oldest, cases, decisions, scraped]
        try:
            self._read(depth, running, oldest, cases, decisions)
        except Exception:  # a scrape answers with what it has: the process's own families
            log.warning("database gauges unavailable", exc_info=True)
            scraped.add_metric([], 0)
            return [f for f in families if f is scraped or not f.samples]
        scraped.add_metric([], 1)
        return families

    def _read(
        self,
        depth: GaugeMetricFamily,
        running: GaugeMetricFamily,
        oldest: GaugeMetricFamily,
        cases: GaugeMetricFamily,
        decisions: GaugeMetricFamily,
    ) -> None:
        t = now()
        with self.sessions() as session:
            for kind, state, count, first in session.execute(
                select(Job.kind, Job.state, func.count(), func.min(Job.created_at))
                .where(Job.state.in_(("queued", "running")))
                .group_by(Job.kind, Job.state)
            ):
                if state == "queued":
                    depth.add_metric([kind], count)
                    oldest.add_metric([kind], (t - first).total_seconds())
                else:
                    running.add_metric([kind], count)
            for rule, status, count in session.execute(
                select(Case.rule, Case.status, func.count()).group_by(Case.rule, Case.status)
            ):
                cases.add_metric([rule, status], count)
            for officer, status, count in session.execute(
                select(Case.decided_by, Case.status, func.count())
                .where(Case.decided_at >= t - timedelta(hours=1), Case.decided_by.is_not(None))
                .group_by(Case.decided_by, Case.status)
            ):
                decisions.add_metric([officer or "", status], count)
        for family in (depth, running, oldest):  # an idle queue reads 0, not nothing
            if not any(sample.labels["queue"] == JOB_KIND for sample in family.samples):
                family.add_metric([JOB_KIND], 0)


def waiting_jobs(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        waiting = select(func.count()).select_from(Job).where(Job.state == "queued")
        return session.scalar(waiting) or 0


class QueueDepth:
    """The number of waiting jobs, re-read at most every ``ttl_s`` (each upload asks)."""

    def __init__(self, sessions: sessionmaker[Session], ttl_s: float = 1.0) -> None:
        self.sessions = sessions
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._value = 0
        self._read_at = float("-inf")

    def __call__(self) -> int:
        with self._lock:
            if time.monotonic() - self._read_at >= self.ttl_s:
                self._value = waiting_jobs(self.sessions)
                self._read_at = time.monotonic()
            return self._value
