"""Vehicles a fixed roadside camera sees too small or too hazy for the full-frame detector.

On a pole camera (the S2 expressway clip) distant vehicles are a few dozen pixels of haze and
compression blur: YOLOv8n scores them far below its threshold, on the whole frame and on
upscaled crops alike. What a fixed camera gives for free is the background, so for each sampled
frame of a clip whose camera stands still:

1. **Is the camera still?** Corners of the previous sampled frame are followed into this one
   (pyramidal Lucas-Kanade, ~100 points at 320 px width, about 1 ms). On a fixed camera most of
   them stay put, even in busy traffic; on a dashcam almost none do. The camera counts as
   static while, over the last ``WINDOW`` frame pairs, the median share of corners that moved
   under ``STILL_PX`` is at least ``STATIC_SHARE``. A submission from a dashcam device
   (``view == "dashcam"``) is never treated as static.
2. **Motion proposals.** A MOG2 background model on the downscaled grey frame; its foreground,
   opened and dilated, gives blobs. A blob the detector already boxed is left to the detector.
3. **Moving, not flickering.** Each blob is linked to the nearest blob of the previous sampled
   frame; a blob becomes a proposal only after it has moved at least ``MIN_STEP`` in a
   consistent direction ``MIN_MOVES`` times in a row. Swaying trees, an on-screen clock and
   compression noise stay in place or jitter; vehicles travel.
4. **Confirmation on a crop.** Proposals not yet checked are cut out (a square 1.5 times the
   blob, upscaled into ``CELL`` px cells), tiled into one mosaic and given to the same detector
   in one call, for each motion track's first ``CHECKS`` sightings only. A vehicle the detector
   finds there gives the proposal its box, class and score.

**Where the detector cannot confirm the class** (on the S2 clip it almost never can: the
vehicles are too blurred for it at any scale), the moving blob is kept as a vehicle of kind
``car`` with confidence ``MOTION_CONFIDENCE``: "car" because it is the commonest class and, for
the rules, the least privileged one (only a bus confirmed by its plate is exempt from the
bus-lane rule), and 0.3 because the tracker starts tracks above 0.25: the motion evidence
(several consistent moves on a static background) is what makes it a vehicle. Its box is the
blob's, trimmed of the dilation; it can include the vehicle's shadow.

The stage costs a few milliseconds per sampled frame (``seconds`` counts it, without the
full-frame detector) plus one small mosaic inference when a new motion track appears.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from models.registry import ModelSet
from models.types import Box, Image, Vehicle
from rules.facts import View

WIDTH = 320
"""The motion stage's working width (pixels); frames are downscaled to it."""
STILL_PX = 1.0
"""A corner that moves less than this (working pixels) between sampled frames stands still."""
STATIC_SHARE = 0.5
WINDOW = 5
WARM_UP = 3
"""Sampled frames MOG2 needs before its foreground means motion (its first is all foreground)."""
MIN_AREA = 12
"""Smallest blob, in working pixels (a car at 200 m on a 640 px frame is about 4 x 4 there)."""
MAX_WIDTH_SHARE = 0.2
"""Wider blobs are near vehicles (the full-frame detector's job), several merged, or the camera
shaking; a near vehicle's blob also holds its shadow, which from a pole camera can reach over
the edge line onto the shoulder (on S2 a truck's did, for a false emergency-lane finding)."""
MIN_STEP = 0.75
"""Working pixels a blob's centre must move between sampled frames to count as moving."""
MIN_MOVES = 2
CELL = 128
MOSAIC_WIDTH = 640
MAX_CELLS = 10
MIN_CROP = 32
"""Smallest crop side (frame pixels): a crop is upscaled at most CELL / MIN_CROP = 4 times."""
CHECKS = 2
MOTION_CONFIDENCE = 0.3
OVERLAP = 0.3
"""A blob sharing this much of the smaller area with a detected vehicle is that vehicle."""


@dataclass
class _Mover:
    """A blob followed from one sampled frame to the next (working-pixel coordinates)."""

    box: tuple[float, float, float, float]
    step: tuple[float, float] = (0.0, 0.0)
    moves: int = 0
    checks: int = 0
    confirmed: Vehicle | None = None
    fresh: bool = False
    """Confirmed on this very frame (its box is the detector's on this frame's crop)."""

    @property
    def centre(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, (y1 + y2) / 2

    @property
    def size(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(x2 - x1, y2 - y1)


def working_grey(image: Image) -> Image:
    """The frame shrunk to the motion stage's working width (``WIDTH``), in grey levels."""
    h, w = image.shape[:2]
    size = (WIDTH, max(1, round(h * WIDTH / w)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), np.uint8)


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min(a.width * a.height, b.width * b.height)
    return w * h / smaller if smaller > 0 else 0.0


@dataclass
class RoadsideDetector:
    """The full-frame detector plus motion proposals while the camera stands still; one per
    clip, fed its sampled frames in order."""

    models: ModelSet = field(repr=False)
    view: View | None = None
    seconds: float = 0.0
    """Time spent in this stage (proposals, stillness, crops), without the full-frame detector."""
    crop_seconds: float = 0.0
    """The part of ``seconds`` spent confirming proposals on crops."""
    frames: int = 0
    static_frames: int = 0
    crop_calls: int = 0
    proposed: int = 0
    """Vehicles this stage added that the full-frame detector did not find."""
    last_proposed: list[Vehicle] = field(default_factory=list, repr=False)
    _grey: Image | None = field(default=None, repr=False)
    _still: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))
    _movers: list[_Mover] = field(default_factory=list, repr=False)
    _subtractor: cv2.BackgroundSubtractorMOG2 | None = field(default=None, repr=False)
    _learned: int = 0

    @property
    def static(self) -> bool:
        if self.view == "dashcam" or len(self._still) < 2:
            return False
        return float(np.median(list(self._still))) >= STATIC_SHARE

    def detect(self, image: Image) -> list[Vehicle]:
        return self.propose(image, self.models.vehicles.detect(image))

    def propose(
        self, image: Image, detected: list[Vehicle], grey: Image | None = None
    ) -> list[Vehicle]:
        """``detected`` (this frame's vehicles, found or carried from the frame before) with
        the moving vehicles a still camera's background shows besides them. ``grey``: the
        frame's :func:`working_grey` where the caller has it already."""
        started = time.perf_counter()
        self.frames += 1
        self.last_proposed = []
        if self.view == "dashcam":  # never a still camera: nothing to measure
            self.seconds += time.perf_counter() - started
            return detected
        scale = WIDTH / image.shape[1]
        grey = working_grey(image) if grey is None else grey
        self._measure_stillness(grey)
        self._grey = grey
        if not self.static:
            self._subtractor, self._learned, self._movers = None, 0, []
            self.seconds += time.perf_counter() - started
            return detected
        self.static_frames += 1
        blobs = self._blobs(grey)
        movers = self._follow(blobs)
        near = [d.box for d in detected]
        wanted = [
            m
            for m in movers
            if m.moves >= MIN_MOVES
            and not any(_overlap(self._frame_box(m.box, scale), b) >= OVERLAP for b in near)
        ]
        self._confirm(image, [m for m in wanted if m.checks < CHECKS and m.confirmed is None])
        added = [self._vehicle(m, scale) for m in wanted]
        self.last_proposed = added
        self.proposed += len(added)
        self.seconds += time.perf_counter() - started
        return detected + added

    def _measure_stillness(self, grey: Image) -> None:
        previous = self._grey
        if previous is None or previous.shape != grey.shape:
            return
        corners = cv2.goodFeaturesToTrack(previous, 100, 0.01, 8)
        if corners is None or len(corners) < 10:
            self._still.append(0.0)  # nothing to follow: no evidence of a still camera
            return
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            previous, grey, corners, None, winSize=(15, 15), maxLevel=2
        )
        distance = np.linalg.norm((moved - corners).reshape(-1, 2), axis=1)
        still = (distance < STILL_PX) & (status.reshape(-1) == 1)
        self._still.append(float(still.mean()))

    def _blobs(self, grey: Image) -> list[tuple[float, float, float, float]]:
        if self._subtractor is None:
            self._subtractor = cv2.createBackgroundSubtractorMOG2(
                history=20, varThreshold=25, detectShadows=False
            )
        mask = self._subtractor.apply(cv2.GaussianBlur(grey, (3, 3), 0))
        self._learned += 1
        if self._learned <= WARM_UP:
            return []
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        mask = cv2.dilate(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel), kernel, iterations=2)
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        blobs = []
        for x, y, bw, bh, area in stats[1:].tolist():
            if area < MIN_AREA or bw > MAX_WIDTH_SHARE * WIDTH:
                continue
            # the dilation grew the blob by 2 px each side: give them back
            blobs.append((x + 2.0, y + 2.0, x + max(bw - 2.0, 3.0), y + max(bh - 2.0, 3.0)))
        return blobs

    def _follow(self, blobs: list[tuple[float, float, float, float]]) -> list[_Mover]:
        """Each blob linked to the nearest unclaimed blob of the previous frame within reach."""
        previous = list(self._movers)
        movers = []
        for box in sorted(blobs, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
            mover = _Mover(box)
            cx, cy = mover.centre
            reach = [
                (np.hypot(cx - p.centre[0], cy - p.centre[1]), n) for n, p in enumerate(previous)
            ]
            reach = [(d, n) for d, n in reach if d <= max(8.0, 1.5 * previous[n].size)]
            if reach:
                _, n = min(reach)
                before = previous.pop(n)
                step = (cx - before.centre[0], cy - before.centre[1])
                moving = np.hypot(*step) >= MIN_STEP
                onward = (
                    before.moves == 0 or step[0] * before.step[0] + step[1] * before.step[1] > 0
                )
                mover.step = step
                mover.moves = before.moves + 1 if moving and onward else 0
                mover.checks, mover.confirmed = before.checks, before.confirmed
            movers.append(mover)
        self._movers = movers
        return movers

    def _frame_box(self, box: tuple[float, float, float, float], scale: float) -> Box:
        return Box(*(v / scale for v in box))

    def _confirm(self, image: Image, movers: list[_Mover]) -> None:
        """One detector call on a mosaic of upscaled crops around the unchecked proposals."""
        if not movers:
            return
        movers = movers[:MAX_CELLS]
        scale = WIDTH / image.shape[1]
        per_row = MOSAIC_WIDTH // CELL
        rows = (len(movers) + per_row - 1) // per_row
        mosaic: Image = np.full((rows * CELL, MOSAIC_WIDTH, 3), 114, np.uint8)
        crops = []
        for n, mover in enumerate(movers):
            mover.checks += 1
            box = self._frame_box(mover.box, scale)
            side = max(box.width, box.height, MIN_CROP / 1.5) * 1.5
            cx, cy = box.centre
            x1, y1 = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
            x2 = min(image.shape[1], round(cx + side / 2))
            y2 = min(image.shape[0], round(cy + side / 2))
            if x2 - x1 < 2 or y2 - y1 < 2:
                crops.append((0, 0, 0.0))
                continue
            zoom = CELL / max(x2 - x1, y2 - y1)
            cw, ch = max(1, round((x2 - x1) * zoom)), max(1, round((y2 - y1) * zoom))
            r, c = divmod(n, per_row)
            mosaic[r * CELL : r * CELL + ch, c * CELL : c * CELL + cw] = cv2.resize(
                image[y1:y2, x1:x2], (cw, ch), interpolation=cv2.INTER_CUBIC
            )
            crops.append((x1, y1, zoom))
        self.crop_calls += 1
        started = time.perf_counter()
        confirming = self.models.vehicles.detect(mosaic)
        self.crop_seconds += time.perf_counter() - started
        for found in confirming:
            cx, cy = found.box.centre
            r, c = int(cy // CELL), int(cx // CELL)
            n = r * per_row + c
            if n >= len(movers) or crops[n][2] == 0.0:
                continue
            x0, y0, zoom = crops[n]
            ox, oy = c * CELL, r * CELL
            b = found.box
            box = Box(
                x0 + (max(b.x1, ox) - ox) / zoom,
                y0 + (max(b.y1, oy) - oy) / zoom,
                x0 + (min(b.x2, ox + CELL) - ox) / zoom,
                y0 + (min(b.y2, oy + CELL) - oy) / zoom,
            )
            best = movers[n].confirmed
            if best is None or found.confidence > best.confidence:
                movers[n].confirmed = Vehicle(box, found.kind, found.confidence)
                movers[n].fresh = True

    def _vehicle(self, mover: _Mover, scale: float) -> Vehicle:
        box = self._frame_box(mover.box, scale)
        confirmed = mover.confirmed
        if confirmed is None:
            return Vehicle(box, "car", MOTION_CONFIDENCE)
        # the detector's class and score; its box where it was found on this frame's crop,
        # else the blob's (the crop was of an earlier frame)
        return Vehicle(
            confirmed.box if mover.fresh else box,
            confirmed.kind,
            max(confirmed.confidence, MOTION_CONFIDENCE),
        )
