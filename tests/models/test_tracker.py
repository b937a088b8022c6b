"""Our ByteTrack (models/tracker.py) on real footage: the same track ids as ultralytics'
BYTETracker (what the pipeline ran before) for every detection, and the BYTE rules on their own.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from ingest.media import probe
from models.tracker import ByteTrackTracker, buffered_iou
from models.types import Box, Vehicle
from models.vehicles_onnx import OnnxYolov8VehicleDetector
from models.weights import resolve
from tests.conftest import DATA_DIR, MODELS_DIR
from workers.frames import iter_frames
from workers.proposals import RoadsideDetector

Clip = list[tuple[list[Vehicle], tuple[int, int]]]
S2 = DATA_DIR / "roads" / "cn_expressway_s2_roadside.mp4"
TRAFFIC = DATA_DIR / "videos" / "dev_trafficcam_video1.avi"
DASHCAM = DATA_DIR / "videos" / "dev_dashcam_lanes_solidWhiteRight.mp4"


class UltralyticsByteTrack:
    """The tracker the pipeline ran before (ultralytics' BYTETracker with buffered IoU and no
    score fusion), kept here as the reference."""

    def __init__(self, fps: float, track_buffer_s: float = 3.0) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker

        class Buffered(BYTETracker):  # type: ignore[misc]
            def get_dists(self, tracks: list[Any], detections: list[Any]) -> Any:
                if not tracks or not detections:
                    return np.zeros((len(tracks), len(detections)), dtype=np.float32)
                ious = buffered_iou(
                    np.array([t.xyxy for t in tracks], dtype=np.float64),
                    np.array([d.xyxy for d in detections], dtype=np.float64),
                )
                return (1.0 - ious).astype(np.float32)

        self._tracker = Buffered(
            SimpleNamespace(
                tracker_type="bytetrack",
                track_high_thresh=0.25,
                track_low_thresh=0.1,
                new_track_thresh=0.25,
                track_buffer=max(1, round(track_buffer_s * fps)),
                match_thresh=0.8,
                fuse_score=False,
            )
        )

    def update(self, vehicles: list[Vehicle], shape: tuple[int, int]) -> list[int | None]:
        from ultralytics.engine.results import Boxes

        rows = np.array(
            [[v.box.x1, v.box.y1, v.box.x2, v.box.y2, v.confidence, 0] for v in vehicles],
            dtype=np.float32,
        ).reshape(-1, 6)
        ids = {int(row[7]): int(row[4]) for row in self._tracker.update(Boxes(rows, shape))}
        return [ids.get(n) for n in range(len(vehicles))]


def _decode(path: Path, fps: float, detect: Any) -> Clip:
    frames = iter_frames(path, probe(path), fps, 100_000)
    return [(detect(f.image), f.image.shape[:2]) for f in frames]


@pytest.fixture(scope="module")
def clips(models: Any) -> dict[str, Clip]:
    """Real detections, computed once: the S2 clip as the pipeline sees it (the shipped
    detector plus motion proposals, at the default 2 frames a second), and two dev videos
    with the detector down to 0.05 so that faint boxes (the second stage) come in plenty."""
    faint = OnnxYolov8VehicleDetector(*resolve(MODELS_DIR, "yolov8n_int8_tflite"), conf=0.05)
    return {
        "s2": _decode(S2, 2.0, RoadsideDetector(models).detect),
        "traffic": _decode(TRAFFIC, 5.0, faint.detect),
        "dashcam": _decode(DASHCAM, 10.0, faint.detect),
    }


@pytest.mark.parametrize("clip", ["s2", "traffic", "dashcam"])
def test_the_same_track_ids_as_ultralytics_bytetrack_on_real_footage(
    clips: dict[str, Clip], clip: str
) -> None:
    pytest.importorskip("ultralytics.trackers.byte_tracker")
    frames = clips[clip]
    tracked_faint = refound = 0
    # every sampled frame, and every other (vehicles move twice as far); short memories
    # (1 and 3 frames) drop lost tracks often
    for step, fps in [(1, 5.0), (2, 2.0), (1, 1.0), (2, 0.3)]:
        ours, theirs = ByteTrackTracker(fps), UltralyticsByteTrack(fps)
        last_seen: dict[int, int] = {}
        for n, (vehicles, shape) in enumerate(frames[::step]):
            mine = [v.track_id for v in ours.update(vehicles, shape)]
            assert mine == theirs.update(vehicles, shape), f"{clip} step {step} fps {fps} #{n}"
            for v, track_id in zip(vehicles, mine, strict=True):
                if track_id is not None:
                    tracked_faint += v.confidence < 0.25
                    refound += n - last_seen.get(track_id, n) > 1
                    last_seen[track_id] = n
    # the comparison saw every stage: ids kept over gaps (lost, then found again), and faint
    # boxes continuing tracks (none on S2: the proposals' 0.3 and the detector's 0.25)
    assert len(last_seen) >= 5 and refound >= 5
    assert tracked_faint >= 10 or clip == "s2"


def _car(x: float, score: float = 0.9, y: float = 100.0) -> Vehicle:
    return Vehicle(Box(x, y, x + 80, y + 50), "car", score)


def _ids(tracker: ByteTrackTracker, vehicles: list[Vehicle]) -> list[int | None]:
    return [v.track_id for v in tracker.update(vehicles, (720, 1280))]


def test_a_new_track_is_confirmed_by_the_next_frame_except_on_the_first() -> None:
    tracker = ByteTrackTracker(fps=2)
    assert _ids(tracker, [_car(100)]) == [1]  # the clip's first frame: confirmed at once
    assert _ids(tracker, [_car(130), _car(600)]) == [1, None]  # a newcomer waits one frame
    assert _ids(tracker, [_car(160), _car(630)]) == [1, 2]


def test_faint_boxes_continue_a_track_but_never_start_one() -> None:
    tracker = ByteTrackTracker(fps=2)
    _ids(tracker, [_car(100)])
    assert _ids(tracker, [_car(110, score=0.15), _car(600, score=0.15)]) == [1, None]
    assert _ids(tracker, [_car(120, score=0.15), _car(610, score=0.15)]) == [1, None]
    assert _ids(tracker, [_car(130, score=0.09)]) == [None]  # below 0.1: not even a faint box


def test_a_lost_vehicle_keeps_its_id_for_the_track_buffer_only() -> None:
    tracker = ByteTrackTracker(fps=2, track_buffer_s=2.0)  # 4 frames
    for x in (100, 100, 100):
        assert _ids(tracker, [_car(x)]) == [1]
    for _ in range(4):
        assert _ids(tracker, []) == []
    assert _ids(tracker, [_car(100)]) == [1]  # hidden 4 frames: the same vehicle
    for _ in range(6):
        _ids(tracker, [])
    assert _ids(tracker, [_car(100)]) == [None]  # hidden 6: a new, unconfirmed track
    assert _ids(tracker, [_car(100)]) == [2]


def test_matching_uses_the_buffered_boxes() -> None:
    """Two samples of a vehicle moving its own length: the plain boxes barely touch, the
    buffered ones overlap enough, so the vehicle keeps its id."""
    tracker = ByteTrackTracker(fps=2)
    _ids(tracker, [_car(100)])
    assert _ids(tracker, [_car(178)]) == [1]
