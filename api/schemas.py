"""Response and request bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Problem(BaseModel):
    detail: str


class SubmissionCreated(BaseModel):
    id: str
    status: str
    sha256: str
    kind: str
    status_url: str


class JobOut(BaseModel):
    state: str
    attempts: int
    max_attempts: int
    last_error: str | None


class SubmissionOut(BaseModel):
    id: str
    status: str
    created_at: datetime
    kind: str
    sha256: str
    declared_violation: str | None
    error: str | None
    job: JobOut | None
    cases: list[str]
