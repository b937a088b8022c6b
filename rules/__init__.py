"""Violation rules: small pure functions from a clip's facts to findings, each with a
versioned id. ``evaluate`` runs them all in order."""

from __future__ import annotations

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
]


def evaluate(facts: ClipFacts, book: RuleBook) -> list[Finding]:
    found = emergency_lane(facts, book) + bus_lane(facts, book)
    found += covered_plate(facts, book)
    found += declared(facts, book, found)
    return sorted(found, key=lambda f: (f.t_start, f.rule, f.track_id or 0))
