"""Cloned-plate signal (Shenzhen item 6): the same plate read where one vehicle could not
have been, or on vehicles that differ. A flag on both cases for the officer, never a decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.audit import audit
from ingest.db import Case
from ingest.tracks import Point, distance_m
from rules.config import ClonedPlateConfig, DuplicatesConfig

CLONED_PLATE = "cloned_plate@1"


def _why(a: Case, b: Case, config: ClonedPlateConfig) -> dict[str, Any] | None:
    if a.vehicle_class != b.vehicle_class and "unknown" not in (a.vehicle_class, b.vehicle_class):
        return {"reason": f"read on a {a.vehicle_class} and on a {b.vehicle_class}"}
    if a.plate_colour and b.plate_colour and a.plate_colour != b.plate_colour:
        return {"reason": f"read on a {a.plate_colour} plate and on a {b.plate_colour} plate"}
    if None in (a.observed_at, b.observed_at, a.latitude, b.latitude, a.longitude, b.longitude):
        return None
    assert a.observed_at and b.observed_at and a.latitude and a.longitude
    assert b.latitude and b.longitude
    km = (
        distance_m(
            Point(a.observed_at, a.latitude, a.longitude),
            Point(b.observed_at, b.latitude, b.longitude),
        )
        / 1000
    )
    hours = abs((a.observed_at - b.observed_at).total_seconds()) / 3600
    speed = km / hours if hours > 0 else float("inf")
    if km < 1.0 or speed <= config.max_speed_kmh:
        return None
    return {
        "reason": f"{km:.0f} km apart in {hours * 60:.0f} min ({speed:.0f} km/h needed)",
        "distance_km": round(km, 1),
        "minutes": round(hours * 60, 1),
    }


def flag_clones(session: Session, cases: list[Case], config: ClonedPlateConfig, actor: str) -> int:
    """Compare each new case with every other case of its plate; flag both of a suspect pair.
    Returns how many pairs were flagged."""
    flagged = 0
    for case in cases:
        if not case.plate:
            continue
        others = session.scalars(
            select(Case).where(
                Case.plate == case.plate,
                Case.id != case.id,
                Case.submission_id != case.submission_id,
            )
        )
        for other in others:
            why = _why(case, other, config)
            if why is None:
                continue
            for this, that in ((case, other), (other, case)):
                if any(f.get("other_case") == that.id for f in this.flags):
                    continue
                this.flags = [*this.flags, {"kind": CLONED_PLATE, "other_case": that.id, **why}]
                audit(
                    session,
                    actor,
                    "flag_raised",
                    "case",
                    this.id,
                    {"flag": CLONED_PLATE, "other_case": that.id, **why},
                )
            flagged += 1
    return flagged


def join_incidents(session: Session, cases: list[Case], config: DuplicatesConfig) -> None:
    """Give each new case the incident of an earlier case of the same plate and violation, close
    in time and place (one incident, many reporters); otherwise an incident of its own."""
    for case in cases:
        case.incident_id = case.id
        if not case.plate or case.observed_at is None or case.latitude is None:
            continue
        others = session.scalars(
            select(Case)
            .where(
                Case.plate == case.plate,
                Case.violation == case.violation,
                Case.submission_id != case.submission_id,
                Case.id != case.id,
                Case.observed_at.is_not(None),
                Case.latitude.is_not(None),
            )
            .order_by(Case.created_at)
        )
        for other in others:
            assert other.observed_at is not None and other.latitude is not None
            assert other.longitude is not None and case.longitude is not None
            seconds = abs((other.observed_at - case.observed_at).total_seconds())
            here = Point(case.observed_at, case.latitude, case.longitude)
            there = Point(other.observed_at, other.latitude, other.longitude)
            if seconds <= config.window_s and distance_m(here, there) <= config.distance_m:
                case.incident_id = other.incident_id or other.id
                audit(
                    session,
                    "system:duplicates",
                    "duplicate_joined",
                    "case",
                    case.id,
                    {"incident": case.incident_id, "with_case": other.id},
                )
                break
