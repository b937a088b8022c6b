"""Perceptual fingerprints of submissions, and the index that finds re-used media.

A photo's fingerprint is one 64-bit DCT hash (pHash: the signs of the lowest 8x8 DCT
coefficients of a 32x32 grey image against their median). A video's is the hash of the frame
shown at every ``STEP_S`` seconds of video time: times, not frame numbers, so a changed frame
rate leaves it as it was, and matching ignores where in the clip a hash sits, so a trimmed clip
still matches. Re-encoding, scaling and a caption barely move the low frequencies; a crop of a
few percent moves a few bits; a mirrored copy is found by also looking up the mirrored hashes.

The index is a packed ``uint64`` array of every stored hash, held in memory by each worker and
searched by multi-index hashing (see ``BANDS``): exact within ``MATCH_BITS``, and a lookup
touches a few percent of the stored hashes instead of all of them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import numpy.typing as npt

from workers.scan import PHOTO_REGIONS, Gray, Scan

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
PROBES = 8
"""Hashes of a clip looked up in the whole index; candidates are then checked hash by hash.
Half as many mirrored ones: a mirrored copy matches on nearly all of its frames."""

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


SPARSE = 4
"""Every 4th hash of a clip (one per 2 s of video) goes into the band index; a re-used clip
still has many frames near those, and all its hashes are compared once it is a candidate."""
BANDS = 4
"""The 64 bits in 4 bands of 16: two hashes within ``MATCH_BITS`` (12) bits agree within
3 bits in at least one band (pigeonhole), so looking up every 16-bit value within 3 bits of
each band of a probe finds every stored hash within 12 bits: exact, not approximate."""
TAIL = 50_000
"""Hashes added since the bands were sorted are scanned directly until there are this many."""


@cache
def _band_masks() -> npt.NDArray[np.int32]:
    masks = np.arange(1 << 16, dtype=np.int32)
    return masks[np.bitwise_count(masks) <= MATCH_BITS // BANDS]


class _Bands:
    """Multi-index hashing over a fixed set of hashes: per band, the band values sorted."""

    def __init__(self, keys: Hashes, rows: npt.NDArray[np.int32]) -> None:
        self.keys, self.rows = keys, rows
        self.keys_by: list[Hashes] = []
        self.rows_by: list[npt.NDArray[np.int32]] = []
        """Per band: the hashes and their rows sorted by that band's value (contiguous reads)."""
        self.starts: list[npt.NDArray[np.intp]] = []
        """Per band: where each of the 65,536 band values starts in ``order`` (a bucket
        table, so a lookup is two array reads, no search)."""
        for band in range(BANDS):
            values = ((keys >> np.uint64(16 * band)) & np.uint64(0xFFFF)).astype(np.int32)
            order = np.argsort(values, kind="stable")
            self.keys_by.append(keys[order])
            self.rows_by.append(rows[order])
            self.starts.append(np.searchsorted(values[order], np.arange((1 << 16) + 1)))

    def near(self, probe: int) -> npt.NDArray[np.int32]:
        """Rows of the stored hashes within ``MATCH_BITS`` of ``probe``."""
        found = []
        for band in range(BANDS):
            wanted = ((probe >> (16 * band)) & 0xFFFF) ^ _band_masks()
            lo, hi = self.starts[band][wanted], self.starts[band][wanted + 1]
            n = hi - lo
            lo, n = lo[n > 0], n[n > 0]
            if len(n):  # the concatenated ranges [lo, lo + n), without a Python loop
                flat = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
                close = flat[distances(self.keys_by[band][flat], probe) <= MATCH_BITS]
                found.append(self.rows_by[band][close])
        if not found:
            return np.zeros(0, np.int32)
        return np.unique(np.concatenate(found))  # a hash found in several bands counts once


def _needed(hashes: int) -> int:
    """How many of a fingerprint's hashes must find a close one: ``MATCH_SHARE`` of them, at
    least ``MIN_MATCHED``, and for a photo's three hashes two (one 64-bit hash within 12 bits
    happens by chance among millions)."""
    return max(min(MIN_MATCHED, hashes - 1), math.ceil(MATCH_SHARE * hashes), 1)


class FingerprintIndex:
    """Every stored fingerprint's hashes (contiguous per owner, for the final comparison) and
    a band index over a sparse subset of them (for finding candidates fast)."""

    def __init__(self) -> None:
        self._hashes: Hashes = np.zeros(0, np.uint64)
        self._spans: list[tuple[int, int]] = []
        self._owners: list[str] = []
        self._where: dict[str, int] = {}
        self._pending: list[tuple[int, Hashes]] = []
        self._bands = _Bands(np.zeros(0, np.uint64), np.zeros(0, np.int32))
        self._tail_keys: list[Hashes] = []
        self._tail_rows: list[npt.NDArray[np.int32]] = []
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

    def _pack(self) -> None:
        if not self._pending:
            return
        at = len(self._hashes)
        for row, h in self._pending:  # rows are added in order: each owner's are contiguous
            self._spans.append((at, at + len(h)))
            at += len(h)
            sparse = h if len(h) <= len(PHOTO_REGIONS) else h[::SPARSE]  # a photo: all
            self._tail_keys.append(sparse)
            self._tail_rows.append(np.full(len(sparse), row, np.int32))
        self._hashes = np.concatenate([self._hashes, *(h for _, h in self._pending)])
        self._pending = []
        if sum(len(k) for k in self._tail_keys) > TAIL:
            keys = np.concatenate([self._bands.keys, *self._tail_keys])
            rows = np.concatenate([self._bands.rows, *self._tail_rows])
            self._bands = _Bands(keys, rows)
            self._tail_keys, self._tail_rows = [], []
        elif self._tail_keys:
            self._tail_keys = [np.concatenate(self._tail_keys)]
            self._tail_rows = [np.concatenate(self._tail_rows)]

    def _near(self, probe: int) -> npt.NDArray[np.int32]:
        rows = self._bands.near(probe)
        if self._tail_keys:
            close = distances(self._tail_keys[0], probe) <= MATCH_BITS
            rows = np.concatenate([rows, self._tail_rows[0][close]])
        return rows

    def search(self, print_: Fingerprint, exclude: str | None = None) -> list[Match]:
        """Earlier fingerprints showing the same pictures, best first."""
        self._pack()
        found: dict[str, Match] = {}
        for hashes, mirrored, probes in (
            (print_.hashes, False, PROBES),
            (print_.mirrored, True, PROBES // 2),
        ):
            for match in self._search(hashes, mirrored, exclude, probes):
                if match.owner not in found or match.share > found[match.owner].share:
                    found[match.owner] = match
        return sorted(found.values(), key=lambda m: -m.share)

    def _search(
        self, query: Hashes, mirrored: bool, exclude: str | None, probes: int
    ) -> list[Match]:
        if not len(query) or not len(self._hashes):
            return []
        step = max(1, len(query) // probes)
        votes: dict[int, int] = defaultdict(int)
        for probe in query[::step][:probes]:
            for row in set(self._near(int(probe)).tolist()):
                votes[row] += 1
        matches = []
        for row in sorted(votes, key=lambda r: -votes[r])[:20]:
            owner = self._owners[row]
            if owner == exclude:
                continue
            start, end = self._spans[row]
            theirs = self._hashes[start:end]
            close = np.bitwise_count(query[:, None] ^ theirs[None, :]) <= MATCH_BITS
            matched = int(close.any(axis=1).sum())
            share = matched / len(query)
            # several of theirs too: a still clip's many equal hashes near one chance hash of
            # an unrelated fingerprint would otherwise all count
            used = int(close.any(axis=0).sum())
            if matched >= _needed(len(query)) and used >= min(MIN_MATCHED, max(1, end - start - 1)):
                matches.append(Match(owner, round(share, 3), mirrored))
        return matches
