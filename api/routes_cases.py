"""The officer's review queue: pending cases, one case with its evidence, decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select, update

from api.deps import ServicesDep, SessionDep
from api.schemas import (
    CaseList,
    CaseOut,
    CaseSummary,
    Decision,
    EvidenceOut,
    Problem,
    VerificationOut,
)
from ingest.custody import custody, verify_case
from ingest.db import AuditEvent, Case, EvidenceItem, now
from models.grammar import is_valid_plate, normalise

router = APIRouter(prefix="/v1", tags=["review"])
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": Problem}}


def _summary(case: Case) -> CaseSummary:
    return CaseSummary.model_validate(case, from_attributes=True)


@router.get("/cases", response_model=CaseList)
def list_cases(
    session: SessionDep,
    status: Literal["pending", "confirmed", "rejected"] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseList:
    """Cases by status, oldest first (the review queue is ``status=pending``)."""
    query = select(Case).where(Case.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    cases = session.scalars(query.order_by(Case.created_at, Case.id).limit(limit).offset(offset))
    return CaseList(items=[_summary(c) for c in cases], total=total)


@router.get("/cases/{case_id}", response_model=CaseOut, responses=NOT_FOUND)
def get_case(case_id: str, session: SessionDep) -> CaseOut:
    """One case with everything needed to decide it; evidence URLs stream from the store."""
    case = session.get(Case, case_id)
    if case is None:
        raise HTTPException(404, "no such case")
    sub = case.submission
    return CaseOut(
        **_summary(case).model_dump(),
        submission_id=sub.id,
        original_sha256=sub.media.sha256,
        explanation=case.explanation,
        rules_version=case.rules_version,
        observed_at=case.observed_at,
        latitude=case.latitude if case.latitude is not None else sub.latitude,
        longitude=case.longitude if case.longitude is not None else sub.longitude,
        taken_at=sub.taken_at,
        models=case.models,
        decided_at=case.decided_at,
        decided_by=case.decided_by,
        decision_reason=case.decision_reason,
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


@router.get("/evidence/{item_id}", responses=NOT_FOUND, response_class=StreamingResponse)
def get_evidence(
    item_id: str, request: Request, session: SessionDep, services: ServicesDep
) -> StreamingResponse:
    """An evidence file's bytes, streamed from the object store (its SHA-256 in a header).
    Every view is written to the file's custody log."""
    item = session.get(EvidenceItem, item_id)
    if item is None:
        raise HTTPException(404, "no such evidence item")
    session.add(custody(_viewer(request), "evidence_viewed", item, {"case": item.case_id}))
    session.commit()
    return StreamingResponse(
        services.store.iter_bytes(item.key),
        media_type=item.content_type,
        headers={
            "Content-Length": str(item.size),
            "X-Content-SHA256": item.sha256,
            "Content-Disposition": f'inline; filename="{item.id}{item.name[-4:]}"',
        },
    )


def _viewer(request: Request) -> str:
    return f"client:{request.client.host if request.client else 'unknown'}"


@router.post("/cases/{case_id}/verify", response_model=VerificationOut, responses=NOT_FOUND)
def verify(
    case_id: str, request: Request, session: SessionDep, services: ServicesDep
) -> VerificationOut:
    """Recompute the SHA-256 of every evidence file and of the original and compare them with
    the records and the package's manifest (``ok`` false on any mismatch)."""
    try:
        result = verify_case(session, services.store, case_id, _viewer(request))
    except KeyError:
        raise HTTPException(404, "no such case") from None
    session.commit()
    return VerificationOut(
        case_id=case_id, ok=result.ok, checked=result.checked, problems=result.problems
    )


@router.post(
    "/cases/{case_id}/decision",
    response_model=CaseOut,
    responses={**NOT_FOUND, 409: {"model": Problem}, 422: {"model": Problem}},
)
def decide(case_id: str, decision: Decision, session: SessionDep) -> CaseOut:
    """Confirm (optionally with a corrected plate) or reject (with a reason) a pending case.
    A case is decided once; a second decision gets 409."""
    case = session.get(Case, case_id)
    if case is None:
        raise HTTPException(404, "no such case")
    plate = case.plate
    if decision.plate is not None:
        plate = normalise(decision.plate)
        if not is_valid_plate(plate):
            raise HTTPException(422, f"{decision.plate!r} is not a valid plate")
    status = "confirmed" if decision.decision == "confirm" else "rejected"
    decided = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == "pending")
        .values(
            status=status,
            plate=plate,
            decided_at=now(),
            decided_by=decision.officer,
            decision_reason=decision.reason,
        )
    ).rowcount  # type: ignore[attr-defined]
    if decided != 1:
        session.rollback()  # expires ``case``: its status below is read afresh
        raise HTTPException(409, f"the case was already decided ({case.status})")
    session.add(
        AuditEvent(
            actor=f"officer:{decision.officer}",
            action=status,
            entity="case",
            entity_id=case_id,
            data={
                "before": {"status": "pending", "plate": case.plate},
                "after": {"status": status, "plate": plate},
                "reason": decision.reason,
            },
        )
    )
    session.commit()
    session.refresh(case)
    return get_case(case_id, session)
