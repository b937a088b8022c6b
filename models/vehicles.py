"""Vehicle detection with ultralytics YOLO on the shipped YOLOv8n INT8 TFLite weights."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.types import Box, Image, ModelInfo, Vehicle

COCO_VEHICLES = {2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}


def vehicles_from(
    centres: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    classes: npt.NDArray[np.int64],
    shape: tuple[int, ...],
    conf: float,
    iou: float,
) -> list[Vehicle]:
    """Vehicles from per-anchor boxes (cx, cy, w, h in image pixels) and class scores (one
    column per entry of ``classes``, COCO ids): best class above ``conf``, class-agnostic NMS,
    boxes clipped to the image, most confident first."""
    best = scores.argmax(axis=1)
    score = scores[np.arange(len(scores)), best]
    keep = score > conf
    if not keep.any():
        return []
    (cx, cy, bw, bh), score, best = centres[keep].T, score[keep], best[keep]
    xywh = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], axis=1)
    chosen = cv2.dnn.NMSBoxes(xywh.tolist(), score.tolist(), conf, iou)
    h, w = shape[:2]
    found = []
    for i in np.array(chosen).reshape(-1):
        x, y, width, height = xywh[i].tolist()
        box = Box(max(0.0, x), max(0.0, y), min(w - 1.0, x + width), min(h - 1.0, y + height))
        found.append(Vehicle(box, COCO_VEHICLES[int(classes[best[i]])], float(score[i])))
    return sorted(found, key=lambda v: -v.confidence)


def offline_ultralytics() -> None:
    """Never let ultralytics reach for the network or write settings into $HOME."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault(
        "YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "roadwitness-ultralytics")
    )


class UltralyticsVehicleDetector:
    def __init__(self, path: Path, info: ModelInfo, conf: float = 0.25, imgsz: int = 640) -> None:
        offline_ultralytics()
        from ultralytics import YOLO  # type: ignore[attr-defined]
        from ultralytics.nn.backends import litert

        # ultralytics gives LiteRT one core less than the machine has (it keeps one for data
        # loader workers when training); a worker has nothing else running while it detects,
        # and on 2 cores the second thread makes detection 1.7x faster (374 -> 217 ms here).
        litert.NUM_THREADS = os.cpu_count() or 1  # type: ignore[attr-defined]
        self.info = info
        self.conf = conf
        self.imgsz = imgsz
        self._model: Any = YOLO(str(path), task="detect")

    def detect(self, image: Image) -> list[Vehicle]:
        result = self._model.predict(
            image,
            imgsz=self.imgsz,
            conf=self.conf,
            classes=list(COCO_VEHICLES),
            agnostic_nms=True,  # one vehicle seen as car and bus is one box, not two
            verbose=False,
        )[0]
        boxes = result.boxes
        found = [
            Vehicle(Box(*map(float, xyxy)), COCO_VEHICLES[int(cls)], float(conf))
            for xyxy, cls, conf in zip(
                boxes.xyxy.tolist(), boxes.cls.tolist(), boxes.conf.tolist(), strict=True
            )
        ]
        return sorted(found, key=lambda v: -v.confidence)
