"""Report abuse for supervisors: reporters whose reports are mostly rejected, with their
history, and the suspension of a reporter's rewards (audited, and applied to the ledger)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ServicesDep, SessionDep
from api.limits import OffLoopJSONRoute
from api.schemas import Problem
from api.staff_auth import Supervisor
from cases.reward_ledger import reconcile
from ingest.abuse import rejected_reporters, suspend_rewards

router = APIRouter(prefix="/v1", tags=["abuse"], route_class=OffLoopJSONRoute)
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": Problem}}


class CaseLine(BaseModel):
    case_id: str
    status: str
    reason: str | None
    flags: list[str | None]


class ReportLine(BaseModel):
    submission_id: str
    created_at: datetime
    status: str
    cases: list[CaseLine]


class FlaggedReporter(BaseModel):
    reporter_id: str
    decided: int = Field(description="Cases of theirs confirmed or rejected.")
    rejected: int
    rejected_rate: float
    rewards_suspended: bool
    suspension_reason: str | None
    history: list[ReportLine] = Field(description="Their latest reports, newest first.")


class Suspension(BaseModel):
    reason: str = Field(min_length=3, max_length=2000)


class SuspensionOut(BaseModel):
    reporter_id: str
    rewards_suspended: bool
    reason: str | None
    by: str | None
    at: datetime | None


@router.get("/reporters/rejected", response_model=list[FlaggedReporter])
def list_rejected_reporters(
    session: SessionDep, services: ServicesDep, _: Supervisor
) -> list[FlaggedReporter]:
    """Reporters with at least ``abuse_min_decided`` decided cases and more than
    ``abuse_rejected_rate`` of them rejected, worst first, with their history."""
    s = services.settings
    rows = rejected_reporters(session, s.abuse_min_decided, s.abuse_rejected_rate)
    return [FlaggedReporter.model_validate(r) for r in rows]


def _suspend(
    session: SessionDep, services: ServicesDep, reporter_id: str, by: str, reason: str | None
) -> SuspensionOut:
    account = suspend_rewards(session, reporter_id, by, reason)
    session.flush()
    reconcile(session, services.policy)
    session.commit()
    return SuspensionOut(
        reporter_id=account.id,
        rewards_suspended=account.rewards_suspended_at is not None,
        reason=account.rewards_suspension_reason,
        by=account.rewards_suspended_by,
        at=account.rewards_suspended_at,
    )


@router.put(
    "/reporters/{reporter_id}/reward-suspension", response_model=SuspensionOut, responses=NOT_FOUND
)
def suspend(
    reporter_id: str,
    body: Suspension,
    session: SessionDep,
    services: ServicesDep,
    caller: Supervisor,
) -> SuspensionOut:
    """Suspend a reporter's rewards: their unpaid rewards are withheld with the reason until
    the suspension is lifted (paid rewards stay paid). Audited."""
    return _suspend(session, services, reporter_id, caller.id, body.reason)


@router.delete(
    "/reporters/{reporter_id}/reward-suspension", response_model=SuspensionOut, responses=NOT_FOUND
)
def lift(
    reporter_id: str, session: SessionDep, services: ServicesDep, caller: Supervisor
) -> SuspensionOut:
    """Lift a suspension: the ledger is recomputed. Audited."""
    return _suspend(session, services, reporter_id, caller.id, None)
