"""Rewards and accounts (Articles 13-16): the ledger listed for payment, the annual budget,
quarterly statistics, the annual public summary, and the export of confirmed cases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.deps import ServicesDep, SessionDep
from api.limits import OffLoopJSONRoute
from api.refs import reporter_ref, reporter_ref_key
from api.schemas import Day, Problem
from api.staff_auth import Admin, Supervisor
from cases import reward_ledger
from cases.review import day_end
from cases.reward_ledger import budget, mark_paid, statistics
from cases.services import Services
from ingest.db import Case, Reporter, Submission
from ingest.db_review import Reward

router = APIRouter(prefix="/v1", tags=["rewards"], route_class=OffLoopJSONRoute)
Format = Literal["json", "csv"]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV"}
}
"""The answer of an operation with ``format=csv``, documented as it is sent."""
FIRST_YEAR, LAST_YEAR = 2000, 2100
YEAR_HELP = f"A calendar year, {FIRST_YEAR}-{LAST_YEAR}."
YearPath = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description=YEAR_HELP)]
YearQuery = Annotated[int, Query(ge=FIRST_YEAR, le=LAST_YEAR, description=YEAR_HELP)]
MAX_BUDGET_YUAN = 1e12


class RewardOut(BaseModel):
    id: str
    case_id: str
    reporter_ref: str
    item: int
    amount_yuan: float
    status: str
    reason: str | None
    month: str
    policy_version: str
    paid_at: datetime | None
    payee: dict[str, str | None] | None = Field(
        None, description="Real name and account, for administrators paying the reward."
    )


class BudgetIn(BaseModel):
    amount_yuan: float = Field(ge=0, le=MAX_BUDGET_YUAN, allow_inf_nan=False)
    note: str | None = Field(default=None, max_length=2000)


def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return PlainTextResponse(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/rewards", response_model=list[RewardOut])
def rewards(
    session: SessionDep,
    services: ServicesDep,
    caller: Supervisor,
    status: Literal["payable", "paid", "withheld"] | None = None,
    month: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$")] = None,
) -> list[RewardOut]:
    """The reward ledger: every reward with its case and payment status."""
    query = select(Reward).order_by(Reward.month, Reward.created_at)
    if status:
        query = query.where(Reward.status == status)
    if month:
        query = query.where(Reward.month == month)
    rows = list(session.scalars(query.limit(5000)))
    key = reporter_ref_key(services.settings)
    payees: dict[str, Reporter] = {}
    if caller.role == "admin":
        ids = {r.reporter_id for r in rows}
        payees = {p.id: p for p in session.scalars(select(Reporter).where(Reporter.id.in_(ids)))}
    return [
        RewardOut(
            id=r.id,
            case_id=r.case_id,
            reporter_ref=reporter_ref(key, r.reporter_id),
            item=r.item,
            amount_yuan=r.amount_fen / 100,
            status=r.status,
            reason=r.reason,
            month=r.month,
            policy_version=r.policy_version,
            paid_at=r.paid_at,
            payee=(
                {
                    "real_name": payees[r.reporter_id].real_name,
                    "payment_account": payees[r.reporter_id].payment_account,
                }
                if r.reporter_id in payees
                else None
            ),
        )
        for r in rows
    ]


@router.post(
    "/rewards/{reward_id}/paid",
    status_code=204,
    responses={404: {"model": Problem}, 409: {"model": Problem}},
)
def paid(reward_id: str, session: SessionDep, caller: Admin) -> None:
    """Record that a payable reward was paid."""
    try:
        mark_paid(session, reward_id, caller.owner)
    except KeyError:
        raise HTTPException(404, "no such reward") from None
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    session.commit()


@router.get("/budget/{year}")
def get_budget(year: YearPath, session: SessionDep, _: Supervisor) -> dict[str, Any]:
    """The year's reward budget: amount, paid, listed for payment, left (yuan)."""
    return budget(session, year)


@router.put("/budget/{year}")
def set_budget(
    year: YearPath, body: BudgetIn, session: SessionDep, caller: Admin
) -> dict[str, Any]:
    """Set the year's reward budget (Article 13)."""
    amount = round(body.amount_yuan * 100)
    try:
        reward_ledger.set_budget(session, year, amount, caller.id, body.note, caller.owner)
        session.commit()
    except IntegrityError:  # the year's first budget, set by another request at this moment:
        session.rollback()  # now there is a row to update
        reward_ledger.set_budget(session, year, amount, caller.id, body.note, caller.owner)
        session.commit()
    return budget(session, year)


def _span(year: int, first_month: int, months: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(year, first_month, 1, tzinfo=zone)
    end_month = first_month + months
    end = datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _flat(stats: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {"measure": k, "key": "", "value": v} for k, v in stats.items() if not isinstance(v, dict)
    ]
    for k, v in stats.items():
        if isinstance(v, dict):
            rows += [{"measure": k, "key": kk, "value": vv} for kk, vv in v.items()]
    return rows


def _stats(
    session: Session,
    services: Services,
    year: int,
    first_month: int,
    months: int,
    format: Format,
    name: str,
) -> dict[str, Any] | Response:
    zone = ZoneInfo(services.policy.timezone)
    stats = statistics(session, *_span(year, first_month, months, zone), zone)
    stats["budget"] = budget(session, year)
    if format == "csv":
        return _csv(_flat(stats), f"roadwitness-{name}.csv")
    return stats


@router.get("/stats/quarterly", response_model=None, responses=CSV)
def quarterly(
    session: SessionDep,
    services: ServicesDep,
    _: Supervisor,
    year: YearQuery,
    quarter: Annotated[int, Query(ge=1, le=4)],
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Reports received, confirmed, rejected by reason, rewards paid by item, in a quarter."""
    return _stats(session, services, year, 3 * quarter - 2, 3, format, f"{year}-Q{quarter}")


@router.get("/stats/annual", response_model=None, responses=CSV)
def annual(
    session: SessionDep,
    services: ServicesDep,
    _: Supervisor,
    year: YearQuery,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """The annual public summary of reports and rewards (Article 16)."""
    return _stats(session, services, year, 1, 12, format, f"{year}-annual")


@router.get("/export", response_model=None, responses=CSV)
def export(
    session: SessionDep,
    _: Supervisor,
    since: Day,
    until: Day | None = None,
    format: Format = "json",
) -> list[dict[str, Any]] | Response:
    """Confirmed cases decided in [since, until] with their evidence links and hashes, for the
    enforcement system downstream."""
    start = datetime.combine(since, time(), UTC)
    end = day_end(until or date.today())
    rows = []
    for case in session.scalars(
        select(Case)
        .join(Submission)
        .where(Case.status == "confirmed", Case.decided_at >= start, Case.decided_at < end)
        .order_by(Case.decided_at)
    ):
        manifest = next((e for e in case.evidence if e.role == "manifest"), None)
        rows.append(
            {
                "case_id": case.id,
                "violation": case.violation,
                "rule": case.rule,
                "plate": case.plate,
                "plate_colour": case.plate_colour,
                "vehicle_class": case.vehicle_class,
                "observed_at": case.observed_at.isoformat() if case.observed_at else None,
                "latitude": case.latitude,
                "longitude": case.longitude,
                "decided_at": case.decided_at.isoformat() if case.decided_at else None,
                "decided_by": case.decided_by,
                "original_sha256": case.submission.media.sha256,
                "manifest_url": f"/v1/evidence/{manifest.id}" if manifest else None,
                "manifest_sha256": manifest.sha256 if manifest else None,
                "evidence": ";".join(f"{e.role}={e.sha256}" for e in case.evidence),
            }
        )
    if format == "csv":
        return _csv(rows, f"roadwitness-confirmed-{since.isoformat()}.csv")
    return rows
