"""App reporters: accounts (anonymous unless they give a name) and their reports' status."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from api.auth import CallerDep
from api.deps import ServicesDep, SessionDep
from api.limits import OffLoopJSONRoute
from api.schemas_protocol import ReporterCreated, ReporterIn, ReportStatus
from ingest.db import Submission
from ingest.db_review import Reward
from ingest.identity import AuthError, Caller

router = APIRouter(tags=["reporters"], route_class=OffLoopJSONRoute)
ANSWER_WITHIN = timedelta(days=30)  # Shenzhen measures: an answer within 30 days of acceptance

STATE = {"received": "received", "processing": "processing", "failed": "failed"}


def report_status(
    submission: Submission, session: Session | None = None, reporter: str | None = None
) -> ReportStatus:
    """The reporter's view: never the officer's identity, never another reporter's."""
    reason = None
    if submission.status in STATE:
        state = STATE[submission.status]
        reason = "the evidence could not be processed" if state == "failed" else None
    elif submission.status == "no_case":
        state, reason = "rejected", "no vehicle with a readable plate was found in the evidence"
    elif any(c.status == "confirmed" for c in submission.cases):
        state = "confirmed"
    elif submission.cases and all(c.status == "rejected" for c in submission.cases):
        state = "rejected"
        reason = "; ".join(sorted({c.decision_reason or "rejected" for c in submission.cases}))
    else:
        state = "under_review"
    rewards = []
    if session is not None and reporter is not None and submission.cases:
        rewards = list(
            session.scalars(
                select(Reward).where(
                    Reward.case_id.in_([c.id for c in submission.cases]),
                    Reward.reporter_id == reporter,
                )
            )
        )
    status = None
    if rewards:
        statuses = {r.status for r in rewards}
        status = (
            "paid"
            if statuses == {"paid"}
            else "payable"
            if statuses & {"payable", "paid"}
            else "withheld"
        )
    return ReportStatus(
        reward_yuan=sum(r.amount_fen for r in rewards) / 100 if rewards else None,
        reward_status=status,
        reward_note="; ".join(sorted({r.reason for r in rewards if r.reason})) or None,
        id=submission.id,
        state=state,
        reason=reason,
        accepted_at=submission.created_at,
        answer_due=submission.created_at + ANSWER_WITHIN,
        declared_violation=submission.declared_violation,
        taken_at=submission.taken_at,
        taken_at_source=submission.declared_time_source,
        latitude=submission.declared_latitude,
        longitude=submission.declared_longitude,
        place_source=submission.declared_place_source,
    )


def _owns(caller: Caller, submission: Submission) -> bool:
    if caller.kind == "reporter":  # the reporter, or a co-reporter named in joint_with
        return caller.id in (submission.reporter, *(submission.joint_reporters or ()))
    return submission.device_id == caller.id


@router.post("/v1/reporters", response_model=ReporterCreated, status_code=201)
async def create_reporter(body: ReporterIn, services: ServicesDep) -> ReporterCreated:
    """Open a reporter account. Everything is optional: an account without a name reports
    anonymously; a real name and payment account are needed only to receive rewards."""
    reporter_id, token = await run_in_threadpool(
        services.identity.create_reporter, body.real_name, body.payment_account
    )
    return ReporterCreated(reporter_id=reporter_id, token=token)


@router.get("/v1/reports", response_model=list[ReportStatus])
def my_reports(caller: CallerDep, session: SessionDep) -> list[ReportStatus]:
    """The caller's reports (joint reports naming the caller too), newest first."""
    if caller.kind == "reporter":
        # The co-reporters are a JSON list: its text contains the quoted id (LIKE's "_" can
        # match more; _owns keeps the exact ones).
        named = cast(Submission.joint_reporters, String).like(f'%"{caller.id}"%')
        mine = or_(Submission.reporter == caller.id, named)
    else:
        mine = Submission.device_id == caller.id
    rows = session.scalars(
        select(Submission).where(mine).order_by(Submission.created_at.desc()).limit(500)
    )
    return [report_status(s, session, caller.id) for s in rows if _owns(caller, s)]


@router.get("/v1/reports/{submission_id}", response_model=ReportStatus)
def one_report(submission_id: str, caller: CallerDep, session: SessionDep) -> ReportStatus:
    """One report's state, the reason when rejected, and the answer deadline."""
    submission = session.get(Submission, submission_id)
    if submission is None or not _owns(caller, submission):
        raise AuthError(404, "no_such_report", "no such report")
    return report_status(submission, session, caller.id)
