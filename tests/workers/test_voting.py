"""Voting across frames: one plate per vehicle from many imperfect reads."""

from __future__ import annotations

from dataclasses import dataclass

from workers.voting import group, vote


@dataclass(frozen=True)
class Read:
    read: str
    read_confidence: float
    weight: float
    frame_index: int = 0
    track_id: int | None = None


def test_per_character_vote_beats_one_confident_misread() -> None:
    reads = [
        Read("粤B6R678", 0.90, 0.9),
        Read("粤B6R678", 0.85, 0.85),
        Read("粤B6R618", 0.97, 1.4),
        Read("粤B8R678", 0.88, 0.88),
    ]
    text, confidence = vote(reads)
    assert text == "粤B6R678"
    assert 0.5 < confidence <= 0.9


def test_consensus_that_breaks_the_grammar_falls_back_to_the_best_read() -> None:
    # Positions vote "粤BI..." style nonsense is impossible here; a new-energy length split is:
    reads = [Read("粤AD12345", 0.9, 0.9), Read("粤A12345", 0.95, 1.0)]
    assert vote(reads)[0] == "粤A12345"


def test_a_track_keeps_its_reads_together_and_fragments_merge() -> None:
    reads = [
        Read("皖A7Z389", 0.99, 1.0, 0, 1),
        Read("皖A7Z38G", 0.6, 0.6, 1, 1),
        Read("皖A7Z389", 0.98, 1.0, 2, 1),
        Read("皖A7Z389", 0.97, 0.9, 5, 4),
    ]  # the same car, a new track id after occlusion
    groups = group(reads)
    assert list(groups) == ["皖A7Z389"] and len(groups["皖A7Z389"]) == 4


def test_two_vehicles_one_character_apart_in_the_same_frame_stay_apart() -> None:
    reads = [
        Read("粤B12345", 0.95, 1.0, 0, 1),
        Read("粤B12346", 0.95, 1.0, 0, 2),
        Read("粤B12345", 0.95, 1.0, 1, 1),
        Read("粤B12346", 0.95, 1.0, 1, 2),
    ]
    assert sorted(group(reads)) == ["粤B12345", "粤B12346"]


def test_untracked_reads_group_by_plate() -> None:
    reads = [
        Read("京EA5331", 0.9, 0.9, 0),
        Read("京EA5331", 0.8, 0.8, 1),
        Read("沪AF71017", 0.99, 1.0, 1),
    ]
    assert sorted(group(reads)) == ["京EA5331", "沪AF71017"]
