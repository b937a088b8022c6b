"""Vehicle tracking across sampled frames: ByteTrack (Zhang et al. 2022) on our detections.

BYTE associates every detection box, not only the confident ones, in three stages per frame:

1. confident detections (``HIGH_SCORE``) with the confirmed and the lost tracks, by buffered
   IoU (``buffered_iou``) after each track's box is moved on by its Kalman filter;
2. the faint detections (``LOW_SCORE`` up to ``HIGH_SCORE``) with the confirmed tracks still
   unmatched, by plain IoU; a confirmed track matched by neither is lost;
3. the confident detections left with the unconfirmed tracks (born on the previous frame); an
   unconfirmed track matched by none is dropped.

A confident detection still left starts a new, unconfirmed track, confirmed when the next
frame matches it. A lost track keeps its id for ``track_buffer`` frames. Each stage is an
optimal assignment (Jonker-Volgenant, ``lap``) that refuses any pair costing more than the
stage's limit. The thresholds, the order of every step and the arithmetic (float32 boxes,
float64 filter) are those of ultralytics' BYTETracker, which this replaces without torch, so
the track ids stay the same (tests/models/test_tracker.py compares the two on real footage).

The costs are never fused with the detection scores: the IoU times a faint vehicle's score
(0.3) could never reach the 0.3 an unconfirmed track needs, so small distant vehicles were
never tracked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import lap
import numpy as np
import numpy.typing as npt

from models import kalman
from models.types import Vehicle

BUFFER = 0.5
"""Each box widened by this share of its width and height on every side before the IoU that
matches tracks with detections (C-BIoU, Yang et al. 2023). At the pipeline's 2 frames a second
a vehicle moves about its own length between samples, so the plain boxes of one vehicle
often no longer overlap enough and every sample would start a new, never-confirmed track
(a new track is confirmed only when the next sample matches it)."""

HIGH_SCORE = 0.25
"""Detections at least this confident take part in the first stage and may start tracks."""
LOW_SCORE = 0.1
"""Detections above this (and below ``HIGH_SCORE``) may only continue a track (stage 2)."""
NEW_TRACK_SCORE = 0.25
FIRST_LIMIT = 0.8
"""Most cost (1 - buffered IoU) of a pair in stage 1."""
SECOND_LIMIT = 0.5
"""Most cost (1 - IoU) of a pair in stage 2: a faint box must overlap its track well."""
UNCONFIRMED_LIMIT = 0.7
DUPLICATE_LIMIT = 0.15
"""A tracked and a lost track closer than this (1 - IoU) are one vehicle: the younger goes."""
REMOVED_MEMORY = 1000
"""How many dropped track ids are remembered (ByteTrack's ``removed_stracks``)."""

Boxes = npt.NDArray[np.float64]


def buffered_iou(a: Boxes, b: Boxes) -> Boxes:
    """IoU of every box of ``a`` with every box of ``b`` (x1, y1, x2, y2 rows), each widened
    by ``BUFFER``."""

    def widen(boxes: Boxes) -> Boxes:
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        pad = np.stack([-w, -h, w, h], axis=1) * BUFFER
        return boxes + pad

    a, b = widen(a.reshape(-1, 4)), widen(b.reshape(-1, 4))
    w = np.clip(
        np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None
    )
    h = np.clip(
        np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None
    )
    inter = w * h
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def plain_iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """IoU of every box of ``a`` with every box of ``b`` (x1, y1, x2, y2 rows), in float32."""
    inter = (np.minimum(a[:, None, 2], b[:, 2]) - np.maximum(a[:, None, 0], b[:, 0])).clip(0) * (
        np.minimum(a[:, None, 3], b[:, 3]) - np.maximum(a[:, None, 1], b[:, 1])
    ).clip(0)
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    union = area_b + area_a[:, None] - inter
    iou: npt.NDArray[np.float32] = inter / (union + 1e-7)
    return iou


class State(enum.Enum):
    NEW = 0
    TRACKED = 1
    LOST = 2
    REMOVED = 3


@dataclass(eq=False, slots=True)
class Track:
    """One vehicle followed from frame to frame; a new one is made for each detection and kept
    as the track when it starts one."""

    tlwh: npt.NDArray[np.float32]
    """The detection's box (left, top, width, height), as measured."""
    score: np.float32
    index: int
    """Which of the frame's detections it last matched."""
    track_id: int = 0
    state: State = State.NEW
    confirmed: bool = False
    mean: Boxes | None = None
    covariance: Boxes | None = None
    frame: int = 0
    """The frame it last matched a detection."""
    start_frame: int = 0

    def xyxy(self) -> Boxes:
        """The filter's box now (x1, y1, x2, y2): moved on by the prediction, once it has one."""
        if self.mean is None:
            measured = self.tlwh.copy()
            measured[2:] += measured[:2]
            return measured.astype(np.float64)
        box = self.mean[:4].copy()
        box[2] *= box[3]
        box[:2] -= box[2:] / 2
        box[2:] += box[:2]
        return box

    def follow(self, detection: Track, frame: int) -> None:
        """Corrects the filter with ``detection``, now this track's box; confirms the track."""
        assert self.mean is not None and self.covariance is not None
        self.mean, self.covariance = kalman.update(
            self.mean, self.covariance, kalman.xyah(detection.tlwh)
        )
        self.state, self.confirmed, self.frame = State.TRACKED, True, frame
        self.score, self.index = detection.score, detection.index


def _boxes(tracks: list[Track]) -> Boxes:
    return np.array([t.xyxy() for t in tracks], dtype=np.float64).reshape(-1, 4)


def _buffered_cost(tracks: list[Track], detections: list[Track]) -> npt.NDArray[np.float32]:
    if not tracks or not detections:
        return np.zeros((len(tracks), len(detections)), dtype=np.float32)
    return (1.0 - buffered_iou(_boxes(tracks), _boxes(detections))).astype(np.float32)


def _plain_cost(tracks: list[Track], detections: list[Track]) -> npt.NDArray[np.float32]:
    if not tracks or not detections:
        return np.zeros((len(tracks), len(detections)), dtype=np.float32)
    ious = plain_iou(_boxes(tracks).astype(np.float32), _boxes(detections).astype(np.float32))
    return 1 - ious


def assign(
    cost: npt.NDArray[np.float32], limit: float
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """The cheapest one-to-one pairs of rows and columns, none costing more than ``limit``:
    (pairs, rows left, columns left)."""
    rows, cols = cost.shape
    if cost.size == 0:
        return [], list(range(rows)), list(range(cols))
    _, x, y = lap.lapjv(cost, extend_cost=True, cost_limit=limit)
    pairs = [(i, int(j)) for i, j in enumerate(x) if j >= 0]
    return pairs, np.flatnonzero(x < 0).tolist(), np.flatnonzero(y < 0).tolist()


def _union(a: list[Track], b: list[Track]) -> list[Track]:
    ids = {t.track_id for t in a}
    return a + [t for t in b if t.track_id not in ids]


@dataclass(slots=True)
class ByteTrack:
    """The BYTE association over detection boxes; ``step`` once per frame, in order."""

    track_buffer: int
    frame: int = 0
    tracked: list[Track] = field(default_factory=list)
    lost: list[Track] = field(default_factory=list)
    last_id: int = 0
    removed: list[int] = field(default_factory=list)
    """The ids of the last ``REMOVED_MEMORY`` tracks dropped (one id again for each frame a
    dropped lost track lingers)."""

    def step(
        self, boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32]
    ) -> dict[int, int]:
        """Track id by detection index, for the detections a confirmed track holds this frame;
        ``boxes`` are (x1, y1, x2, y2) rows."""
        self.frame += 1
        high, low = self._detections(boxes.reshape(-1, 4), scores.reshape(-1))
        unconfirmed = [t for t in self.tracked if not t.confirmed]
        pool = _union([t for t in self.tracked if t.confirmed], self.lost)
        self._predict(pool)
        matched: list[Track] = []
        refound: list[Track] = []

        # 1: confident detections with the confirmed and lost tracks
        pairs, left_tracks, left_high = assign(_buffered_cost(pool, high), FIRST_LIMIT)
        for t, d in pairs:
            (matched if pool[t].state is State.TRACKED else refound).append(pool[t])
            pool[t].follow(high[d], self.frame)

        # 2: faint detections with the confirmed tracks left; those still left are lost
        remaining = [pool[t] for t in left_tracks if pool[t].state is State.TRACKED]
        pairs, still_left, _ = assign(_plain_cost(remaining, low), SECOND_LIMIT)
        for t, d in pairs:
            remaining[t].follow(low[d], self.frame)
            matched.append(remaining[t])
        newly_lost = [remaining[t] for t in still_left]
        for track in newly_lost:
            track.state = State.LOST

        # 3: confident detections left with the unconfirmed tracks; those left are dropped
        rest = [high[d] for d in left_high]
        pairs, dropped, left_rest = assign(_buffered_cost(unconfirmed, rest), UNCONFIRMED_LIMIT)
        for t, d in pairs:
            unconfirmed[t].follow(rest[d], self.frame)
            matched.append(unconfirmed[t])
        removed = [unconfirmed[t] for t in dropped]

        for d in left_rest:
            if rest[d].score >= NEW_TRACK_SCORE:
                matched.append(self._start(rest[d]))
        removed += [t for t in self.lost if self.frame - t.frame > self.track_buffer]
        for track in removed:
            track.state = State.REMOVED
        self._merge(matched, refound, newly_lost, removed)
        return {t.index: t.track_id for t in self.tracked if t.confirmed}

    def _detections(
        self, boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32]
    ) -> tuple[list[Track], list[Track]]:
        """The confident and the faint detections, each as a would-be track (boxes without a
        width or height are left out: the filter divides by the height)."""
        x1, y1, x2, y2 = boxes.T
        cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        valid = (w > 0) & (h > 0)
        # left and top from the float32 centre in float64, then float32 (as ultralytics does)
        left = (cx.astype(np.float64) - w.astype(np.float64) / 2).astype(np.float32)
        top = (cy.astype(np.float64) - h.astype(np.float64) / 2).astype(np.float32)
        tlwh = np.stack([left, top, w, h], axis=1)

        def pick(mask: npt.NDArray[np.bool_]) -> list[Track]:
            return [Track(tlwh[i].copy(), scores[i], int(i)) for i in np.flatnonzero(mask)]

        high = pick(valid & (scores >= HIGH_SCORE))
        low = pick(valid & (scores > LOW_SCORE) & (scores < HIGH_SCORE))
        return high, low

    @staticmethod
    def _predict(tracks: list[Track]) -> None:
        """Moves every track's filter one frame on (a lost track's height stops changing)."""
        if not tracks:
            return
        means = np.asarray([t.mean for t in tracks])
        covariances = np.asarray([t.covariance for t in tracks])
        for i, track in enumerate(tracks):
            if track.state is not State.TRACKED:
                means[i][7] = 0
        means, covariances = kalman.predict(means, covariances)
        for track, mean, covariance in zip(tracks, means, covariances, strict=True):
            track.mean, track.covariance = mean, covariance

    def _start(self, detection: Track) -> Track:
        """``detection`` as a new track; confirmed at once only on the clip's first frame."""
        self.last_id += 1
        detection.track_id = self.last_id
        detection.mean, detection.covariance = kalman.initiate(kalman.xyah(detection.tlwh))
        detection.state, detection.confirmed = State.TRACKED, self.frame == 1
        detection.frame = detection.start_frame = self.frame
        return detection

    def _merge(
        self,
        matched: list[Track],
        refound: list[Track],
        newly_lost: list[Track],
        removed: list[Track],
    ) -> None:
        """The new lists of tracked and lost tracks. A lost track dropped this frame leaves
        the lost list only on the next frame (the order of ByteTrack's own steps): till then a
        detection may still bring it back."""
        tracked = [t for t in self.tracked if t.state is State.TRACKED]
        tracked = _union(_union(tracked, matched), refound)
        ids = {t.track_id for t in tracked}
        lost = [t for t in self.lost if t.track_id not in ids] + newly_lost
        gone = set(self.removed)
        lost = [t for t in lost if t.track_id not in gone]
        self.removed = (self.removed + [t.track_id for t in removed])[-REMOVED_MEMORY:]
        self.tracked, self.lost = self._without_duplicates(tracked, lost)

    @staticmethod
    def _without_duplicates(
        tracked: list[Track], lost: list[Track]
    ) -> tuple[list[Track], list[Track]]:
        """Of a tracked and a lost track on the same box, keeps the one followed longer."""
        cost = _plain_cost(tracked, lost)
        drop_tracked: set[int] = set()
        drop_lost: set[int] = set()
        for p, q in zip(*np.nonzero(cost < DUPLICATE_LIMIT), strict=True):
            age_p = tracked[p].frame - tracked[p].start_frame
            age_q = lost[q].frame - lost[q].start_frame
            if age_p > age_q:
                drop_lost.add(int(q))
            else:
                drop_tracked.add(int(p))
        return (
            [t for i, t in enumerate(tracked) if i not in drop_tracked],
            [t for i, t in enumerate(lost) if i not in drop_lost],
        )


class ByteTrackTracker:
    """One tracker per clip: call :meth:`update` with each sampled frame's detections in order.

    ``track_buffer_s`` is how long (video time) a lost vehicle keeps its id, so a car hidden
    behind a bus for a moment is still the same track. Tracks and detections are matched by
    buffered IoU (``BUFFER``).
    """

    def __init__(self, fps: float, track_buffer_s: float = 3.0) -> None:
        self._byte = ByteTrack(track_buffer=max(1, round(track_buffer_s * fps)))

    def update(self, vehicles: list[Vehicle], shape: tuple[int, int]) -> list[Vehicle]:
        """This frame's vehicles, in their order, each with its ``track_id`` (None for one too
        uncertain to track). ``shape`` (the frame's height and width) is not needed."""
        rows = np.array(
            [[v.box.x1, v.box.y1, v.box.x2, v.box.y2, v.confidence] for v in vehicles],
            dtype=np.float32,
        ).reshape(-1, 5)
        ids = self._byte.step(rows[:, :4], rows[:, 4])
        return [replace(v, track_id=ids.get(n)) for n, v in enumerate(vehicles)]
