"""Perceptual fingerprints of submissions, and the index that finds re-used media.

A photo's fingerprint is one 64-bit DCT hash (pHash: the signs of the lowest 8x8 DCT
coefficients of a 32x32 grey image against their median). A video's is the hash of the frame
shown at every ``STEP_S`` seconds of video time: times, not frame numbers, so a changed frame
rate leaves it as it was, and matching ignores where in the clip a hash sits, so a trimmed clip
still matches. Re-encoding, scaling and a caption barely move the low frequencies; a crop of a
few percent moves a few bits; a mirrored copy is found by also looking up the mirrored hashes.

The index is a packed ``uint64`` array of every stored hash, held in memory by each worker and
searched by multi-index hashing (see ``BAND_BITS``): exact within ``MATCH_BITS``, and a lookup
reads about 1 % of the indexed hashes instead of all of them, every probe of a submission at
once.
"""

from __future__ import annotations

import math
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
BAND_BITS = (19, 15, 15, 15)
"""The 64 bits in 4 bands, searched by exact multi-index hashing (Norouzi, Punjani and Fleet,
2012): two hashes within ``MATCH_BITS`` = 12 = 4 x 3 bits differ by at most 3 bits in the
first band or by at most 2 in one of the others (else they would differ by 4 + 3 + 3 + 3 = 13
or more). So looking up the band values within 3 bits of the first band of a probe and within
2 bits of each other band finds every stored hash within 12 bits: exact, not approximate. The
first band is the widest because it is searched the widest: at 19 + 15 + 15 + 15 bits a probe
reads 1.3 % of the indexed hashes (the plain pigeonhole over 4 x 16 bits, 3 bits in every
band, reads 4.3 %)."""
TAIL = 50_000
"""Hashes added since the bands were sorted are scanned directly until there are this many."""


def _band_radius(band: int) -> int:
    """Bits a band may differ by (``MATCH_BITS`` = bands x r + a: the first a + 1 bands r,
    the others r - 1)."""
    r, a = divmod(MATCH_BITS, len(BAND_BITS))
    return r if band <= a else r - 1


@cache
def _band_masks(band: int) -> npt.NDArray[np.int32]:
    """Every value of the band's width within the band's radius of 0 (XORed with a probe's
    band value: the values to look up)."""
    masks = np.arange(1 << BAND_BITS[band], dtype=np.int32)
    return masks[np.bitwise_count(masks) <= _band_radius(band)]


def _band_values(hashes: Hashes, band: int) -> npt.NDArray[np.int32]:
    shift = np.uint64(sum(BAND_BITS[:band]))
    return ((hashes >> shift) & np.uint64((1 << BAND_BITS[band]) - 1)).astype(np.int32)


class _Bands:
    """Multi-index hashing over a fixed set of hashes: per band, the band values sorted."""

    def __init__(self, keys: Hashes, rows: npt.NDArray[np.int32]) -> None:
        self.keys, self.rows = keys, rows
        self.keys_by: list[Hashes] = []
        self.rows_by: list[npt.NDArray[np.int32]] = []
        """Per band: the hashes and their rows sorted by that band's value (contiguous reads)."""
        self.starts: list[npt.NDArray[np.int32]] = []
        """Per band: where each band value starts in ``keys_by`` (a bucket table, so a lookup
        is two array reads, no search)."""
        for band, bits in enumerate(BAND_BITS):
            values = _band_values(keys, band)
            order = np.argsort(values, kind="stable")
            self.keys_by.append(keys[order])
            self.rows_by.append(rows[order])
            starts = np.searchsorted(values[order], np.arange((1 << bits) + 1))
            self.starts.append(starts.astype(np.int32))

    def near(self, probes: Hashes) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
        """(probe, row) of every stored hash within ``MATCH_BITS`` of one of ``probes``, each
        pair once: all probes at once, in a few whole-array steps per band."""
        at: list[npt.NDArray[np.intp]] = []
        found: list[npt.NDArray[np.int32]] = []
        for band in range(len(BAND_BITS)):
            masks = _band_masks(band)
            wanted = (_band_values(probes, band)[:, None] ^ masks[None, :]).ravel()
            lo, hi = self.starts[band][wanted], self.starts[band][wanted + 1]
            hit = np.flatnonzero(hi > lo)
            if not len(hit):
                continue
            lo, n = lo[hit], (hi - lo)[hit]
            ends = np.cumsum(n)
            # the concatenated ranges [lo, lo + n), each against the probe it was read for
            flat = np.repeat(lo - ends + n, n) + np.arange(int(ends[-1]))
            against = np.repeat(probes[hit // len(masks)], n)
            close = np.flatnonzero(
                np.bitwise_count(self.keys_by[band][flat] ^ against) <= MATCH_BITS
            )
            at.append(hit[np.searchsorted(ends, close, side="right")] // len(masks))
            found.append(self.rows_by[band][flat[close]])
        return _pairs(at, found)


def _pairs(
    at: list[npt.NDArray[np.intp]], found: list[npt.NDArray[np.int32]]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
    """The (probe, row) pairs once each (a hash found in several bands counts once)."""
    if not at:
        return np.zeros(0, np.intp), np.zeros(0, np.int32)
    key = np.unique(np.concatenate(at).astype(np.int64) << 32 | np.concatenate(found))
    return (key >> 32).astype(np.intp), (key & 0xFFFFFFFF).astype(np.int32)


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
        """Every stored hash, in ``_hashes[:_used]``; the rest is room to grow into, so adding
        a submission's hashes copies only those, not the whole index."""
        self._used = 0
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
        at = start = self._used
        for row, h in self._pending:  # rows are added in order: each owner's are contiguous
            self._spans.append((at, at + len(h)))
            at += len(h)
            sparse = h if len(h) <= len(PHOTO_REGIONS) else h[::SPARSE]  # a photo: all
            self._tail_keys.append(sparse)
            self._tail_rows.append(np.full(len(sparse), row, np.int32))
        self._used = at
        if self._used > len(self._hashes):  # grown by half at least: amortised O(1) per hash
            grown = np.zeros(max(self._used, len(self._hashes) * 3 // 2), np.uint64)
            grown[:start] = self._hashes[:start]
            self._hashes = grown
        self._hashes[start : self._used] = np.concatenate([h for _, h in self._pending])
        self._pending = []
        if sum(len(k) for k in self._tail_keys) > TAIL:
            keys = np.concatenate([self._bands.keys, *self._tail_keys])
            rows = np.concatenate([self._bands.rows, *self._tail_rows])
            self._bands = _Bands(keys, rows)
            self._tail_keys, self._tail_rows = [], []
        elif self._tail_keys:
            self._tail_keys = [np.concatenate(self._tail_keys)]
            self._tail_rows = [np.concatenate(self._tail_rows)]

    def _near(self, probes: Hashes) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
        at, rows = self._bands.near(probes)
        if not self._tail_keys:
            return at, rows
        which, where = np.nonzero(
            np.bitwise_count(probes[:, None] ^ self._tail_keys[0][None, :]) <= MATCH_BITS
        )
        return _pairs([at, which], [rows, self._tail_rows[0][where]])

    def search(self, print_: Fingerprint, exclude: str | None = None) -> list[Match]:
        """Earlier fingerprints showing the same pictures, best first."""
        self._pack()
        if not self._used:
            return []
        # the probes of the hashes and of the mirrored ones, looked up together
        queries = [(print_.hashes, False, PROBES), (print_.mirrored, True, PROBES // 2)]
        probes = [q[:: max(1, len(q) // n)][:n] for q, _, n in queries]
        at, rows = self._near(np.concatenate(probes).astype(np.uint64))
        found: dict[str, Match] = {}
        first_mirrored = len(probes[0])
        halves = (at < first_mirrored, at >= first_mirrored)
        for (query, mirrored, _), mine in zip(queries, halves, strict=True):
            for match in self._verify(query, mirrored, rows[mine], exclude):
                if match.owner not in found or match.share > found[match.owner].share:
                    found[match.owner] = match
        return sorted(found.values(), key=lambda m: -m.share)

    def _verify(
        self, query: Hashes, mirrored: bool, rows: npt.NDArray[np.int32], exclude: str | None
    ) -> list[Match]:
        """The candidates (``rows``: one per probe that found them), most votes first,
        compared hash by hash."""
        if not len(query) or not len(rows):
            return []
        candidates, votes = np.unique(rows, return_counts=True)
        matches = []
        for row in candidates[np.argsort(-votes, kind="stable")][:20].tolist():
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
