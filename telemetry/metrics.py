"""The metric families, created on first use (never at import time) in one place.

Several API processes (uvicorn ``--workers``) share one ``/metrics`` through prometheus-client's
multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` must name an empty folder before the processes
start (``roadwitness serve`` makes one). Each worker process serves its own port instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import REGISTRY, Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
STAGES = ("decode", "vehicles", "plates", "read", "rules", "evidence")
# Requests are fast (status, desk) or slow (a chunk of a clip): buckets span both.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
STAGE_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

T = TypeVar("T")


@dataclass(frozen=True)
class Metrics:
    requests: Counter
    request_seconds: Histogram
    upload_bytes: Counter
    upload_resumptions: Counter
    uploads_refused: Counter
    jobs: Counter
    stage_seconds: Histogram
    model_load_seconds: Gauge
    cases_created: Counter
    worker_ready: Gauge


@cache
def metrics() -> Metrics:
    """The process's metric families (registered once in the default registry)."""
    return Metrics(
        requests=Counter(
            "roadwitness_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
        ),
        request_seconds=Histogram(
            "roadwitness_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=REQUEST_BUCKETS,
        ),
        upload_bytes=Counter(
            "roadwitness_upload_bytes",
            "Media bytes received, by protocol (resumable chunks or one-request uploads).",
            ["protocol"],
        ),
        upload_resumptions=Counter(
            "roadwitness_upload_resumptions",
            "Resumable uploads asked for their offset (HEAD): a client resuming after a cut.",
        ),
        uploads_refused=Counter(
            "roadwitness_uploads_refused",
            "New uploads refused with 503 because the job queue was over its limit.",
            ["reason"],
        ),
        jobs=Counter(
            "roadwitness_jobs",
            "Job attempts ended, by outcome (done, queued = retried later, failed, lost).",
            ["outcome"],
        ),
        stage_seconds=Histogram(
            "roadwitness_stage_duration_seconds",
            "Time spent in each pipeline stage of a job, summed per job.",
            ["stage"],
            buckets=STAGE_BUCKETS,
        ),
        model_load_seconds=Gauge(
            "roadwitness_model_load_seconds",
            "Time to load each model (first use), by role.",
            ["model"],
            multiprocess_mode="max",
        ),
        cases_created=Counter(
            "roadwitness_cases_created",
            "Candidate cases created by workers, by rule.",
            ["rule"],
        ),
        worker_ready=Gauge(
            "roadwitness_worker_ready",
            "1 once the worker's models are loaded and it takes jobs.",
            multiprocess_mode="max",
        ),
    )


class StageClock:
    """Adds up the time of each stage of one job (a model runs once per frame), then observes
    each sum once, so a histogram sample is one job's time in that stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()  # a job's stages run on several threads

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def observe(self) -> None:
        for stage, seconds in self.seconds.items():
            metrics().stage_seconds.labels(stage).observe(seconds)


_clock: ContextVar[StageClock | None] = ContextVar("roadwitness_stage_clock", default=None)


def start_clock() -> Token[StageClock | None]:
    """Sum stage times from here on (one job); hand the token to :func:`stop_clock`."""
    return _clock.set(StageClock())


def stop_clock(token: Token[StageClock | None], observe: bool = True) -> dict[str, float]:
    """Observe the job's stage sums (unless not ``observe``); returns them."""
    clock = _clock.get()
    _clock.reset(token)
    if clock is None:
        return {}
    if observe:
        clock.observe()
    return clock.seconds


def add_stage_time(stage: str, seconds: float) -> None:
    """Count ``seconds`` to ``stage``: to the job's clock when one runs, else as one sample."""
    clock = _clock.get()
    if clock is None:
        metrics().stage_seconds.labels(stage).observe(seconds)
    else:
        clock.add(stage, seconds)


@contextmanager
def timed_stage(stage: str) -> Iterator[None]:
    """Count the time of one block to ``stage``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        add_stage_time(stage, time.perf_counter() - start)


def timed_iter(stage: str, items: Iterable[T]) -> Iterator[T]:
    """Yield ``items``, observing the time spent producing them (e.g. decoding frames)."""
    spent = 0.0
    iterator = iter(items)
    try:
        while True:
            start = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                spent += time.perf_counter() - start
            yield item
    finally:
        add_stage_time(stage, spent)


def registry(*collectors: Collector) -> CollectorRegistry:
    """What one scrape shows: every process's families (multiprocess mode) or this process's,
    plus ``collectors`` read at scrape time (e.g. queue depth from the database)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        scraped = CollectorRegistry()
        multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
    else:
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(_Default())
    for collector in collectors:
        scraped.register(collector)
    return scraped


class _Default(Collector):
    """The default registry's families, inside a registry of our own."""

    def collect(self) -> Iterable[Metric]:
        metrics()  # a scrape before any request still lists every family
        return REGISTRY.collect()


def exposition(*collectors: Collector) -> bytes:
    return generate_latest(registry(*collectors))
