"""Vehicle tracking across sampled frames: ultralytics' ByteTrack on our detections."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from models.types import Vehicle

KINDS = ("car", "motorcycle", "bus", "truck")


class ByteTrackTracker:
    """One tracker per clip: call :meth:`update` with each sampled frame's detections in order.

    ``track_buffer_s`` is how long (video time) a lost vehicle keeps its id, so a car hidden
    behind a bus for a moment is still the same track.
    """

    def __init__(self, fps: float, track_buffer_s: float = 3.0) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker

        args = SimpleNamespace(
            tracker_type="bytetrack",
            track_high_thresh=0.25,
            track_low_thresh=0.1,
            new_track_thresh=0.25,
            track_buffer=max(1, round(track_buffer_s * fps)),
            match_thresh=0.8,
            fuse_score=True,
        )
        self._tracker: Any = BYTETracker(args)  # type: ignore[no-untyped-call]

    def update(self, vehicles: list[Vehicle], shape: tuple[int, int]) -> list[Vehicle]:
        """This frame's vehicles, in their order, each with its ``track_id`` (None for one too
        uncertain to track)."""
        from ultralytics.engine.results import Boxes

        rows = np.array(
            [
                [v.box.x1, v.box.y1, v.box.x2, v.box.y2, v.confidence, KINDS.index(v.kind)]
                for v in vehicles
            ],
            dtype=np.float32,
        )
        boxes = Boxes(rows.reshape(-1, 6), shape)
        ids = {int(row[7]): int(row[4]) for row in self._tracker.update(boxes)}
        return [replace(v, track_id=ids.get(n)) for n, v in enumerate(vehicles)]
