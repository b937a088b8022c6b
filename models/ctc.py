"""CTC decoding held to the plate's shape: the best alignment that emits exactly one character
per plate position, each from the characters that position allows (province, letter, letter or
digit, suffix). Plain best-path decoding drops a character when the model's blank between two
equal characters fades (``66666`` read as ``6666``) or when a faint suffix loses to the blank;
this finds the most probable read that is a plate at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.grammar import ALNUM, LETTERS, PROVINCES, SUFFIXES

Probs = npt.NDArray[np.float32]
NEG = -1e9


def plate_slots(charset: Sequence[str]) -> dict[int, list[npt.NDArray[np.int64]]]:
    """Per position, the indices (into the model's charset) a plate of 7 or 8 characters may
    hold there; the plate grammar checks the result as a whole afterwards."""
    index = {c: i for i, c in enumerate(charset) if c}

    def pick(chars: str) -> npt.NDArray[np.int64]:
        return np.array([index[c] for c in chars if c in index], dtype=np.int64)

    province, letter = pick(PROVINCES), pick(LETTERS)
    alnum, last = pick(ALNUM), pick(ALNUM + SUFFIXES)
    return {7: [province, letter, *[alnum] * 4, last], 8: [province, letter, *[alnum] * 6]}


def decode_slots(
    probs: Probs, slots: list[npt.NDArray[np.int64]], blank: int = 0
) -> tuple[list[int], float, float] | None:
    """Viterbi over (position k, symbol j) states, vectorised over the states. Returns the
    charset indices, the path's log probability and the mean peak probability of its
    characters; None if the matrix has too few steps for a plate."""
    found = decode_slots_at(probs, slots, blank)
    return None if found is None else found[:3]


def decode_slots_at(
    probs: Probs, slots: list[npt.NDArray[np.int64]], blank: int = 0
) -> tuple[list[int], float, float, list[int]] | None:
    """:func:`decode_slots`, plus for each position the step where its character peaks (where
    the model's alternatives for that position are read)."""
    steps, length = probs.shape[0], len(slots)
    if steps < length:
        return None
    width = max(len(s) for s in slots)
    symbols = np.full((length, width), blank, dtype=np.int64)
    real = np.zeros((length, width), dtype=bool)
    for k, allowed in enumerate(slots):
        symbols[k, : len(allowed)], real[k, : len(allowed)] = allowed, True
    logp = np.log(probs.astype(np.float64) + 1e-9)
    emit = np.where(real[None], logp[:, symbols], NEG)  # steps x length x width
    gap = np.full(length + 1, NEG)  # blank after k characters
    gap[0] = logp[0, blank]
    char = np.full((length, width), NEG)  # inside character k with symbol j
    char[0] = emit[0, 0]
    gap_from = np.zeros((steps, length + 1), dtype=np.int64)  # 0 stay, 1 from char k-1
    gap_sym = np.zeros((steps, length + 1), dtype=np.int64)
    move = np.zeros((steps, length, width), dtype=np.int64)  # 0 stay, 1 after gap, 2 direct
    direct_sym = np.zeros((steps, length, width), dtype=np.int64)
    rows = np.arange(length)
    for t in range(1, steps):
        order = np.argsort(char, axis=1)
        first, second = order[:, -1], order[:, -2] if width > 1 else order[:, -1]
        top, runner = char[rows, first], char[rows, second]
        ended = np.concatenate([[NEG], top])  # best way to have just finished character k-1
        from_char = ended > gap
        new_gap = np.where(from_char, ended, gap) + logp[t, blank]
        gap_from[t], gap_sym[t] = from_char, np.concatenate([[0], first])
        direct = np.full((length, width), NEG)
        source = np.zeros((length, width), dtype=np.int64)
        differs = symbols[1:] != symbols[:-1][rows[:-1], first[:-1]][:, None]
        direct[1:] = np.where(differs, top[:-1, None], runner[:-1, None])
        source[1:] = np.where(differs, first[:-1, None], second[:-1, None])
        options = np.stack([char, np.broadcast_to(gap[:length, None], char.shape), direct])
        move[t], direct_sym[t] = options.argmax(axis=0), source
        char = options.max(axis=0) + emit[t]
        gap = new_gap
    j = int(char[-1].argmax())
    in_char = bool(char[-1, j] >= gap[length])
    score = float(max(char[-1, j], gap[length]))
    k = length - 1 if in_char else length
    picked: list[int | None] = [None] * length
    peaks = [0.0] * length
    at = [0] * length
    for t in range(steps - 1, -1, -1):
        if in_char:
            picked[k] = int(symbols[k, j])
            if float(probs[t, symbols[k, j]]) >= peaks[k]:
                peaks[k], at[k] = float(probs[t, symbols[k, j]]), t
            step = int(move[t, k, j])
            if step == 1:
                in_char = False
            elif step == 2:
                k, j = k - 1, int(direct_sym[t, k, j])
        elif gap_from[t, k]:
            k, j, in_char = k - 1, int(gap_sym[t, k]), True
    if any(p is None for p in picked):
        return None
    return [p for p in picked if p is not None], score, float(np.mean(peaks)), at
