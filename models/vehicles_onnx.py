"""Vehicle detection with YOLOv8n on ONNX Runtime, from the ONNX derived out of the shipped
TFLite weights (models/derive.py): the same network, letterboxed to the frame's own aspect
(a 1920x1080 frame is read at 640x384, not padded to 640x640), ultralytics' pre- and
post-processing (RGB 0..1, grey 114 padding, class-agnostic NMS at IoU 0.7).

A frame at least ``WIDE`` pixels wide (720p, 1080p) is read at ``WIDE_SIZE`` on its long side:
a 1080p frame at 512x288 (no padding rows) costs 0.6 of 640x384, and a vehicle large enough to
carry a readable plate (96 px wide at 1080p, ``workers.sightings.MIN_PLATE_VEHICLE_PX``) is
still 25 px wide there. The rule suites (rendered and real) and the throughput benchmark's
plates are the same as at 640.

``int8``: the INT8 version of the same ONNX (models/derive_int8.py), about twice as fast on a
CPU, not quite the same answers; a GPU keeps the float file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models.derive import yolov8n_onnx
from models.derive_int8 import yolov8n_int8_onnx
from models.onnx import cuda, session
from models.types import Image, ModelInfo, Vehicle
from models.vehicles import COCO_VEHICLES, vehicles_from

STRIDE = 32
WIDE = 1280
WIDE_SIZE = 512


class OnnxYolov8VehicleDetector:
    def __init__(
        self,
        tflite: Path,
        info: ModelInfo,
        conf: float = 0.25,
        iou: float = 0.7,
        size: int = 640,
        wide_size: int | None = WIDE_SIZE,
        int8_samples: Path | None = None,
    ) -> None:
        """``wide_size``: the long side a frame at least ``WIDE`` wide is read at (None: at
        ``size`` like any other frame); ``int8_samples``: run the INT8 version on a CPU,
        calibrated on the dev frames in this folder (None: the float file)."""
        path = yolov8n_onnx(tflite, info.sha256)
        name = "yolov8n_onnx"
        if int8_samples is not None and not cuda():
            path, name = yolov8n_int8_onnx(path, info.sha256, int8_samples), "yolov8n_int8_onnx"
        self.info = ModelInfo(name, info.file, info.sha256)  # derived from this file
        self.conf, self.iou, self.size, self.wide_size = conf, iou, size, wide_size
        self._session: Any = session(path)
        self._classes = np.array(sorted(COCO_VEHICLES))

    def detect(self, image: Image) -> list[Vehicle]:
        h, w = image.shape[:2]
        wide = w >= WIDE and self.wide_size is not None
        size = min(self.size, self.wide_size or self.size) if wide else self.size
        scale = min(size / w, size / h)
        rw, rh = round(w * scale), round(h * scale)
        cw, ch = (math.ceil(v / STRIDE) * STRIDE for v in (rw, rh))
        left, top = (cw - rw) // 2, (ch - rh) // 2
        canvas = np.full((ch, cw, 3), 114, np.uint8)
        canvas[top : top + rh, left : left + rw] = cv2.resize(
            image, (rw, rh), interpolation=cv2.INTER_LINEAR
        )
        # the bytes laid out first (RGB planes), then one float pass: the same tensor as
        # converting the strided view, in a sixth of the time
        tensor = np.ascontiguousarray(canvas[:, :, ::-1].transpose(2, 0, 1)[None])
        tensor = tensor.astype(np.float32)
        tensor /= 255.0
        out = self._session.run(None, {"images": tensor})[0][0]
        centres = (out[:4].T - [left, top, 0, 0]) / scale
        scores = out[4 + self._classes].T
        return vehicles_from(centres, scores, self._classes, image.shape, self.conf, self.iou)
