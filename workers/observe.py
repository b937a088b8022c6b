"""A worker's telemetry: models timed per stage, load times, job outcomes, its probe port."""

from __future__ import annotations

import logging
import time
from typing import Any

from cases.services import Services
from ingest.observed import DatabaseCollector
from ingest.queue import Claim
from models.registry import ModelSet
from telemetry.metrics import add_stage_time, metrics, start_clock, stop_clock
from telemetry.serve import WorkerProbe

log = logging.getLogger(__name__)

# Which pipeline stage each model's calls count to.
STAGE_OF_ROLE = {
    "vehicles": "vehicles",
    "plates": "plates",
    "plate_crops": "plates",
    "reader": "read",
    "colour": "read",
    "text": "read",
}
TIMED_METHODS = {"detect", "read", "classify", "read_line"}


class _Timed:
    """A model whose inference calls count to a stage; everything else passes through."""

    def __init__(self, model: object, stage: str) -> None:
        self._model = model
        self._stage = stage

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._model, name)
        if name not in TIMED_METHODS or not callable(attr):
            return attr
        stage = self._stage

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                add_stage_time(stage, time.perf_counter() - start)

        return timed


class TimedModelSet(ModelSet):
    """The worker's models: first use records the load time, inference counts to its stage."""

    def _get(self, role: str) -> object:
        fresh = role not in self._built
        start = time.perf_counter()
        model = super()._get(role)
        if fresh:
            seconds = time.perf_counter() - start
            metrics().model_load_seconds.labels(role).set(seconds)
            log.info("model %s loaded in %.2f s", role, seconds)
        stage = STAGE_OF_ROLE.get(role)
        return model if stage is None else _Timed(model, stage)

    def warm_up(self) -> None:
        token = start_clock()  # a blank frame's inference is no job's stage time
        try:
            super().warm_up()
        finally:
            stop_clock(token, observe=False)


def count_job(_claim: Claim, state: str) -> None:
    """``on_job`` for the worker loop: the outcome of each attempt."""
    metrics().jobs.labels(state).inc()


def start_probe(services: Services) -> WorkerProbe | None:
    """The worker's ``/metrics``, ``/healthz``, ``/readyz`` port (None when not configured)."""
    port = services.settings.worker_metrics_port
    if port is None:
        return None
    probe = WorkerProbe(port, collectors=(DatabaseCollector(services.sessions),))
    log.info("worker metrics and probes on port %d", probe.port)
    return probe


def mark_ready(probe: WorkerProbe | None) -> None:
    metrics().worker_ready.set(1)
    if probe is not None:
        probe.set_ready()


def timed_models(services: Services) -> TimedModelSet:
    s = services.settings
    return TimedModelSet(s.models_dir, s.detector, s.plate_detector_size, s.plate_reader)
