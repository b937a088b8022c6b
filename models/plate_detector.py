"""HyperLPR3 plate detector (y5fu ONNX): plate boxes, four corners, single or double layer.

Input 1x3xSxS float32 RGB /255, the image letterboxed to SxS, centred, padded black.
Output (1, N, 15): cx, cy, w, h, objectness, 4 corners (x, y), single-layer and double-layer
scores. Score = objectness x class score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.onnx import session
from models.types import Box, Image, ModelInfo, PlateDetection


class OnnxPlateDetector:
    def __init__(self, path: Path, info: ModelInfo, size: int, threshold: float = 0.5) -> None:
        self.info = info
        self.size = size
        self.threshold = threshold
        self._session: Any = session(path)
        self._input = self._session.get_inputs()[0].name

    def _letterbox(self, image: Image) -> tuple[npt.NDArray[np.float32], float, float, float]:
        h, w = image.shape[:2]
        scale = min(self.size / w, self.size / h)
        nw, nh = round(w * scale), round(h * scale)
        pad_x, pad_y = (self.size - nw) // 2, (self.size - nh) // 2
        canvas = np.zeros((self.size, self.size, 3), dtype=np.uint8)
        canvas[pad_y : pad_y + nh, pad_x : pad_x + nw] = cv2.resize(image, (nw, nh))
        rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)
        # the bytes laid out in planes first, then one float pass (the same tensor, faster)
        tensor = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]).astype(np.float32)
        tensor /= 255.0
        return tensor, scale, float(pad_x), float(pad_y)

    def detect(self, image: Image) -> list[PlateDetection]:
        tensor, scale, pad_x, pad_y = self._letterbox(image)
        rows = self._session.run(None, {self._input: tensor})[0][0]
        cls_scores = rows[:, 13:15]
        scores = rows[:, 4] * cls_scores.max(axis=1)
        rows, scores, layer = (
            rows[scores > self.threshold],
            scores[scores > self.threshold],
            (cls_scores[scores > self.threshold].argmax(axis=1)),
        )
        if len(rows) == 0:
            return []
        xywh = rows[:, :4]
        boxes = np.stack(
            [
                xywh[:, 0] - xywh[:, 2] / 2,
                xywh[:, 1] - xywh[:, 3] / 2,
                xywh[:, 0] + xywh[:, 2] / 2,
                xywh[:, 1] + xywh[:, 3] / 2,
            ],
            axis=1,
        )
        keep = cv2.dnn.NMSBoxes(
            [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
            [float(s) for s in scores],
            self.threshold,
            0.5,
        )
        h, w = image.shape[:2]
        found = []
        for i in np.array(keep).reshape(-1):
            x1, y1, x2, y2 = ((boxes[i] - [pad_x, pad_y, pad_x, pad_y]) / scale).tolist()
            pts = (rows[i, 5:13].reshape(4, 2) - [pad_x, pad_y]) / scale
            corners = tuple(
                (float(np.clip(x, 0, w - 1)), float(np.clip(y, 0, h - 1))) for x, y in pts
            )
            found.append(
                PlateDetection(
                    box=Box(max(0.0, x1), max(0.0, y1), min(w - 1.0, x2), min(h - 1.0, y2)),
                    corners=corners,
                    double_layer=bool(layer[i] == 1),
                    confidence=float(scores[i]),
                )
            )
        return sorted(found, key=lambda d: -d.confidence)
