"""The INT8 YOLOv8n (models/derive_int8.py) against the float one it is made from."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.derive import yolov8n_onnx
from models.derive_int8 import yolov8n_int8_onnx
from models.onnx import session
from models.registry import VEHICLE_DETECTORS
from models.weights import resolve
from tests.conftest import DATA_DIR, MODELS_DIR
from tests.models.test_vehicles import SAMPLES, _iou


def test_int8_finds_the_vehicles_the_float_model_is_sure_of() -> None:
    """Every vehicle the float model is sure of (>= 0.5) in the real photos is found again,
    same class, boxes overlapping >= 0.9, confidence within 0.2. Below that the two differ:
    near the threshold a vehicle may come, go or change class (why it is an opt-in)."""
    float_model = VEHICLE_DETECTORS["yolov8n_onnx"](MODELS_DIR)
    int8 = VEHICLE_DETECTORS["yolov8n_int8_onnx"](MODELS_DIR)
    assert int8.info.name == "yolov8n_int8_onnx"
    checked = wide = 0
    for photo in sorted([*SAMPLES.iterdir(), *(DATA_DIR / "images").iterdir()]):
        read = cv2.imread(str(photo))
        if read is None:
            continue
        image = np.asarray(read, np.uint8)
        found = int8.detect(image)
        wide += image.shape[1] >= 1280
        for sure in (v for v in float_model.detect(image) if v.confidence >= 0.5):
            twin = max(found, key=lambda v: _iou(v.box, sure.box), default=None)
            assert twin is not None and twin.kind == sure.kind, (photo.name, sure)
            assert _iou(twin.box, sure.box) >= 0.9, (photo.name, sure, twin)
            assert twin.confidence == pytest.approx(sure.confidence, abs=0.2), (photo.name, sure)
            checked += 1
    assert checked >= 30 and wide >= 1


@pytest.mark.parametrize("height,width", [(288, 512), (384, 640), (640, 640)])
def test_int8_graph_takes_any_input_size(height: int, width: int) -> None:
    """Calibrated on one 512x288 canvas, the graph still runs at the sizes the detector uses."""
    tflite, info = resolve(MODELS_DIR, "yolov8n_int8_tflite")
    path = yolov8n_int8_onnx(yolov8n_onnx(tflite, info.sha256), info.sha256, DATA_DIR)
    tensor = np.full((1, 3, height, width), 114 / 255, np.float32)
    out = session(path).run(None, {"images": tensor})[0]
    anchors = sum((height // s) * (width // s) for s in (8, 16, 32))
    assert out.shape == (1, 84, anchors) and out[0, 4:].min() >= 0 and out[0, 4:].max() <= 1


def test_int8_file_is_made_once_and_reused() -> None:
    tflite, info = resolve(MODELS_DIR, "yolov8n_int8_tflite")
    source = yolov8n_onnx(tflite, info.sha256)
    made = yolov8n_int8_onnx(source, info.sha256, DATA_DIR)
    stamp = made.stat().st_mtime_ns
    assert info.sha256[:16] in made.name and made != source
    assert yolov8n_int8_onnx(source, info.sha256, DATA_DIR) == made
    assert made.stat().st_mtime_ns == stamp
    assert not list(made.parent.glob("tmp*"))  # no work folder left behind
