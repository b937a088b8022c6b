"""Decoding held to the plate's shape, on probability matrices whose best path is not a plate."""

from __future__ import annotations

import numpy as np

from models.ctc import decode_slots, plate_slots
from models.grammar import ALNUM, PROVINCES, SUFFIXES

CHARSET = ["", *PROVINCES, *ALNUM, *SUFFIXES]
INDEX = {c: i for i, c in enumerate(CHARSET)}


def frames(*steps: dict[str, float]) -> np.ndarray:
    """One row per time step: the listed probabilities, the rest spread thinly."""
    probs = np.full((len(steps), len(CHARSET)), 1e-4, np.float32)
    for t, step in enumerate(steps):
        for ch, p in step.items():
            probs[t, INDEX[ch] if ch else 0] = p
    return probs / probs.sum(axis=1, keepdims=True)


def greedy(probs: np.ndarray) -> str:
    out, prev = [], 0
    for i in probs.argmax(axis=1):
        if i and i != prev:
            out.append(CHARSET[i])
        prev = i
    return "".join(out)


def test_repeated_characters_whose_blanks_faded_are_recovered() -> None:
    weak_gap = {"6": 0.6, "": 0.4}
    probs = frames(
        {"皖": 0.9}, {"": 0.9}, {"K": 0.9}, {"": 0.9},
        {"6": 0.9}, weak_gap, {"6": 0.9}, weak_gap, {"6": 0.9}, weak_gap,
        {"6": 0.9}, weak_gap, {"6": 0.9}, {"": 0.9},
    )  # fmt: skip
    assert greedy(probs) == "皖K6"
    decoded = decode_slots(probs, plate_slots(CHARSET)[7])
    assert decoded is not None
    indices, score, confidence = decoded
    assert "".join(CHARSET[i] for i in indices) == "皖K66666"
    assert score < 0 and 0.85 < confidence <= 1.0


def test_a_faint_suffix_is_kept_and_positions_follow_the_grammar() -> None:
    probs = frames(
        {"鄂": 0.9}, {"F": 0.9}, {"": 0.9}, {"8": 0.9}, {"": 0.9}, {"8": 0.9}, {"": 0.9},
        {"8": 0.9}, {"": 0.9}, {"8": 0.9}, {"": 0.6, "警": 0.35}, {"": 0.9},
    )  # fmt: skip
    assert greedy(probs) == "鄂F8888"
    decoded = decode_slots(probs, plate_slots(CHARSET)[7])
    assert decoded is not None
    assert "".join(CHARSET[i] for i in decoded[0]) == "鄂F8888警"


def test_too_few_steps_for_a_plate_give_nothing() -> None:
    assert decode_slots(frames({"皖": 0.9}, {"A": 0.9}), plate_slots(CHARSET)[7]) is None
