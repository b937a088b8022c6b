"""The burned-in clock of a clip, as evidence of repeated frames.

Roadside and many dashcam recorders print the time on the picture. Its seconds digit changes
once per second of real time, so in an untouched clip it changes once per second of video
time too, whatever the scene does. Frames repeated by an editor stop it for longer without
moving the rest of its beat back into step, which a still scene, a screen recording that
freezes its picture, or a digit change too small to see cannot do:

- a scene standing still leaves the clock ticking (a still run of the picture with a ticking
  clock is no repeat);
- a missed tick or a recorder that froze for whole seconds leaves a gap of a whole number of
  seconds: the next change comes back on the beat;
- repeated frames leave a gap of a whole number of seconds plus the repeated time.

The clock is found, not configured: among small cells of the top and bottom strips of the
picture (where recorders print captions), the one whose changes are the most regular beat of
one per second. No such cell, no finding: a clip without a clock says nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

STRIP_WIDTH = 256
"""Width in pixels the caption strips are looked at (enough for a digit a few pixels wide)."""
STRIP_SHARE = 0.2
"""Height of the top and the bottom strip, as a share of the picture's height."""
CELL = 8
"""Side in pixels (at ``STRIP_WIDTH``) of the cells whose change is followed."""
CHANGE = 4.0
"""Mean grey-level change of a cell that can be a digit changing..."""
OVER_USUAL = 4.0
"""...and this many times the cell's own median change (its noise)."""
MERGE_S = 0.3
"""Changes of one cell closer than this are one change (an encoder settling over frames)."""
MIN_TICKS = 6
BEAT_S = (0.9, 1.1)
"""The beat of a seconds digit, video seconds."""
REGULAR = 0.8
"""Share of a clock cell's gaps that are one beat (within a frame): the rest are missed ticks
or a caption crossed by a vehicle."""


@dataclass(frozen=True, slots=True)
class Clock:
    cell: int
    beat_s: float
    ticks_s: tuple[float, ...]
    tolerance_s: float
    """How far a gap between two ticks may be from a whole number of beats: the clip's own
    jitter (at least one frame, the tick's rounding to a frame) plus half a frame."""


@dataclass(frozen=True, slots=True)
class Stop:
    at_s: float
    """Video time of the last tick before the stop."""
    gap_s: float
    beats: int
    """Whole beats nearest to the gap; the rest of the gap is repeated time."""


Changes = npt.NDArray[np.float16]


def strip_changes(
    previous: npt.NDArray[np.uint8] | None, strips: npt.NDArray[np.uint8]
) -> npt.NDArray[np.float16]:
    """Mean absolute grey-level change (to a grey level) of each ``CELL`` x ``CELL`` cell of
    ``strips`` since ``previous`` (zeros for a first frame or a changed picture size)."""
    h, w = strips.shape[0] // CELL * CELL, strips.shape[1] // CELL * CELL
    if previous is None or previous.shape != strips.shape:
        return np.zeros((h // CELL) * (w // CELL), np.float16)
    diff = cv2.absdiff(strips[:h, :w], previous[:h, :w])
    means = cv2.resize(diff, (w // CELL, h // CELL), interpolation=cv2.INTER_AREA)
    out: npt.NDArray[np.float16] = means.ravel().astype(np.float16)
    return out


def _ticks(change: npt.NDArray[np.float32], times: npt.NDArray[np.float64]) -> list[int]:
    level = max(CHANGE, OVER_USUAL * float(np.median(change)))
    ticks: list[int] = []
    for i in np.flatnonzero(change >= level).tolist():
        if not ticks or times[i] - times[ticks[-1]] >= MERGE_S:
            ticks.append(i)
    return ticks


def find_clock(changes: Changes, times: tuple[float, ...]) -> Clock | None:
    """The cell that beats once per second most regularly, if one does."""
    if changes.ndim != 2 or len(changes) < 3 or len(changes) != len(times):
        return None
    at = np.asarray(times, np.float64)
    step = float(np.median(np.diff(at)))
    best: tuple[float, int, Clock] | None = None
    for cell in range(changes.shape[1]):
        ticks = _ticks(changes[:, cell].astype(np.float32), at)
        if len(ticks) < MIN_TICKS:
            continue
        gaps = np.diff(at[ticks])
        beat = float(np.median(gaps))
        on_beat = np.abs(gaps - beat) <= step + 0.05
        if not BEAT_S[0] <= beat <= BEAT_S[1] or on_beat.mean() < REGULAR:
            continue
        jitter = float(np.abs(gaps[on_beat] - beat).max())
        clock = Clock(cell, beat, tuple(at[ticks].tolist()), max(jitter, step) + step / 2)
        score = (float(on_beat.mean()), len(ticks))
        if best is None or score > best[:2]:
            best = (*score, clock)
    return best[2] if best else None


def stops(clock: Clock) -> list[Stop]:
    """Gaps between ticks longer than a beat and not a whole number of beats."""
    found = []
    for before, after in zip(clock.ticks_s, clock.ticks_s[1:], strict=False):
        gap = after - before
        beats = max(1, round(gap / clock.beat_s))
        if gap > clock.beat_s + clock.tolerance_s and (
            abs(gap - beats * clock.beat_s) > clock.tolerance_s
        ):
            found.append(Stop(round(before, 2), round(gap, 2), beats))
    return found
