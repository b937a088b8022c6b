"""Vehicle tracking across sampled frames: ultralytics' ByteTrack on our detections."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from models.types import Vehicle

KINDS = ("car", "motorcycle", "bus", "truck")


BUFFER = 0.5
"""Each box widened by this share of its width and height on every side before the IoU that
matches tracks with detections (C-BIoU, Yang et al. 2023). At the pipeline's 2 frames a second
a vehicle moves about its own length between samples, so the plain boxes of one vehicle
often no longer overlap enough and every sample would start a new, never-confirmed track
(a new track is confirmed only when the next sample matches it)."""


def buffered_iou(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """IoU of every box of ``a`` with every box of ``b`` (x1, y1, x2, y2 rows), each widened
    by ``BUFFER``."""

    def widen(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
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


class ByteTrackTracker:
    """One tracker per clip: call :meth:`update` with each sampled frame's detections in order.

    ``track_buffer_s`` is how long (video time) a lost vehicle keeps its id, so a car hidden
    behind a bus for a moment is still the same track. Tracks and detections are matched by
    buffered IoU (``BUFFER``).
    """

    def __init__(self, fps: float, track_buffer_s: float = 3.0) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker

        class BufferedByteTracker(BYTETracker):
            def get_dists(self, tracks: list[Any], detections: list[Any]) -> Any:
                if not tracks or not detections:
                    return np.zeros((len(tracks), len(detections)), dtype=np.float32)
                ious = buffered_iou(
                    np.array([t.xyxy for t in tracks], dtype=np.float64),
                    np.array([d.xyxy for d in detections], dtype=np.float64),
                )
                return (1.0 - ious).astype(np.float32)

        args = SimpleNamespace(
            tracker_type="bytetrack",
            track_high_thresh=0.25,
            track_low_thresh=0.1,
            new_track_thresh=0.25,
            track_buffer=max(1, round(track_buffer_s * fps)),
            match_thresh=0.8,
            # no score fusion: the IoU times a faint vehicle's score (0.3) could never reach
            # the 0.3 an unconfirmed track needs, so small distant vehicles were never tracked
            fuse_score=False,
        )
        self._tracker: Any = BufferedByteTracker(args)  # type: ignore[no-untyped-call]

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
