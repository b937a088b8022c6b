"""Rewards under the Shenzhen measures, as a pure function of the confirmed cases.

Rules applied, in report-time order:
- one reward per incident: the first reporter by report time (a joint report splits it evenly);
- an amount per item (Article 5), item 45 paying its amount for every ``per_cases`` cases;
- a monthly cap per reporter per group of items, counted in the local calendar month of the
  report; a reward that would pass the cap is cut to what is left of it;
- no reward for excluded reporters (police and the like, accomplices, victims) or without a real
  name and a payment account (Article 9) — such lines are kept as ``withheld`` with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_POLICY = Path(__file__).with_name("reward_policy.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(_Strict):
    cap: int | None = Field(None, ge=0)


class Item(_Strict):
    amount: int = Field(gt=0)
    group: str
    per_cases: int = Field(1, ge=1)


class Policy(_Strict):
    version: str
    timezone: str = "Asia/Shanghai"
    groups: dict[str, Group]
    items: dict[int, Item]
    violations: dict[str, int]
    excluded_affiliations: tuple[str, ...] = ()

    def item_of(self, violation: str) -> int | None:
        return self.violations.get(violation)


class PolicyError(ValueError):
    pass


def load_policy(path: Path | None = None) -> Policy:
    path = path or DEFAULT_POLICY
    try:
        policy = Policy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: {exc}") from None
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"{path}: {where}") from None
    for number, item in policy.items.items():
        if item.group not in policy.groups:
            raise PolicyError(f"{path}: items.{number}.group: no group {item.group!r}")
    return policy


@dataclass(frozen=True, slots=True)
class Reporter:
    id: str
    real_name: str | None = None
    payment_account: str | None = None
    affiliation: str | None = None


@dataclass(frozen=True, slots=True)
class ConfirmedCase:
    case_id: str
    incident_id: str
    violation: str
    reported_at: datetime
    """When the reporter's submission was accepted (UTC)."""
    reporters: tuple[str, ...]
    """The reporter of the submission, then any joint reporters it declared."""
    exclusions: tuple[tuple[str, str], ...] = ()
    """(reporter id, why: accomplice or victim) marked by the officer."""


@dataclass(frozen=True, slots=True)
class Line:
    case_id: str
    reporter_id: str
    item: int
    amount_fen: int
    status: str
    """payable or withheld."""
    reason: str | None
    month: str


def _split(total_fen: int, ways: int) -> list[int]:
    """An even split to the fen; the first shares take any remainder fen."""
    base, rest = divmod(total_fen, ways)
    return [base + (1 if i < rest else 0) for i in range(ways)]


DUPLICATE = "duplicate: an earlier report of the same incident is rewarded"


def _withheld(case: ConfirmedCase, item: int, month: str, reason: str) -> list[Line]:
    return [Line(case.case_id, who, item, 0, "withheld", reason, month) for who in case.reporters]


def compute(
    cases: Iterable[ConfirmedCase], reporters: dict[str, Reporter], policy: Policy
) -> list[Line]:
    zone = ZoneInfo(policy.timezone)
    paid: dict[tuple[str, str, str], int] = defaultdict(int)  # (reporter, group, month) -> fen
    counted: dict[tuple[str, int, str], int] = defaultdict(int)  # per-case items: cases so far
    rewarded_incidents: set[str] = set()
    lines: list[Line] = []
    for case in sorted(cases, key=lambda c: (c.reported_at, c.case_id)):
        item_no = policy.item_of(case.violation)
        month = case.reported_at.astimezone(zone).strftime("%Y-%m")
        if item_no is None or item_no not in policy.items:
            continue  # not a rewarded item
        item = policy.items[item_no]
        if case.incident_id in rewarded_incidents:
            lines += _withheld(case, item_no, month, DUPLICATE)
            continue
        rewarded_incidents.add(case.incident_id)
        amount_fen = item.amount * 100
        if item.per_cases > 1:  # item 45: the amount for every per_cases-th case
            key = (case.reporters[0], item_no, month)
            counted[key] += 1
            if counted[key] % item.per_cases:
                count = f"{counted[key] % item.per_cases} of {item.per_cases}"
                lines += _withheld(case, item_no, month, f"counted: {count} cases this month")
                continue
        excluded = dict(case.exclusions)
        for who, share in zip(case.reporters, _split(amount_fen, len(case.reporters)), strict=True):
            person = reporters.get(who, Reporter(who))
            reason: str | None = None
            if who in excluded:
                reason = f"excluded: {excluded[who]}"
            elif person.affiliation in policy.excluded_affiliations:
                reason = f"excluded: reporter is {person.affiliation.replace('_', ' ')}"
            elif not (person.real_name and person.payment_account):
                reason = "no real name and payment account on file"
            if reason is None:
                cap = policy.groups[item.group].cap
                key3 = (who, item.group, month)
                if cap is not None:
                    share = max(0, min(share, cap * 100 - paid[key3]))
                    if share == 0:
                        reason = f"monthly cap of {cap} yuan reached for {item.group}"
                paid[key3] += share
            lines.append(
                Line(
                    case.case_id,
                    who,
                    item_no,
                    share if reason is None else 0,
                    "payable" if reason is None else "withheld",
                    reason,
                    month,
                )
            )
    return lines
