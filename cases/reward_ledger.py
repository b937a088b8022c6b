"""The reward ledger in the database: recomputed from every confirmed case after each decision
(paid lines are never touched), the annual budget, and the statistics of Articles 14 and 16."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cases.rewards import ConfirmedCase, Policy, compute
from cases.rewards import Reporter as RewardReporter
from ingest.audit import audit
from ingest.db import Case, Reporter, Submission, now
from ingest.db_review import Reward, RewardBudget


def reconcile(session: Session, policy: Policy) -> int:
    """Bring the ledger in line with the confirmed cases; returns how many lines changed."""
    rows = session.execute(
        select(Case, Submission).join(Submission).where(Case.status == "confirmed")
    ).all()
    confirmed = [
        ConfirmedCase(
            case.id,
            case.incident_id or case.id,
            case.violation,
            sub.created_at,
            tuple(r for r in (sub.reporter, *sub.joint_reporters) if r),
            tuple(sorted(case.reward_exclusions.items())),
        )
        for case, sub in rows
        if sub.reporter
    ]
    ids = {r for c in confirmed for r in c.reporters}
    accounts = list(session.scalars(select(Reporter).where(Reporter.id.in_(ids))))
    reporters = {
        r.id: RewardReporter(r.id, r.real_name, r.payment_account, r.affiliation) for r in accounts
    }
    suspended = {r.id: r.rewards_suspension_reason for r in accounts if r.rewards_suspended_at}
    existing = {(r.case_id, r.reporter_id): r for r in session.scalars(select(Reward))}
    changed = 0
    for line in compute(confirmed, reporters, policy):
        if line.status == "payable" and line.reporter_id in suspended:
            why = f"rewards suspended by a supervisor: {suspended[line.reporter_id]}"
            line = replace(line, amount_fen=0, status="withheld", reason=why)
        row = existing.get((line.case_id, line.reporter_id))
        if row is not None and row.status == "paid":
            continue
        values = {
            "item": line.item,
            "amount_fen": line.amount_fen,
            "status": line.status,
            "reason": line.reason,
            "month": line.month,
            "policy_version": policy.version,
        }
        if row is None:
            session.add(Reward(case_id=line.case_id, reporter_id=line.reporter_id, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
    return changed


def budget(session: Session, year: int) -> dict[str, Any]:
    """The year's budget, what is paid and listed for payment, and what is left (yuan)."""
    row = session.get(RewardBudget, year)
    sums = dict(
        session.execute(
            select(Reward.status, func.coalesce(func.sum(Reward.amount_fen), 0))
            .where(Reward.month.like(f"{year}-%"))
            .group_by(Reward.status)
        ).all()
    )
    paid, payable = int(sums.get("paid", 0)), int(sums.get("payable", 0))
    total = row.amount_fen if row else 0
    return {
        "year": year,
        "budget": total / 100,
        "paid": paid / 100,
        "payable": payable / 100,
        "left": (total - paid - payable) / 100,
    }


def statistics(session: Session, start: datetime, end: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """Reports received, cases confirmed and rejected (by reason), rewards paid by item, for
    reports accepted in [start, end)."""
    received = (
        session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.created_at >= start, Submission.created_at < end)
        )
        or 0
    )
    cases = session.execute(
        select(Case.status, Case.decision_reason, Case.violation)
        .join(Submission)
        .where(Submission.created_at >= start, Submission.created_at < end)
    ).all()
    rejected: Counter[str] = Counter()
    for status, reason, _ in cases:
        if status == "rejected":
            rejected[(reason or "other").split(":")[0]] += 1
    months = _months(start, end, zone)
    paid_by_item: dict[int, float] = defaultdict(float)
    for item, fen in session.execute(
        select(Reward.item, func.sum(Reward.amount_fen))
        .where(Reward.status == "paid", Reward.month.in_(months))
        .group_by(Reward.item)
    ):
        paid_by_item[int(item)] += int(fen) / 100
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "reports_received": int(received),
        "cases_confirmed": sum(1 for s, _, _ in cases if s == "confirmed"),
        "cases_rejected": sum(rejected.values()),
        "rejected_by_reason": dict(sorted(rejected.items())),
        "rewards_paid_by_item": {str(k): v for k, v in sorted(paid_by_item.items())},
        "rewards_paid_total": sum(paid_by_item.values()),
    }


def _months(start: datetime, end: datetime, zone: ZoneInfo) -> list[str]:
    local, stop = start.astimezone(zone), end.astimezone(zone)
    year, month = local.year, local.month
    out: list[str] = []
    while (year, month) < (stop.year, stop.month) or not out:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def mark_paid(session: Session, reward_id: str, actor: str = "system") -> Reward:
    """Record that a payable reward was paid (audited). KeyError: no such reward; ValueError:
    it is not payable."""
    reward = session.get(Reward, reward_id, with_for_update=True)
    if reward is None:
        raise KeyError(reward_id)
    if reward.status != "payable":
        raise ValueError(f"the reward is {reward.status}")
    # compare-and-swap: SQLite ignores FOR UPDATE, and twin requests each paid the reward
    paying = update(Reward).where(Reward.id == reward_id, Reward.status == "payable")
    paying = paying.values(status="paid").execution_options(synchronize_session=False)
    if not session.execute(paying).rowcount:  # type: ignore[attr-defined]
        raise ValueError("the reward was paid by another request at the same moment")
    reward.status, reward.paid_at = "paid", now()
    audit(
        session,
        actor,
        "reward_paid",
        "reward",
        reward.id,
        {"case": reward.case_id, "amount_fen": reward.amount_fen},
    )
    return reward


def set_budget(
    session: Session, year: int, amount_fen: int, set_by: str, note: str | None, actor: str
) -> None:
    """Set the year's reward budget (Article 13), audited."""
    row = session.get(RewardBudget, year)
    if row is None:
        session.add(RewardBudget(year=year, amount_fen=amount_fen, set_by=set_by, note=note))
    else:
        row.amount_fen, row.set_by, row.note = amount_fen, set_by, note
    audit(session, actor, "budget_set", "budget", str(year), {"amount_fen": amount_fen})
