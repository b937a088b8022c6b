"""Bodies of the review desk's endpoints: cases as officers see them (never the reporter's
identity: only an opaque reference), decisions, claims, rewards."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from cases.lifecycle import REJECT_REASONS


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
    plate_chars: list[list[tuple[str, float]]] = Field(
        default=[],
        description="Per plate position, the reader's top three characters with their "
        "probabilities, the read one first (empty when unknown).",
    )
    vehicle_class: str
    t_start: float
    t_end: float
    latitude: float | None
    longitude: float | None
    observed_at: datetime | None = Field(description="Wall time of the 'during' keyframe.")
    flags: list[dict[str, Any]] = Field(
        description="Signals for the officer (e.g. cloned_plate@1 with the other case)."
    )
    incident_id: str | None
    claimed_by: str | None
    created_at: datetime
    answer_due: datetime = Field(description="30 days after the report was accepted.")
    overdue: bool


class CaptureOut(BaseModel):
    kind: Literal["device_attested", "reporter_supplied"] = Field(
        description="device_attested: a registered dashcam signed the original's SHA-256 at "
        "upload; reporter_supplied: an app upload."
    )
    device_id: str | None = None
    key_id: str | None = Field(None, description="The device key that signed it.")


class CaseOut(CaseSummary):
    submission_id: str
    reporter_refs: list[str] = Field(
        description="Opaque references to the reporter(s): never their identity or contact."
    )
    duplicates: list[str] = Field(description="Other cases of the same incident.")
    original_sha256: str
    explanation: str
    rules_version: str
    time_source: str | None
    place_source: str | None
    declared_time_source: str | None = Field(
        default=None, description="How the sender found the time it declared (e.g. manual)."
    )
    declared_place_source: str | None = Field(
        default=None, description="How the sender found the place it declared (e.g. geolocation)."
    )
    track: list[tuple[float, float]] = Field(description="The GPS track as (lat, lon) points.")
    taken_at: datetime | None
    models: dict[str, dict[str, str]]
    evidence: list[EvidenceOut]
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    capture: CaptureOut | None = None


class CaseList(BaseModel):
    items: list[CaseSummary]
    total: int


class Decision(BaseModel):
    decision: Literal["confirm", "reject"]
    reason: Literal[REJECT_REASONS] | None = Field(  # type: ignore[valid-type]
        default=None, description=f"Needed to reject: one of {', '.join(REJECT_REASONS)}."
    )
    note: str | None = Field(default=None, max_length=2000, description="Free text ('other').")
    plate: str | None = Field(
        default=None, max_length=32, description="A corrected plate, when confirming."
    )
    exclusions: dict[str, Literal["accomplice", "victim"]] | None = Field(
        default=None, description="Reporter refs that get no reward for this case, and why."
    )

    @model_validator(mode="after")
    def _reason_for_reject(self) -> Decision:
        if self.decision == "reject" and self.reason is None:
            raise ValueError("a rejection needs a reason")
        if self.reason == "other" and not (self.note and self.note.strip()):
            raise ValueError("the reason 'other' needs a note")
        return self


class VerificationOut(BaseModel):
    case_id: str
    ok: bool
    checked: list[str]
    problems: list[str]
