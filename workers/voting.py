"""Many sightings, one plate: per-character votes weighted by confidence and sharpness, and
sightings grouped by vehicle track (or by plate where no track holds them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

from models.grammar import is_valid_plate
from models.types import Alternatives


class Sighting(Protocol):
    @property
    def frame_index(self) -> int: ...

    @property
    def track_id(self) -> int | None: ...

    @property
    def weight(self) -> float: ...

    @property
    def read(self) -> str: ...

    @property
    def read_confidence(self) -> float: ...

    @property
    def chars(self) -> tuple[Alternatives, ...]: ...


def vote(sightings: Sequence[Sighting]) -> tuple[str, float]:
    """The plate most sightings agree on, character by character, and how sure the vote is.

    Reads of the commonest length (by weight) vote per position; a consensus that breaks the
    plate grammar falls back to the best single read."""
    by_length: dict[int, float] = defaultdict(float)
    for s in sightings:
        by_length[len(s.read)] += s.weight
    length = max(by_length, key=lambda n: by_length[n])
    voters = [s for s in sightings if len(s.read) == length]
    consensus, shares = [], []
    for position in range(length):
        tally: dict[str, float] = defaultdict(float)
        for s in voters:
            tally[s.read[position]] += s.weight
        winner = max(tally, key=lambda ch: tally[ch])
        consensus.append(winner)
        total = sum(tally.values())
        shares.append(tally[winner] / total if total else 0.0)  # weightless (blurred) reads
    text = "".join(consensus)
    if not is_valid_plate(text):
        best = max(sightings, key=lambda s: s.weight)
        return best.read, best.read_confidence
    agreeing = [s.read_confidence for s in voters if s.read == text] or [
        min(shares) * max(s.read_confidence for s in voters)
    ]
    return text, round(min(1.0, min(shares) * max(agreeing)), 4)


def _one_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


def group(sightings: Iterable[Sighting]) -> dict[str, list[Sighting]]:
    """Sightings by plate. A vehicle track's sightings stay together; groups whose votes are
    one character apart merge, unless they were ever seen in the same frame (two vehicles)."""
    by_track: dict[int, list[Sighting]] = defaultdict(list)
    groups: list[list[Sighting]] = []
    for s in sightings:
        if s.track_id is None:
            groups.append([s])
        else:
            by_track[s.track_id].append(s)
    groups += list(by_track.values())
    ranked = sorted(groups, key=lambda g: -sum(s.weight for s in g))
    merged: dict[str, list[Sighting]] = {}
    for members in ranked:
        text, _ = vote(members)
        frames = {s.frame_index for s in members}
        home = next(
            (
                k
                for k, v in merged.items()
                if _one_apart(k, text) and not frames & {s.frame_index for s in v}
            ),
            None,
        )
        if home is None:
            merged.setdefault(text, []).extend(members)
        else:
            merged[home].extend(members)
    return {vote(members)[0]: members for members in merged.values()}


def merged_alternatives(sightings: Sequence[Sighting], text: str) -> tuple[Alternatives, ...]:
    """Per position of the voted ``text``, the top three characters over the sightings that
    read a plate of its length, their probabilities averaged by sighting weight (the voted
    character first); empty when no sighting knows its alternatives."""
    voters = [s for s in sightings if len(s.chars) == len(text) == len(s.read)]
    total = sum(s.weight for s in voters)
    if not voters or total <= 0:
        return ()
    merged = []
    for position, chosen in enumerate(text):
        mass: dict[str, float] = defaultdict(float)
        for s in voters:
            for ch, p in s.chars[position]:
                mass[ch] += p * s.weight / total
        ranked = sorted(mass.items(), key=lambda item: -item[1])
        first = (chosen, mass.get(chosen, 0.0))
        merged.append((first, *[a for a in ranked if a[0] != chosen][:2]))
    return tuple(merged)
