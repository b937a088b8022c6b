"""Plate rules: a covered or missing plate (Shenzhen item 11), and what the sender declared.

A covered plate is a low-priority candidate: a vehicle seen close for long enough whose plate
was never read. The declared rule hands the officer the plates read in a report whose sender
named a violation the automatic rules cannot judge (a photo, or a clip where none fired)."""

from __future__ import annotations

from models.types import Box
from rules.base import ClipFacts, Finding, runs
from rules.config import RuleBook

COVERED_PLATE = "covered_plate@1"
DECLARED = "declared@1"


def covered_plate(facts: ClipFacts, book: RuleBook) -> list[Finding]:
    config = book.rules.covered_plate
    found = []
    for track in facts.tracks:
        if track.plate is not None:
            continue

        def close(pts: float, box: Box) -> bool:
            return box.height >= config.min_height * facts.height and (
                box.width >= config.min_width_px
            )

        for t0, t1 in runs(track.samples, close, config.min_seconds, config.max_gap_s)[:1]:
            seen = (
                f"its plate region was found {track.plates_unread} time(s) but never read"
                if track.plates_unread
                else "no plate was found on it"
            )
            found.append(
                Finding(
                    COVERED_PLATE,
                    "covered_plate",
                    track.id,
                    t0,
                    t1,
                    config.confidence_unread if track.plates_unread else config.confidence_unseen,
                    f"{track.kind} seen close for {t1 - t0:.1f} s ({t0:.1f}-{t1:.1f} s); {seen}",
                )
            )
    return found


def declared(facts: ClipFacts, book: RuleBook, others: list[Finding]) -> list[Finding]:
    if not book.rules.declared.enabled or not facts.declared or facts.declared == "unspecified":
        return []
    if facts.kind == "video" and others:
        return []
    claimed = facts.declared
    confidence = book.rules.declared.confidence
    return [
        Finding(
            DECLARED,
            claimed,
            track.id,
            track.samples[0][0],
            track.samples[-1][0],
            confidence,
            f"the sender reported {claimed.replace('_', ' ')}; plate {track.plate} read on a "
            f"{track.kind} {'in the photo' if facts.kind == 'image' else 'in the clip'}",
            track.plate,
        )
        for track in facts.tracks
        if track.plate is not None and track.samples
    ]
