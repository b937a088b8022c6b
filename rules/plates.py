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


def plate_region_in_view(facts: ClipFacts, track_id: int, pts: float, box: Box) -> bool:
    """Whether the part of the box where a plate sits (its lower middle) can be seen: the box
    is not cut by the frame's edge, and no other vehicle nearer the camera (its box reaching
    lower) covers that part. A plate that cannot be seen may be perfectly clean."""
    edge = 2.0
    if box.x1 <= edge or box.y1 <= edge or box.x2 >= facts.width - edge:
        return False
    if box.y2 >= facts.height - edge:
        return False
    rx1, rx2 = box.x1 + 0.2 * box.width, box.x2 - 0.2 * box.width
    ry1, ry2 = box.y1 + 0.55 * box.height, box.y2
    area = (rx2 - rx1) * (ry2 - ry1)
    for other in facts.tracks:
        if other.id == track_id:
            continue
        for at, seen in other.samples:
            if at != pts or seen.y2 <= box.y2:
                continue
            w = min(rx2, seen.x2) - max(rx1, seen.x1)
            h = min(ry2, seen.y2) - max(ry1, seen.y1)
            if w > 0 and h > 0 and w * h > 0.3 * area:
                return False
    return True


def covered_plate(facts: ClipFacts, book: RuleBook) -> list[Finding]:
    config = book.rules.covered_plate
    found = []
    for track in facts.tracks:
        if track.plate is not None:
            continue

        def close(pts: float, box: Box, track_id: int = track.id) -> bool:
            return (
                box.height >= config.min_height * facts.height
                and box.width >= config.min_width_px
                and plate_region_in_view(facts, track_id, pts, box)
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
