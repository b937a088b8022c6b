"""PP-OCRv4 through RapidOCR (ONNX Runtime): the same recogniser, decoded as free text.

A second ``PlateReader`` backend for side-by-side comparison: RapidOCR reads any Chinese text,
so its output is normalised and held to the plate grammar afterwards instead of during
decoding. Weights come from the models directory, never from the package's own copies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.grammar import is_valid_plate, normalise
from models.types import Image, ModelInfo, PlateText


class RapidOcrPlateReader:
    name = "rapidocr"

    def __init__(self, rec_path: Path, info: ModelInfo) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self.info = info
        # det/cls are never run (use_det=False); RapidOCR still wants paths for them.
        self._ocr: Any = RapidOCR(
            rec_model_path=str(rec_path),
            det_model_path=str(rec_path.with_name("ch_PP-OCRv4_det_infer.onnx")),
            cls_model_path=str(rec_path.with_name("ch_ppocr_mobile_v2.0_cls_infer.onnx")),
        )

    def read_line(self, image: Image) -> tuple[str, float]:
        """One line of free text and its confidence ("" when nothing is read)."""
        result, _ = self._ocr(image, use_det=False, use_cls=False)
        if not result:
            return "", 0.0
        return str(result[0][0]), float(result[0][1])

    def read(self, plate_image: Image, double_layer: bool = False) -> PlateText:
        if double_layer:
            h = plate_image.shape[0]
            top, c1 = self.read_line(plate_image[: int(h * 0.4)])
            bottom, c2 = self.read_line(plate_image[int(h * 0.36) :])
            raw, confidence = top + bottom, min(c1, c2)
        else:
            raw, confidence = self.read_line(plate_image)
        text = normalise(raw)
        return PlateText(text, confidence, is_valid_plate(text))
