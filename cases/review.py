"""The review desk's queries and its decision: which cases a filter selects, a page of the
queue, the other cases of an incident, and a decision with the reward ledger brought in step."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases import lifecycle
from cases.reward_ledger import reconcile
from cases.rewards import Policy
from ingest.db import Case, Submission


class BadFilter(ValueError):
    """A filter value the queue cannot use (HTTP 422); ``code`` names which."""

    def __init__(self, detail: str, code: str = "bad_filter") -> None:
        super().__init__(detail)
        self.code = code


NEAR_HELP = "near is 'lat,lon,km': latitude -90..90, longitude -180..180, 0 < km <= 20000"


def day_end(day: date) -> datetime:
    """The first instant after ``day`` (UTC); the last representable instant for date.max."""
    if day >= date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def parse_near(near: str) -> tuple[float, float, float]:
    """``lat,lon,km`` as three finite numbers in range, or :class:`BadFilter` (``bad_near``)."""
    try:
        lat, lon, km = (float(v) for v in near.split(","))
    except ValueError:
        raise BadFilter(NEAR_HELP, "bad_near") from None
    finite = all(math.isfinite(v) for v in (lat, lon, km))
    if not (finite and -90 <= lat <= 90 and -180 <= lon <= 180 and 0 < km <= 20000):
        raise BadFilter(NEAR_HELP, "bad_near")
    return lat, lon, km


def filters(
    violation: str | None = None,
    since: date | None = None,
    until: date | None = None,
    min_confidence: float | None = None,
    near: str | None = None,
) -> list[Any]:
    """Query conditions from the desk's filters; ``near`` is ``lat,lon,km``."""
    where: list[Any] = []
    if violation:
        where.append(Case.violation == violation)
    if since:
        where.append(Case.created_at >= datetime.combine(since, time(), UTC))
    if until:
        where.append(Case.created_at < day_end(until))
    if min_confidence is not None:
        where.append(Case.confidence >= min_confidence)
    if near:
        lat, lon, km = parse_near(near)
        dlat, dlon = km / 111.0, km / (111.0 * max(0.1, abs(math.cos(math.radians(lat)))))
        where += [Case.latitude.between(lat - dlat, lat + dlat)]
        where += [Case.longitude.between(lon - dlon, lon + dlon)]
    return where


def queue_page(
    session: Session, status: str, where: Sequence[Any], limit: int, offset: int
) -> tuple[list[Case], int]:
    """Cases in ``status`` matching ``where``, the oldest answer deadline first, and how many
    match in all. Lapsed claims are returned to the queue first."""
    lifecycle.expire_claims(session)
    session.commit()
    query = select(Case).join(Submission).where(Case.status == status, *where)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    cases = session.scalars(
        query.order_by(Submission.created_at, Case.id).limit(limit).offset(offset)
    )
    return list(cases), total


def incident_others(session: Session, case: Case) -> list[str]:
    """The other cases of the same incident (duplicates by other reporters)."""
    if not case.incident_id:
        return []
    return list(
        session.scalars(
            select(Case.id).where(Case.incident_id == case.incident_id, Case.id != case.id)
        )
    )


def decide(
    session: Session, case_id: str, officer: str, decision: lifecycle.Decision, policy: Policy
) -> Case:
    """Record an officer's decision and bring the reward ledger in step in the same transaction
    (the caller commits). Raises KeyError or :class:`lifecycle.IllegalTransition`."""
    case = lifecycle.decide(session, case_id, officer, decision)
    session.flush()
    reconcile(session, policy)
    return case
