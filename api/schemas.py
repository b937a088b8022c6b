"""Response and request bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator


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


class EvidenceOut(BaseModel):
    role: str
    name: str
    content_type: str
    sha256: str
    size: int
    url: str


class CaseSummary(BaseModel):
    id: str
    status: str
    violation: str
    rule: str = Field(description="The versioned rule that fired, e.g. bus_lane@1.")
    confidence: float
    plate: str | None = Field(description="None when no plate could be read.")
    plate_confidence: float
    plate_colour: str | None
    vehicle_class: str
    t_start: float
    t_end: float
    flags: list[dict[str, Any]] = Field(
        description="Signals for the officer (e.g. cloned_plate@1 with the other case)."
    )
    created_at: datetime


class CaseOut(CaseSummary):
    submission_id: str
    original_sha256: str
    explanation: str
    rules_version: str
    observed_at: datetime | None = Field(description="Wall time of the 'during' keyframe.")
    latitude: float | None
    longitude: float | None
    taken_at: datetime | None
    models: dict[str, dict[str, str]]
    evidence: list[EvidenceOut]
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


class VerificationOut(BaseModel):
    case_id: str
    ok: bool
    checked: list[str]
    problems: list[str]


class CaseList(BaseModel):
    items: list[CaseSummary]
    total: int


class Decision(BaseModel):
    decision: Literal["confirm", "reject"]
    officer: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)
    plate: str | None = Field(default=None, description="A corrected plate, when confirming.")

    @model_validator(mode="after")
    def _reason_for_reject(self) -> Decision:
        if self.decision == "reject" and not (self.reason and self.reason.strip()):
            raise ValueError("a rejection needs a reason")
        return self
