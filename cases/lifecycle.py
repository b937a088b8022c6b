"""The case lifecycle as an explicit state machine, and officers' claims on cases.

    candidate --claim--> under_review --confirm--> confirmed
        ^                    |        --reject---> rejected
        +--release/expire----+

A claim is a lease (``claim_minutes``): while it runs no other officer gets the case; when it
lapses the case is a candidate again. Every transition is an audit event with the actor, the
time and the state before and after; any other transition is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ingest.audit import audit
from ingest.db import Case, now

TRANSITIONS: dict[tuple[str, str], str] = {
    ("candidate", "claim"): "under_review",
    ("under_review", "release"): "candidate",
    ("under_review", "expire"): "candidate",
    ("under_review", "confirm"): "confirmed",
    ("under_review", "reject"): "rejected",
}
STATES = ("candidate", "under_review", "confirmed", "rejected")
REJECT_REASONS = (
    "plate_unreadable",
    "no_violation_visible",
    "emergency_vehicle",
    "duplicate",
    "evidence_edited",
    "other",
)


class IllegalTransition(Exception):
    """The case is not in a state that allows this action (HTTP 409)."""


@dataclass(frozen=True)
class Decision:
    action: str
    """confirm or reject."""
    reason: str | None = None
    note: str | None = None
    plate: str | None = None
    exclusions: dict[str, str] | None = None


def next_state(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(f"a case that is {state} cannot be {action}ed") from None


def _audit(session: Session, actor: str, action: str, case_id: str, data: dict[str, Any]) -> None:
    audit(session, actor, action, "case", case_id, data)


def expire_claims(session: Session, at: datetime | None = None) -> int:
    """Lapsed claims return their cases to the queue."""
    at = at or now()
    lapsed = list(
        session.scalars(
            select(Case.id).where(Case.status == "under_review", Case.claim_expires_at < at)
        )
    )
    for case_id in lapsed:
        done = session.execute(
            update(Case)
            .where(Case.id == case_id, Case.status == "under_review", Case.claim_expires_at < at)
            .values(status="candidate", claimed_by=None, claim_expires_at=None)
        ).rowcount  # type: ignore[attr-defined]
        if done:
            _audit(
                session,
                "system:claims",
                "expire",
                case_id,
                {"before": {"status": "under_review"}, "after": {"status": "candidate"}},
            )
    return len(lapsed)


def claim(
    session: Session, case_id: str, officer: str, minutes: float, at: datetime | None = None
) -> Case:
    """Take ``case_id`` for ``officer`` (renewing the lease if they already hold it). Raises
    :class:`IllegalTransition` when someone else holds it or it is decided."""
    at = at or now()
    expire_claims(session, at)
    until = at + timedelta(minutes=minutes)
    took = session.execute(
        update(Case)
        .where(
            Case.id == case_id,
            or_(
                Case.status == "candidate",
                (Case.status == "under_review") & (Case.claimed_by == officer),
            ),
        )
        .values(status="under_review", claimed_by=officer, claim_expires_at=until)
    ).rowcount  # type: ignore[attr-defined]
    case = session.get(Case, case_id)
    if case is None:
        raise KeyError(case_id)
    session.refresh(case)
    if not took:
        holder = f" by {case.claimed_by}" if case.status == "under_review" else ""
        raise IllegalTransition(f"the case is {case.status}{holder}")
    _audit(
        session,
        f"officer:{officer}",
        "claim",
        case_id,
        {
            "before": {"status": "candidate"},
            "after": {"status": "under_review"},
            "until": until.isoformat(),
        },
    )
    return case


def claim_next(
    session: Session, officer: str, minutes: float, filters: list[Any] | None = None
) -> Case | None:
    """The officer's own claimed case, else the oldest unclaimed candidate they can take (two
    officers asking at once get different cases)."""
    expire_claims(session)
    mine = session.scalar(
        select(Case).where(Case.status == "under_review", Case.claimed_by == officer).limit(1)
    )
    if mine is not None:
        return mine
    for _ in range(20):
        query = select(Case.id).where(Case.status == "candidate", *(filters or []))
        case_id = session.scalar(query.order_by(Case.created_at, Case.id).limit(1))
        if case_id is None:
            return None
        try:
            return claim(session, case_id, officer, minutes)
        except IllegalTransition:
            continue  # another officer took it between our read and our update
    return None


def release(session: Session, case_id: str, officer: str) -> Case:
    case = _held(session, case_id, officer)
    next_state(case.status, "release")
    _swap(session, case_id, officer, case.status, "candidate")
    case.status, case.claimed_by, case.claim_expires_at = "candidate", None, None
    _audit(
        session,
        f"officer:{officer}",
        "release",
        case_id,
        {"before": {"status": "under_review"}, "after": {"status": "candidate"}},
    )
    return case


def _held(session: Session, case_id: str, officer: str) -> Case:
    expire_claims(session)
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise KeyError(case_id)
    if case.status == "under_review" and case.claimed_by != officer:
        raise IllegalTransition(f"the case is under review by {case.claimed_by}")
    return case


def _swap(session: Session, case_id: str, officer: str, before: str, after: str) -> None:
    """Move the officer's case from ``before`` (as just read) to ``after``, or refuse: SQLite
    ignores FOR UPDATE, so twin decisions both read under_review and both wrote (a confirmed
    case with the reject's reason, both in the audit log; a release undid a decision)."""
    took = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == before, Case.claimed_by == officer)
        .values(status=after)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not took:
        raise IllegalTransition("the case changed in another request at the same moment")


def decide(session: Session, case_id: str, officer: str, decision: Decision) -> Case:
    """Confirm or reject a case the officer holds (an unclaimed candidate is claimed first)."""
    case = _held(session, case_id, officer)
    if case.status == "candidate":
        case = claim(session, case_id, officer, 1.0)
    after = next_state(case.status, decision.action)
    before = {"status": case.status, "plate": case.plate}
    _swap(session, case_id, officer, case.status, after)
    if decision.plate is not None:
        case.plate = decision.plate
    case.status = after
    case.claimed_by, case.claim_expires_at = None, None
    case.decided_at, case.decided_by = now(), officer
    reason = decision.reason if decision.action == "reject" else None
    case.decision_reason = (
        f"{reason}: {decision.note}" if reason and decision.note else reason or decision.note
    )
    if decision.exclusions:
        case.reward_exclusions = dict(decision.exclusions)
    _audit(
        session,
        f"officer:{officer}",
        "confirmed" if after == "confirmed" else "rejected",
        case_id,
        {
            "before": before,
            "after": {"status": after, "plate": case.plate},
            "reason": case.decision_reason,
        },
    )
    return case
