"""Report abuse: per-reporter and per-device rate limits, the reporters whose reports are
mostly rejected (for supervisors), and the suspension of a reporter's rewards (audited).

The Shenzhen measures punish malicious and false reports (Article 17): a flood of reports or a
run of rejected ones is something a supervisor should see, and decide on, with the history."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ingest.db import AuditEvent, Case, Reporter, Submission, Upload, now
from ingest.errors import Refused


class RateLimited(Refused):
    """Too many reports in the window; ``headers`` carries Retry-After (seconds)."""

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(429, "rate_limited", detail)
        self.headers = {"Retry-After": str(retry_after_s)}


def check_rate(
    session: Session,
    kind: str,
    sender: str,
    limit: int,
    window_s: float,
    at: datetime | None = None,
) -> None:
    """Refuse a new report when ``sender`` (a reporter or device id) already sent ``limit``
    in the last ``window_s`` seconds: accepted submissions and uploads still open."""
    at = at or now()
    since = at - timedelta(seconds=window_s)
    who = Submission.reporter if kind == "reporter" else Submission.device_id
    times = list(
        session.scalars(
            select(Submission.created_at).where(who == sender, Submission.created_at >= since)
        )
    )
    times += session.scalars(
        select(Upload.created_at).where(
            Upload.owner == f"{kind}:{sender}",
            Upload.created_at >= since,
            Upload.submission_id.is_(None),
        )
    )
    if len(times) < limit:
        return
    oldest_counted = sorted(times)[len(times) - limit]
    wait = max(1, math.ceil((oldest_counted + timedelta(seconds=window_s) - at).total_seconds()))
    raise RateLimited(
        f"{len(times)} reports in the last {window_s:.0f} s (limit {limit}); try again in {wait} s",
        wait,
    )


def rejected_reporters(
    session: Session, min_decided: int, rejected_rate: float, history: int = 50
) -> list[dict[str, Any]]:
    """Reporters with at least ``min_decided`` decided cases of which more than
    ``rejected_rate`` were rejected, worst first, each with its recent reports."""
    rows = session.execute(
        select(Submission.reporter, Case.status, func.count())
        .join(Case, Case.submission_id == Submission.id)
        .where(Submission.reporter.is_not(None), Case.status.in_(("confirmed", "rejected")))
        .group_by(Submission.reporter, Case.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for reporter, status, n in rows:
        if reporter is None:
            continue
        counts.setdefault(reporter, {"confirmed": 0, "rejected": 0})[status] = int(n)
    listed = []
    for reporter, c in counts.items():
        decided = c["confirmed"] + c["rejected"]
        rate = c["rejected"] / decided
        if decided >= min_decided and rate > rejected_rate:
            listed.append((rate, decided, reporter))
    out = []
    for rate, decided, reporter in sorted(listed, reverse=True):
        account = session.get(Reporter, reporter)
        subs = session.scalars(
            select(Submission)
            .where(Submission.reporter == reporter)
            .order_by(Submission.created_at.desc())
            .limit(history)
        )
        out.append(
            {
                "reporter_id": reporter,
                "decided": decided,
                "rejected": counts[reporter]["rejected"],
                "rejected_rate": round(rate, 3),
                "rewards_suspended": bool(account and account.rewards_suspended_at),
                "suspension_reason": account.rewards_suspension_reason if account else None,
                "history": [
                    {
                        "submission_id": s.id,
                        "created_at": s.created_at,
                        "status": s.status,
                        "cases": [
                            {
                                "case_id": k.id,
                                "status": k.status,
                                "reason": k.decision_reason,
                                "flags": [f.get("kind") for f in k.flags],
                            }
                            for k in s.cases
                        ],
                    }
                    for s in subs
                ],
            }
        )
    return out


def suspend_rewards(session: Session, reporter_id: str, by: str, reason: str | None) -> Reporter:
    """Suspend (``reason`` given) or lift (``reason`` None) a reporter's rewards; audited."""
    account = session.get(Reporter, reporter_id, with_for_update=True)
    if account is None:
        raise Refused(404, "not_found", "no such reporter")
    if reason is None:
        account.rewards_suspended_at = account.rewards_suspended_by = None
        account.rewards_suspension_reason = None
    else:
        account.rewards_suspended_at, account.rewards_suspended_by = now(), by
        account.rewards_suspension_reason = reason
    session.add(
        AuditEvent(
            actor=by,
            action="rewards_suspended" if reason is not None else "rewards_restored",
            entity="reporter",
            entity_id=reporter_id,
            data={"reason": reason} if reason is not None else {},
        )
    )
    return account
