"""The CUDA path: the same models on ONNX Runtime's CUDA provider give what the CPU gives.
Marked gpu: skipped where ONNX Runtime has no CUDA device (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from models.derive import yolov8n_onnx
from models.registry import PLATE_READERS
from models.weights import resolve
from tests.conftest import DATA_DIR, MODELS_DIR, labels
from workers.frames import read_image

pytestmark = pytest.mark.gpu


def _session(path: object, provider: str) -> Any:
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=[provider])


def test_derived_yolov8n_on_cuda_matches_the_cpu() -> None:
    tflite, info = resolve(MODELS_DIR, "yolov8n_int8_tflite")
    path = yolov8n_onnx(tflite, info.sha256)
    image = cv2.imread(str(MODELS_DIR / "samples" / "hyperlpr_test_img.jpg"))
    tensor = cv2.resize(image, (640, 384))[:, :, ::-1].transpose(2, 0, 1)[None] / 255.0
    tensor = np.ascontiguousarray(tensor, np.float32)
    cpu = _session(path, "CPUExecutionProvider").run(None, {"images": tensor})[0]
    gpu = _session(path, "CUDAExecutionProvider")
    assert "CUDAExecutionProvider" in gpu.get_providers()
    out = gpu.run(None, {"images": tensor})[0]
    np.testing.assert_allclose(out[:, 4:], cpu[:, 4:], atol=2e-3)  # class scores
    # Boxes (cx, cy, w, h in input pixels) where the CPU sees anything: the same, to 0.5 px.
    seen = cpu[0, 4:].max(axis=0) > 0.25
    assert seen.sum() >= 3
    np.testing.assert_allclose(out[0, :4, seen], cpu[0, :4, seen], atol=0.5)


def test_plate_reader_on_cuda_reads_the_real_crops() -> None:
    reader = PLATE_READERS["ppocrv4_onnx"](MODELS_DIR)  # models/onnx.py picks CUDA first
    assert "CUDAExecutionProvider" in reader._session.get_providers()
    rows = [r for r in labels() if r["kind"] == "plate_crop"]
    read = [reader.read(cv2.imread(str(DATA_DIR / r["file"]))).text for r in rows]
    assert sum(t == r["plate_text"] for t, r in zip(read, rows, strict=True)) >= 0.95 * len(rows)


@pytest.mark.parametrize("size", [320, 640])
def test_plate_detector_on_cuda_matches_the_cpu(size: int) -> None:
    """Boxes, corners and scores of the plate detector (whole frame at 640, vehicle crops at
    320) on CUDA against the CPU, on a real street frame."""
    from models.plate_detector import OnnxPlateDetector

    path, info = resolve(MODELS_DIR, f"plate_det_{size}")
    image = cv2.imread(str(MODELS_DIR / "samples" / "hyperlpr_test_img.jpg"))
    cpu = OnnxPlateDetector(path, info, size)
    cpu._session = _session(path, "CPUExecutionProvider")
    gpu = OnnxPlateDetector(path, info, size)  # models/onnx.py picks CUDA first
    assert "CUDAExecutionProvider" in gpu._session.get_providers()
    want, got = cpu.detect(image), gpu.detect(image)
    assert want and len(got) == len(want)
    for a, b in zip(want, got, strict=True):
        assert abs(a.confidence - b.confidence) < 2e-3
        np.testing.assert_allclose(b.box.as_list(), a.box.as_list(), atol=1.0)
        np.testing.assert_allclose(b.corners, a.corners, atol=1.0)


def test_vehicle_detector_on_cuda_matches_the_cpu() -> None:
    """The vehicle detector's boxes, scores and classes on CUDA against the CPU, on a real
    street frame read at 640 and a 1080p one (read at the wide size)."""
    from models.vehicles_onnx import OnnxYolov8VehicleDetector

    tflite, info = resolve(MODELS_DIR, "yolov8n_int8_tflite")
    street = read_image(MODELS_DIR / "samples" / "hyperlpr_test_img.jpg")
    cpu = OnnxYolov8VehicleDetector(tflite, info)
    cpu._session = _session(yolov8n_onnx(tflite, info.sha256), "CPUExecutionProvider")
    gpu = OnnxYolov8VehicleDetector(tflite, info)  # models/onnx.py picks CUDA first
    assert "CUDAExecutionProvider" in gpu._session.get_providers()
    for image in (street, np.asarray(cv2.resize(street, (1920, 1080)), np.uint8)):
        want, got = cpu.detect(image), gpu.detect(image)
        assert want and len(got) == len(want)
        for a, b in zip(want, got, strict=True):
            assert a.kind == b.kind
            assert abs(a.confidence - b.confidence) < 2e-3
            np.testing.assert_allclose(b.box.as_list(), a.box.as_list(), atol=1.0)


def test_plate_reader_on_cuda_matches_the_cpu() -> None:
    """Texts, calibrated confidences and each position's character probabilities of the
    plate reader on CUDA against the CPU, on the real plate crops."""
    from models.plate_reader import OnnxPlateReader

    path, info = resolve(MODELS_DIR, "ppocrv4_rec")
    cpu = OnnxPlateReader(path, info)
    cpu._session = _session(path, "CPUExecutionProvider")
    gpu = OnnxPlateReader(path, info)  # models/onnx.py picks CUDA first
    assert "CUDAExecutionProvider" in gpu._session.get_providers()
    rows = [r for r in labels() if r["kind"] == "plate_crop"]
    for row in rows:
        crop = read_image(DATA_DIR / row["file"])
        a, b = cpu.read(crop), gpu.read(crop)
        assert a.text == b.text and a.valid == b.valid
        assert abs(a.confidence - b.confidence) < 5e-3
        assert len(a.chars) == len(b.chars)
        for x, y in zip(a.chars, b.chars, strict=True):
            assert x[0][0] == y[0][0]
            assert abs(x[0][1] - y[0][1]) < 5e-3
