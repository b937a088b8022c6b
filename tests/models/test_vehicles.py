"""Every vehicle detector backend on real photos."""

from __future__ import annotations

import cv2
import pytest

from models.registry import VEHICLE_DETECTORS
from models.tracker import ByteTrackTracker
from tests.conftest import DATA_DIR, MODELS_DIR

SAMPLES = MODELS_DIR / "samples"


@pytest.mark.parametrize("backend", sorted(VEHICLE_DETECTORS))
def test_backends_find_the_cars_of_real_street_photos(backend: str) -> None:
    detector = VEHICLE_DETECTORS[backend](MODELS_DIR)
    three_cars = detector.detect(cv2.imread(str(SAMPLES / "Quicker_20220930_181044.png")))
    assert sum(v.kind == "car" and v.confidence > 0.5 for v in three_cars) >= 3
    street = detector.detect(cv2.imread(str(SAMPLES / "hyperlpr_test_img.jpg")))
    biggest = max(street, key=lambda v: v.box.width * v.box.height)
    assert biggest.kind == "car" and biggest.box.width > 1000  # the green-plate car in front
    assert detector.detect(cv2.imread(str(DATA_DIR / "images" / "dev_vehicle_014.jpg")))
    assert detector.info.sha256


def test_tracker_keeps_one_id_per_vehicle() -> None:
    detector = VEHICLE_DETECTORS["yolox_nano_onnx"](MODELS_DIR)
    image = cv2.imread(str(SAMPLES / "Quicker_20220930_181044.png"))
    tracker = ByteTrackTracker(fps=5)
    ids = []
    for shift in range(0, 30, 6):  # the camera pans: every car moves a little each frame
        moved = image[:, shift:]
        ids.append(
            sorted(t.track_id for t in tracker.update(detector.detect(moved), moved.shape[:2]))
        )
    assert len(ids[0]) >= 3 and all(frame == ids[0] for frame in ids)
