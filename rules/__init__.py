"""Violation rules: small pure functions from a clip's facts to findings, each with a
versioned id. ``evaluate`` runs them all in order."""

from __future__ import annotations

from dataclasses import dataclass

from rules.base import ClipFacts, Finding, TrackFacts
from rules.config import RuleBook, RuleConfigError, book_from
from rules.lanes import BUS_LANE, EMERGENCY_LANE, bus_lane, emergency_lane
from rules.plates import COVERED_PLATE, DECLARED, covered_plate, declared

RULE_IDS = (EMERGENCY_LANE, BUS_LANE, COVERED_PLATE, DECLARED)

__all__ = [
    "RULE_IDS",
    "ClipFacts",
    "Finding",
    "RuleBook",
    "RuleConfigError",
    "TrackFacts",
    "book_from",
    "evaluate",
    "judge",
]

NEEDS_PLATE = (EMERGENCY_LANE, BUS_LANE)
"""Rules whose findings an officer can act on only with a plate read."""


@dataclass(frozen=True, slots=True)
class Verdict:
    cases: list[Finding]
    """Findings that become review cases."""
    unidentified: list[Finding]
    """Lane findings with no plate read: counted in the facts and listed for supervisors, not
    put before an officer (nobody could be fined)."""


def judge(facts: ClipFacts, book: RuleBook) -> Verdict:
    """Every rule in order; a lane finding without a plate is a case only when the reporter
    declared that very violation."""
    lanes = emergency_lane(facts, book) + bus_lane(facts, book)
    unidentified = [
        f
        for f in lanes
        if f.rule in NEEDS_PLATE and f.plate is None and f.violation != facts.declared
    ]
    found = [f for f in lanes if f not in unidentified]
    found += covered_plate(facts, book)
    found += declared(facts, book, found)

    def order(f: Finding) -> tuple[float, str, int]:
        return (f.t_start, f.rule, f.track_id or 0)

    return Verdict(sorted(found, key=order), sorted(unidentified, key=order))


def evaluate(facts: ClipFacts, book: RuleBook) -> list[Finding]:
    """The findings that become review cases (see :func:`judge`)."""
    return judge(facts, book).cases
