"""The one way an audit event is written, and the one place a submission's state is set.

Both live at the bottom of the domain (beside the tables) because intake, the job ledger and the
review domain (``cases/``) all write them, and ``ingest/`` may not import ``cases/``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ingest.db import AuditEvent, Submission


def audit_event(
    actor: str, action: str, entity: str, entity_id: str, data: dict[str, Any] | None = None
) -> AuditEvent:
    """An audit row not yet added (for writers that hand it to someone else's transaction)."""
    return AuditEvent(
        actor=actor, action=action, entity=entity, entity_id=entity_id, data=dict(data or {})
    )


def audit(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session's transaction: who did what to which entity."""
    event = audit_event(actor, action, entity, entity_id, data)
    session.add(event)
    return event


SUBMISSION_STATES = ("received", "candidate", "no_case", "failed")
"""received (queued or being processed), candidate (has cases to review), no_case (processed,
nothing found), failed (its job ran out of attempts; ``error`` says why)."""


def set_submission_state(submission: Submission, state: str, error: str | None = None) -> None:
    """The only writer of ``Submission.status``: a job's result or its last failure."""
    if state not in SUBMISSION_STATES:
        raise ValueError(f"unknown submission state {state!r}")
    submission.status = state
    submission.error = error[-2000:] if error else None
