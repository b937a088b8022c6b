"""Response and request bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Where: e.g. ['body', 'place', 'lat'].")
    msg: str
    type: str


class Problem(BaseModel):
    """Every error answer (docs/protocol.md, section 4)."""

    error: str = Field(description="A machine-readable code, e.g. not_found, invalid_request.")
    detail: str = Field(description="The reason, for people; never more than a short excerpt.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="For invalid_request: each field that failed, and why."
    )


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
