"""Vehicle detection with YOLOX-Nano through ONNX Runtime (a second, lighter backend).

Input 1x3x416x416 float32, BGR, 0-255 (no normalisation), the image letterboxed top-left and
padded with 114. Output (1, 3549, 85): per anchor point cx, cy, w, h (grid units), objectness,
80 COCO class scores; decoded over strides 8, 16, 32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.onnx import session
from models.types import Image, ModelInfo, Vehicle
from models.vehicles import COCO_VEHICLES, vehicles_from

SIZE = 416


def _grids(size: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    grids, strides = [], []
    for stride in (8, 16, 32):
        n = size // stride
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((n * n, 1), stride))
    return np.concatenate(grids).astype(np.float32), np.concatenate(strides).astype(np.float32)


class YoloxVehicleDetector:
    def __init__(self, path: Path, info: ModelInfo, conf: float = 0.3, iou: float = 0.45) -> None:
        self.info = info
        self.conf = conf
        self.iou = iou
        self._session: Any = session(path)
        self._input = self._session.get_inputs()[0].name
        self._grid, self._stride = _grids(SIZE)
        self._classes = np.array(sorted(COCO_VEHICLES))

    def detect(self, image: Image) -> list[Vehicle]:
        h, w = image.shape[:2]
        scale = min(SIZE / w, SIZE / h)
        canvas = np.full((SIZE, SIZE, 3), 114, np.uint8)
        canvas[: round(h * scale), : round(w * scale)] = cv2.resize(
            image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR
        )
        tensor = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None], dtype=np.float32)
        out = self._session.run(None, {self._input: tensor})[0][0]
        scores = out[:, 4:5] * out[:, 5 + self._classes]
        xy = (out[:, :2] + self._grid) * self._stride / scale
        wh = np.exp(out[:, 2:4]) * self._stride / scale
        centres = np.concatenate([xy, wh], axis=1)
        return vehicles_from(centres, scores, self._classes, image.shape, self.conf, self.iou)
