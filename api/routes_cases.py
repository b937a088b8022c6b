"""The officer's review queue: cases, claims, decisions, evidence and its verification."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from api.deps import ServicesDep, SessionDep
from api.errors import excerpt
from api.limits import OffLoopJSONRoute
from api.refs import reporter_ref, reporter_ref_key
from api.schemas import Day, Problem
from api.schemas_review import (
    CaptureOut,
    CaseList,
    CaseOut,
    CaseSummary,
    Decision,
    EvidenceOut,
    VerificationOut,
)
from api.staff_auth import AnyStaff, Officer, Reviewer
from cases import lifecycle, review
from cases.custody import custody, verify_case
from ingest.attestation import capture_of
from ingest.db import Case, EvidenceItem, now
from ingest.errors import Refused
from models.grammar import is_valid_plate, normalise

router = APIRouter(prefix="/v1", tags=["review"], route_class=OffLoopJSONRoute)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": Problem}}
ANSWER_DAYS = 30
MAX_EXCLUDED = 1000
MAX_OFFSET = 1_000_000_000
"""Past any real queue, and far inside the 64-bit OFFSET both databases take (a larger number
is a 422 here, not an overflow in the driver)."""


Near = Annotated[str | None, Query(max_length=100, description="lat,lon,km")]
Confidence = Annotated[float | None, Query(ge=0, le=1, allow_inf_nan=False)]


def _summary(case: Case) -> CaseSummary:
    due = case.submission.created_at + timedelta(days=ANSWER_DAYS)
    return CaseSummary.model_validate(
        {
            **{k: getattr(case, k) for k in CaseSummary.model_fields if hasattr(case, k)},
            "answer_due": due,
            "overdue": case.status in ("candidate", "under_review") and due < now(),
        }
    )


def filters(
    violation: str | None = None,
    since: date | None = None,
    until: date | None = None,
    min_confidence: float | None = None,
    near: str | None = None,
) -> list[Any]:
    """Query conditions from the desk's filters (422 for a bad one); see ``cases.review``."""
    try:
        return review.filters(violation, since, until, min_confidence, near)
    except review.BadFilter as exc:
        raise Refused(422, exc.code, str(exc)) from None


@router.get("/cases", response_model=CaseList)
def list_cases(
    session: SessionDep,
    _: Reviewer,
    status: Literal["candidate", "under_review", "confirmed", "rejected"] = "candidate",
    violation: str | None = None,
    since: Day | None = None,
    until: Day | None = None,
    min_confidence: Confidence = None,
    near: Near = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CaseList:
    """Cases by status, the oldest answer deadline first (the queue is ``status=candidate``)."""
    where = filters(violation, since, until, min_confidence, near)
    cases, total = review.queue_page(session, status, where, limit, offset)
    return CaseList(items=[_summary(c) for c in cases], total=total)


def case_out(session: Session, case: Case, key: bytes) -> CaseOut:
    sub = case.submission
    duplicates = review.incident_others(session, case)
    return CaseOut(
        **_summary(case).model_dump(),
        submission_id=sub.id,
        reporter_refs=[reporter_ref(key, r) for r in (sub.reporter, *sub.joint_reporters) if r],
        duplicates=duplicates,
        original_sha256=sub.media.sha256,
        explanation=case.explanation,
        rules_version=case.rules_version,
        time_source=sub.time_source,
        place_source=sub.place_source,
        declared_time_source=sub.declared_time_source,
        declared_place_source=sub.declared_place_source,
        track=[(p.latitude, p.longitude) for p in sub.track],
        taken_at=sub.taken_at,
        models=case.models,
        decided_at=case.decided_at,
        decided_by=case.decided_by,
        decision_reason=case.decision_reason,
        capture=CaptureOut(**asdict(capture_of(session, sub))),
        evidence=[
            EvidenceOut(
                role=e.role,
                name=e.name,
                content_type=e.content_type,
                sha256=e.sha256,
                size=e.size,
                url=f"/v1/evidence/{e.id}",
            )
            for e in case.evidence
        ],
    )


@router.get("/cases/{case_id}", response_model=CaseOut, responses=NOT_FOUND)
def get_case(case_id: str, session: SessionDep, services: ServicesDep, _: Reviewer) -> CaseOut:
    """One case with everything needed to decide it; evidence URLs stream from the store."""
    case = session.get(Case, case_id)
    if case is None:
        raise HTTPException(404, "no such case")
    return case_out(session, case, reporter_ref_key(services.settings))


@router.get("/evidence/{item_id}", responses=NOT_FOUND, response_class=StreamingResponse)
def get_evidence(
    item_id: str, session: SessionDep, services: ServicesDep, caller: Reviewer
) -> StreamingResponse:
    """An evidence file's bytes, streamed from the object store (its SHA-256 in a header).
    Every view is written to the file's custody log."""
    item = session.get(EvidenceItem, item_id)
    if item is None:
        raise HTTPException(404, "no such evidence item")
    session.add(custody(caller.owner, "evidence_viewed", item, {"case": item.case_id}))
    session.commit()
    return StreamingResponse(
        services.store.iter_bytes(item.key),
        media_type=item.content_type,
        headers={
            "Content-Length": str(item.size),
            "X-Content-SHA256": item.sha256,
            "Cache-Control": "private, max-age=3600",
            "Content-Disposition": f'inline; filename="{item.id}{item.name[-4:]}"',
        },
    )


@router.post("/cases/{case_id}/verify", response_model=VerificationOut, responses=NOT_FOUND)
def verify(
    case_id: str, session: SessionDep, services: ServicesDep, caller: AnyStaff
) -> VerificationOut:
    """Recompute the SHA-256 of every evidence file and of the original and compare them with
    the records and the package's manifest (``ok`` false on any mismatch)."""
    try:
        result = verify_case(session, services.store, case_id, caller.owner)
    except KeyError:
        raise HTTPException(404, "no such case") from None
    session.commit()
    return VerificationOut(
        case_id=case_id, ok=result.ok, checked=result.checked, problems=result.problems
    )


@router.post("/claims/next", response_model=CaseOut | None)
def claim_next(
    session: SessionDep,
    services: ServicesDep,
    caller: Officer,
    violation: str | None = None,
    since: Day | None = None,
    until: Day | None = None,
    min_confidence: Confidence = None,
    near: Near = None,
    exclude: Annotated[
        list[str] | None, Query(max_length=MAX_EXCLUDED, description="Case ids skipped (J).")
    ] = None,
) -> CaseOut | None:
    """Claim the next case to review (the officer's own open claim first); null when the queue
    is empty. The claim lasts ``claim_minutes``; two officers never get the same case."""
    where = filters(violation, since, until, min_confidence, near)
    if exclude:
        where.append(Case.id.not_in(exclude))
    case = lifecycle.claim_next(session, caller.id, services.settings.claim_minutes, where)
    session.commit()
    key = reporter_ref_key(services.settings)
    return case_out(session, case, key) if case is not None else None


def _transition(session: Session, key: bytes, move: Callable[[], Case]) -> CaseOut:
    """Run one lifecycle move: 404 for an unknown case, 409 for a move its state forbids."""
    try:
        case = move()
    except KeyError:
        raise HTTPException(404, "no such case") from None
    except lifecycle.IllegalTransition as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return case_out(session, case, key)


@router.post("/cases/{case_id}/claim", response_model=CaseOut, responses={**NOT_FOUND, **CONFLICT})
def claim(case_id: str, session: SessionDep, services: ServicesDep, caller: Officer) -> CaseOut:
    """Claim (or renew the claim on) one case; 409 when another officer holds it or it is
    decided."""
    minutes = services.settings.claim_minutes
    key = reporter_ref_key(services.settings)
    return _transition(session, key, lambda: lifecycle.claim(session, case_id, caller.id, minutes))


@router.post(
    "/cases/{case_id}/release", response_model=CaseOut, responses={**NOT_FOUND, **CONFLICT}
)
def release(case_id: str, session: SessionDep, services: ServicesDep, caller: Officer) -> CaseOut:
    """Give a claimed case back to the queue undecided."""
    key = reporter_ref_key(services.settings)
    return _transition(session, key, lambda: lifecycle.release(session, case_id, caller.id))


@router.post(
    "/cases/{case_id}/decision",
    response_model=CaseOut,
    responses={**NOT_FOUND, **CONFLICT, 422: {"model": Problem}},
)
def decide(
    case_id: str, decision: Decision, session: SessionDep, services: ServicesDep, caller: Officer
) -> CaseOut:
    """Confirm (optionally with a corrected plate) or reject (with a reason) a case. A case is
    decided once (409 after), and never while another officer holds it."""
    plate = None
    if decision.plate is not None:
        plate = normalise(decision.plate)
        if not is_valid_plate(plate):
            raise Refused(422, "bad_plate", f"{excerpt(decision.plate, 40)!r} is not a valid plate")
    case = session.get(Case, case_id)
    if case is None:
        raise HTTPException(404, "no such case")
    exclusions: dict[str, str] | None = None
    key = reporter_ref_key(services.settings)
    if decision.exclusions:
        refs = {
            reporter_ref(key, r): r
            for r in (case.submission.reporter, *case.submission.joint_reporters)
            if r
        }
        unknown = set(decision.exclusions) - set(refs)
        if unknown:
            listed = excerpt(", ".join(sorted(unknown)))
            raise Refused(422, "not_a_reporter", f"not a reporter of this case: {listed}")
        exclusions = {refs[ref]: str(why) for ref, why in decision.exclusions.items()}
    try:
        case = review.decide(
            session,
            case_id,
            caller.id,
            lifecycle.Decision(
                decision.decision, decision.reason, decision.note, plate, exclusions
            ),
            services.policy,
        )
    except lifecycle.IllegalTransition as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return case_out(session, case, key)
