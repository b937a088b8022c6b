"""What one job carries while it runs: its ids on every log line, and a clock of its stages."""

from __future__ import annotations

from contextvars import Token
from dataclasses import dataclass

from telemetry import logs
from telemetry.metrics import StageClock, start_clock, stop_clock


@dataclass(frozen=True)
class JobScope:
    ids: Token[dict[str, str]]
    clock: Token[StageClock | None]


def open_job(job_id: str, submission_id: str) -> JobScope:
    return JobScope(logs.bind(job_id=job_id, submission_id=submission_id), start_clock())


def close_job(scope: JobScope) -> None:
    stop_clock(scope.clock)
    logs.unbind(scope.ids)
