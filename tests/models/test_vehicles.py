"""Every vehicle detector backend on real photos."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.derive import yolov8n_onnx
from models.registry import VEHICLE_DETECTORS
from models.tracker import ByteTrackTracker, buffered_iou
from models.types import Box
from models.weights import resolve
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
    weights = (MODELS_DIR / detector.info.file).read_bytes()
    assert detector.info.sha256 == hashlib.sha256(weights).hexdigest()  # the file it runs


def test_tracker_keeps_one_id_per_vehicle() -> None:
    detector = VEHICLE_DETECTORS["yolox_nano_onnx"](MODELS_DIR)
    image = cv2.imread(str(SAMPLES / "Quicker_20220930_181044.png"))
    tracker = ByteTrackTracker(fps=5)
    ids = []
    for shift in range(0, 30, 6):  # the camera pans: every car moves a little each frame
        moved = image[:, shift:]
        ids.append(
            sorted(
                t.track_id
                for t in tracker.update(detector.detect(moved), moved.shape[:2])
                if t.track_id is not None
            )
        )
    assert len(ids[0]) >= 3 and all(frame == ids[0] for frame in ids)


def _iou(a: Box, b: Box) -> float:
    w = max(0.0, min(a.x2, b.x2) - max(a.x1, b.x1))
    h = max(0.0, min(a.y2, b.y2) - max(a.y1, b.y1))
    inter = w * h
    return inter / (a.width * a.height + b.width * b.height - inter)


def test_yolov8n_derived_into_onnx_sees_what_the_tflite_file_sees() -> None:
    """The same weights on ONNX Runtime, read at the same 640 on every photo: every vehicle the
    shipped TFLite model is sure of (>= 0.5) in the real photos is found again, same class,
    boxes overlapping >= 0.85; the confidences differ a little (LiteRT quantises activations,
    and the frame is letterboxed to its own aspect, not a square). As shipped, wide frames
    are read at 512 (cheaper): the same vehicles, same class, boxes overlapping >= 0.7."""
    from models.vehicles_onnx import OnnxYolov8VehicleDetector

    same = OnnxYolov8VehicleDetector(*resolve(MODELS_DIR, "yolov8n_int8_tflite"), wide_size=None)
    derived = VEHICLE_DETECTORS["yolov8n_onnx"](MODELS_DIR)
    shipped = VEHICLE_DETECTORS["yolov8n_int8_tflite"](MODELS_DIR)
    photos = [*SAMPLES.iterdir(), *(DATA_DIR / "images").iterdir()]
    checked = wide = 0
    for photo in photos:
        image = cv2.imread(str(photo))
        found, cheap = same.detect(image), derived.detect(image)
        wide += image.shape[1] >= 1280
        for sure in (v for v in shipped.detect(image) if v.confidence >= 0.5):
            twin = max(found, key=lambda v: _iou(v.box, sure.box), default=None)
            assert twin is not None and twin.kind == sure.kind, (photo.name, sure)
            assert _iou(twin.box, sure.box) >= 0.85, (photo.name, sure, twin)
            assert twin.confidence == pytest.approx(sure.confidence, abs=0.25)
            near = max(cheap, key=lambda v: _iou(v.box, sure.box), default=None)
            assert near is not None and near.kind == sure.kind, (photo.name, sure)
            assert _iou(near.box, sure.box) >= 0.7, (photo.name, sure, near)
            checked += 1
    assert checked >= 30 and wide >= 1


def test_derived_onnx_is_made_once_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROADWITNESS_CACHE_DIR", str(tmp_path))
    path, info = resolve(MODELS_DIR, "yolov8n_int8_tflite")
    made = yolov8n_onnx(path, info.sha256)
    assert made.parent == tmp_path and info.sha256[:16] in made.name
    stamp = made.stat().st_mtime_ns
    assert yolov8n_onnx(path, info.sha256) == made and made.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [made.name]  # no partial file left


def test_buffered_iou_links_boxes_a_vehicle_length_apart() -> None:
    """At 2 samples a second a car moves about its length: plain boxes barely touch, widened
    ones (C-BIoU) overlap enough to keep one track."""
    before = np.array([[100.0, 100.0, 140.0, 130.0]])
    after = np.array([[136.0, 104.0, 176.0, 134.0], [400.0, 100.0, 440.0, 130.0]])
    iou = buffered_iou(before, after)
    assert iou.shape == (1, 2)
    assert iou[0, 0] > 0.3 and iou[0, 1] == 0.0
