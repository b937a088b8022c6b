"""Cases made from a job's findings: one transaction writes each new case with its evidence
items, their custody lines and audit events, joins incidents, raises clone flags and sets the
submission's state. A redone job finds its cases by key and adds none twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.clones import flag_clones, join_incidents
from cases.custody import custody
from ingest.audit import audit, set_submission_state
from ingest.db import Case, EvidenceItem, Submission
from ingest.store import StoredObject
from rules.config import ClonedPlateConfig, DuplicatesConfig


@dataclass(frozen=True)
class NewEvidence:
    role: str
    name: str
    content_type: str
    stored: StoredObject


@dataclass(frozen=True)
class NewCase:
    """A rule's finding with the vehicle, time and place it concerns, and its stored evidence."""

    key: str
    """Stable across attempts of the same job (rule, track, interval)."""
    violation: str
    rule: str
    explanation: str
    confidence: float
    track_id: int | None
    observed_at: datetime | None
    latitude: float | None
    longitude: float | None
    plate: str | None
    plate_confidence: float
    plate_colour: str | None
    plate_chars: list[Any]
    """Per position the top three ``[char, p]`` of the plate read (the desk offers them)."""
    vehicle_class: str
    t_start: float
    t_end: float
    evidence: tuple[NewEvidence, ...]


@dataclass(frozen=True)
class CaseRules:
    """What case creation needs of the rule book."""

    version: str
    duplicates: DuplicatesConfig
    cloned_plate: ClonedPlateConfig


def record_cases(
    session: Session,
    submission: Submission,
    found: Sequence[NewCase],
    rules: CaseRules,
    models: dict[str, Any],
    actor: str,
    attempt: int,
) -> list[Case]:
    """Write the cases not yet recorded for ``submission``; returns the new ones."""
    existing = set(
        session.scalars(select(Case.case_key).where(Case.submission_id == submission.id))
    )
    new_cases = []
    for found_case in found:
        if found_case.key in existing:
            continue
        case = _case(submission, found_case, rules.version, models)
        session.add(case)
        session.flush()
        new_cases.append(case)
        for evidence in found_case.evidence:
            item = EvidenceItem(
                case_id=case.id,
                role=evidence.role,
                name=evidence.name,
                key=evidence.stored.key,
                sha256=evidence.stored.sha256,
                size=evidence.stored.size,
                content_type=evidence.content_type,
            )
            session.add(item)
            session.flush()
            session.add(custody(actor, "evidence_created", item, {"case": case.id}))
        audit(
            session,
            actor,
            "case_created",
            "case",
            case.id,
            {
                "plate": case.plate,
                "rule": case.rule,
                "submission": submission.id,
                "attempt": attempt,
            },
        )
    session.flush()
    join_incidents(session, new_cases, rules.duplicates)
    flag_clones(session, new_cases, rules.cloned_plate, actor)
    set_submission_state(submission, "candidate" if found or existing else "no_case")
    return new_cases


def _case(submission: Submission, found: NewCase, version: str, models: dict[str, Any]) -> Case:
    return Case(
        submission_id=submission.id,
        violation=found.violation,
        rule=found.rule,
        rules_version=version,
        case_key=found.key,
        explanation=found.explanation,
        confidence=found.confidence,
        track_id=found.track_id,
        observed_at=found.observed_at,
        latitude=found.latitude,
        longitude=found.longitude,
        flags=[],
        plate=found.plate,
        plate_confidence=found.plate_confidence,
        plate_colour=found.plate_colour,
        plate_chars=found.plate_chars,
        vehicle_class=found.vehicle_class,
        t_start=found.t_start,
        t_end=found.t_end,
        models=models,
    )
