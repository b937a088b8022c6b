"""Perceptual fingerprints of submissions, and the index that finds re-used media.

A photo's fingerprint is one 64-bit DCT hash (pHash: the signs of the lowest 8x8 DCT
coefficients of a 32x32 grey image against their median). A video's is the hash of the frame
shown at every ``STEP_S`` seconds of video time: times, not frame numbers, so a changed frame
rate leaves it as it was, and matching ignores where in the clip a hash sits, so a trimmed clip
still matches. Re-encoding, scaling and a caption barely move the low frequencies; a crop of a
few percent moves a few bits; a mirrored copy is found by also looking up the mirrored hashes.

The index is a packed ``uint64`` matrix of every stored hash held in memory by each worker and
searched with a vectorised XOR and popcount: about 1 ns per stored hash and probe.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from workers.scan import Gray, Scan

STEP_S = 0.5
"""Video time between two hashes of a clip."""
MAX_HASHES = 240
MIN_CONTRAST = 6.0
"""Frames flatter than this (grey-level standard deviation; black, white, fades) say nothing
about their content and are left out: all black frames would match each other."""
MATCH_BITS = 12
"""Two hashes within this many bits of 64 show the same picture (unrelated pictures differ
in about 32)."""
MATCH_SHARE = 0.5
"""A clip matches an earlier one when this share of its informative hashes (at least
``MIN_MATCHED``) each has a match in it."""
MIN_MATCHED = 3
PROBES = 12
"""Hashes of a clip looked up in the whole index; candidates are then checked hash by hash."""

Hashes = npt.NDArray[np.uint64]
_WEIGHTS = (np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)


def dct_hash(thumb: Gray) -> int:
    """The 64-bit perceptual hash of one grey image."""
    small = cv2.resize(thumb, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])  # the DC term says only how bright the picture is
    return int(np.sum(_WEIGHTS[bits], dtype=np.uint64))


@dataclass(frozen=True, slots=True)
class Fingerprint:
    kind: str
    """image or video."""
    hashes: Hashes
    """Hashes of the informative frames, in video-time order."""
    mirrored: Hashes
    """The same frames mirrored left to right (only looked up, never stored)."""

    def to_bytes(self) -> bytes:
        return self.hashes.astype(">u8").tobytes()

    @staticmethod
    def stored(kind: str, data: bytes) -> Fingerprint:
        hashes = np.frombuffer(data, dtype=">u8").astype(np.uint64)
        return Fingerprint(kind, hashes, np.zeros(0, np.uint64))


def fingerprint(scan: Scan) -> Fingerprint:
    """The fingerprint of a scanned photo or video."""
    chosen: list[Gray] = list(scan.thumbs)
    if scan.kind == "video" and scan.times:
        times = np.asarray(scan.times)
        due = np.arange(0.0, times[-1] + 1e-6, STEP_S)[:MAX_HASHES]
        # the frame on screen at each step: the last one whose time has come
        shown = np.searchsorted(times, due + 1e-6, side="right") - 1
        chosen = [scan.thumbs[i] for i in shown.tolist() if i >= 0]
    informative = [c for c in chosen if float(c.std()) >= MIN_CONTRAST]
    hashes = np.array([dct_hash(c) for c in informative], dtype=np.uint64)
    mirrored = np.array(
        [dct_hash(np.ascontiguousarray(c[:, ::-1])) for c in informative], np.uint64
    )
    return Fingerprint(scan.kind, hashes, mirrored)


def distances(stored: Hashes, probe: int) -> npt.NDArray[np.uint8]:
    counted: npt.NDArray[np.uint8] = np.bitwise_count(stored ^ np.uint64(probe))
    return counted


@dataclass(frozen=True, slots=True)
class Match:
    owner: str
    """The submission whose fingerprint matched."""
    share: float
    """Share of the new fingerprint's hashes that found a close hash in the owner's."""
    mirrored: bool


class FingerprintIndex:
    """Every stored fingerprint's hashes in one packed matrix, with each row's owner."""

    def __init__(self) -> None:
        self._hashes: Hashes = np.zeros(0, np.uint64)
        self._rows: npt.NDArray[np.int32] = np.zeros(0, np.int32)
        self._spans: list[tuple[int, int]] = []
        self._owners: list[str] = []
        self._where: dict[str, int] = {}
        self._pending: list[tuple[int, Hashes]] = []
        self.last_id = 0
        """The highest database row id loaded (for loading only newer rows)."""

    def __len__(self) -> int:
        return len(self._owners)

    def add(self, owner: str, hashes: Hashes) -> None:
        if owner in self._where or not len(hashes):
            return
        self._where[owner] = len(self._owners)
        self._owners.append(owner)
        self._pending.append((self._where[owner], hashes))

    def _packed(self) -> tuple[Hashes, npt.NDArray[np.int32]]:
        if self._pending:
            at = len(self._hashes)
            for _, h in self._pending:  # rows are added in order: each owner's are contiguous
                self._spans.append((at, at + len(h)))
                at += len(h)
            self._hashes = np.concatenate([self._hashes, *(h for _, h in self._pending)])
            rows = [np.full(len(h), r, np.int32) for r, h in self._pending]
            self._rows = np.concatenate([self._rows, *rows])
            self._pending = []
        return self._hashes, self._rows

    def search(self, print_: Fingerprint, exclude: str | None = None) -> list[Match]:
        """Earlier fingerprints showing the same pictures, best first."""
        found: dict[str, Match] = {}
        for hashes, mirrored in ((print_.hashes, False), (print_.mirrored, True)):
            for match in self._search(hashes, mirrored, exclude):
                if match.owner not in found or match.share > found[match.owner].share:
                    found[match.owner] = match
        return sorted(found.values(), key=lambda m: -m.share)

    def _search(self, query: Hashes, mirrored: bool, exclude: str | None) -> list[Match]:
        stored, rows = self._packed()
        if not len(query) or not len(stored):
            return []
        step = max(1, len(query) // PROBES)
        votes: dict[int, int] = defaultdict(int)
        for probe in query[::step][:PROBES]:
            for row in set(rows[distances(stored, int(probe)) <= MATCH_BITS].tolist()):
                votes[row] += 1
        matches = []
        for row in sorted(votes, key=lambda r: -votes[r])[:20]:
            owner = self._owners[row]
            if owner == exclude:
                continue
            start, end = self._spans[row]
            theirs = stored[start:end]
            near = np.bitwise_count(query[:, None] ^ theirs[None, :]).min(axis=1) <= MATCH_BITS
            matched = int(near.sum())
            share = matched / len(query)
            if share >= MATCH_SHARE and matched >= min(MIN_MATCHED, len(query)):
                matches.append(Match(owner, round(share, 3), mirrored))
        return matches
