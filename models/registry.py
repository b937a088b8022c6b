"""An explicit registry of model backends, built lazily from the models directory.

``ModelSet`` loads each backend on first use and warms it up once, so a worker that never sees
a video never pays for a model it does not need, and no model loads at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, cast

import numpy as np

from models.types import Image, ModelInfo, PlateDetection, PlateText, Vehicle
from models.weights import resolve


class VehicleDetector(Protocol):
    info: ModelInfo

    def detect(self, image: Image) -> list[Vehicle]: ...


class PlateDetector(Protocol):
    info: ModelInfo

    def detect(self, image: Image) -> list[PlateDetection]: ...


class PlateReader(Protocol):
    info: ModelInfo
    name: str

    def read(self, plate_image: Image, double_layer: bool = False) -> PlateText: ...


class Tracker(Protocol):
    """Follows vehicles through one clip's sampled frames, in order."""

    def update(self, vehicles: list[Vehicle], shape: tuple[int, int]) -> list[Vehicle]: ...


def new_tracker(fps: float) -> Tracker:
    from models.tracker import ByteTrackTracker

    return ByteTrackTracker(fps)


class TextReader(Protocol):
    """Free text in one line (road markings such as 公交专用), not held to the plate grammar."""

    info: ModelInfo

    def read_line(self, image: Image) -> tuple[str, float]: ...


class PlateColourClassifier(Protocol):
    info: ModelInfo

    def classify(self, plate_image: Image) -> tuple[str, float]: ...


def _ultralytics_tflite(models_dir: Path) -> VehicleDetector:
    from models.vehicles import UltralyticsVehicleDetector

    return UltralyticsVehicleDetector(*resolve(models_dir, "yolov8n_int8_tflite"))


def _yolov8n_onnx(models_dir: Path) -> VehicleDetector:
    from models.vehicles_onnx import OnnxYolov8VehicleDetector

    return OnnxYolov8VehicleDetector(*resolve(models_dir, "yolov8n_int8_tflite"))


def _yolov8n_int8_onnx(models_dir: Path) -> VehicleDetector:
    """Calibrated on the dev photos beside the models (``../shared/data`` next to
    ``../shared/models``): models/derive_int8.py."""
    from models.vehicles_onnx import OnnxYolov8VehicleDetector

    weights = resolve(models_dir, "yolov8n_int8_tflite")
    return OnnxYolov8VehicleDetector(*weights, int8_samples=models_dir.parent / "data")


def _yolox_onnx(models_dir: Path) -> VehicleDetector:
    from models.vehicles_yolox import YoloxVehicleDetector

    return YoloxVehicleDetector(*resolve(models_dir, "yolox_nano"))


def _plate_det(size: int) -> Callable[[Path], PlateDetector]:
    def build(models_dir: Path) -> PlateDetector:
        from models.plate_detector import OnnxPlateDetector

        return OnnxPlateDetector(*resolve(models_dir, f"plate_det_{size}"), size=size)

    return build


def _ppocr_onnx(models_dir: Path) -> PlateReader:
    from models.plate_reader import OnnxPlateReader

    return OnnxPlateReader(*resolve(models_dir, "ppocrv4_rec"))


def _ppocr_paddle(models_dir: Path) -> PlateReader:
    from models.plate_reader_paddle import PaddlePlateReader

    graph, _ = resolve(models_dir, "ppocrv4_rec_paddle_graph")
    config, _ = resolve(models_dir, "ppocrv4_rec_paddle_config")
    return PaddlePlateReader(graph, *resolve(models_dir, "ppocrv4_rec_paddle"), config=config)


def _rapidocr(models_dir: Path) -> PlateReader:
    from models.plate_reader_rapidocr import RapidOcrPlateReader

    return RapidOcrPlateReader(*resolve(models_dir, "ppocrv4_rec"))


def _text(models_dir: Path) -> TextReader:
    from models.plate_reader_rapidocr import RapidOcrPlateReader

    return RapidOcrPlateReader(*resolve(models_dir, "ppocrv4_rec"))


def _colour(models_dir: Path) -> PlateColourClassifier:
    from models.plate_reader import OnnxPlateColour

    return OnnxPlateColour(*resolve(models_dir, "plate_colour"))


VEHICLE_DETECTORS: dict[str, Callable[[Path], VehicleDetector]] = {
    "yolov8n_int8_tflite": _ultralytics_tflite,
    "yolov8n_onnx": _yolov8n_onnx,  # the same weights, derived once into ONNX
    "yolov8n_int8_onnx": _yolov8n_int8_onnx,  # the same ONNX in INT8: faster, not equal
    "yolox_nano_onnx": _yolox_onnx,
}
PLATE_DETECTORS: dict[int, Callable[[Path], PlateDetector]] = {
    320: _plate_det(320),
    640: _plate_det(640),
}
PLATE_READERS: dict[str, Callable[[Path], PlateReader]] = {
    "ppocrv4_onnx": _ppocr_onnx,
    "ppocrv4_paddle": _ppocr_paddle,  # needs the optional paddle extra
    "rapidocr": _rapidocr,
}


def parse_province_prior(text: str | None) -> tuple[str, float] | None:
    """``粤:2`` -> ("粤", 2.0): settings' ``plate_province_prior``; None stays off."""
    if not text:
        return None
    province, _, weight = text.partition(":")
    return province, float(weight or 2.0)


class ModelSet:
    """The models one pipeline uses, each built on first use, thread-safe."""

    def __init__(
        self,
        models_dir: Path,
        detector: str = "yolov8n_onnx",
        plate_detector_size: int = 640,
        reader: str = "ppocrv4_onnx",
        province_prior: str | None = None,
    ) -> None:
        self.models_dir = models_dir
        self.province_prior = parse_province_prior(province_prior)
        self._builders: dict[str, Callable[[Path], object]] = {
            "vehicles": VEHICLE_DETECTORS[detector],
            "plates": PLATE_DETECTORS[plate_detector_size],
            "plate_crops": PLATE_DETECTORS[320],
            "reader": PLATE_READERS[reader],
            "colour": _colour,
            "text": _text,
        }
        self._built: dict[str, object] = {}
        self._lock = threading.Lock()

    def _get(self, role: str) -> object:
        with self._lock:
            if role not in self._built:
                self._built[role] = self._builders[role](self.models_dir)
            return self._built[role]

    @property
    def vehicles(self) -> VehicleDetector:
        return cast(VehicleDetector, self._get("vehicles"))

    @property
    def plates(self) -> PlateDetector:
        return cast(PlateDetector, self._get("plates"))

    @property
    def plate_crops(self) -> PlateDetector:
        """The small plate detector, for plates inside one vehicle's box (its crop)."""
        return cast(PlateDetector, self._get("plate_crops"))

    @property
    def reader(self) -> PlateReader:
        reader = self._get("reader")
        if self.province_prior is not None and hasattr(reader, "province_prior"):
            reader.province_prior = self.province_prior  # the CTC readers take a prior
        return cast(PlateReader, reader)

    @property
    def colour(self) -> PlateColourClassifier:
        return cast(PlateColourClassifier, self._get("colour"))

    @property
    def text(self) -> TextReader:
        return cast(TextReader, self._get("text"))

    def warm_up(self) -> None:
        """Load every model and run it once on a blank frame, before real work arrives."""
        blank: Image = np.zeros((480, 640, 3), dtype=np.uint8)
        self.vehicles.detect(blank)
        self.plates.detect(blank)
        self.plate_crops.detect(blank[:240, :320])
        self.reader.read(blank[:48, :168])
        self.colour.classify(blank[:48, :168])
        self.text.read_line(blank[:48, :96])
        new_tracker(1.0).update([], (480, 640))  # imports the tracker's code now

    def infos(self) -> list[ModelInfo]:
        return [
            self.vehicles.info,
            self.plates.info,
            self.plate_crops.info,
            self.reader.info,
            self.colour.info,
        ]
