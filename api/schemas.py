"""Response and request bodies."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """A day as YYYY-MM-DD only: pydantic alone reads ``0`` as 1970-01-01 and a date-time at
    midnight as its day, so a wrong filter would quietly list something else."""
    if isinstance(value, str) and not _DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
"""A day in a query (``since``, ``until``)."""


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
