"""Plate reading: rectify a detected plate by its corners, read it with PP-OCRv4.

The recogniser is a general Chinese text model; decoding is constrained to the plate alphabet
(and the first character to a province), and a read that breaks the plate grammar is marked
invalid, so it is never reported as a plate. The network runs on ONNX Runtime here, or on
Paddle Inference (models/plate_reader_paddle.py); everything around it is shared.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.ctc import decode_slots, plate_slots
from models.grammar import PLATE_ALPHABET, PROVINCES, is_valid_plate, normalise
from models.onnx import session
from models.types import Image, ModelInfo, PlateDetection, PlateText

SINGLE_SIZE = (168, 48)
MAX_WIDTH = 640
DOUBLE_SIZE = (220, 110)
COLOURS = ("blue", "green", "yellow")
SHAPE_SLACK = 3.0
SHAPE_MIN_CONFIDENCE = 0.5
CLEAR_READ = 0.97
"""A plain read this confident is kept without the other views: the same reads as always
looking three times (benchmarks/plates.py --degrade: 100 % clean, 82.4 % degraded), at
50 instead of 112 ms per clean image; at 0.9 the degraded set fell to 80 %."""


def rectify(image: Image, plate: PlateDetection) -> Image:
    """The plate warped flat by its four corners (168x48, or 220x110 for two rows)."""
    w, h = DOUBLE_SIZE if plate.double_layer else SINGLE_SIZE
    src = np.array(plate.corners, dtype=np.float32)
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_CUBIC)
    return np.asarray(warped, dtype=np.uint8)


def _restore_contrast(image: Image) -> Image:
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    clahe = cv2.createCLAHE(clipLimit=2.5, tileGridSize=(2, 6))
    lab[:, :, 0] = clahe.apply(lab[:, :, 0])
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), np.uint8)


class CtcPlateReader:
    """PP-OCRv4 mobile recogniser with plate-constrained CTC decoding; a subclass runs the
    network (``_infer``: a batch of 1x3x48xW tensors to per-step character probabilities)."""

    name = ""

    def __init__(self, characters: list[str], info: ModelInfo) -> None:
        self.info = info
        self._charset = ["", *characters, " "]  # CTC blank first, PP-OCR's space last
        allowed = [i for i, c in enumerate(self._charset) if c in PLATE_ALPHABET]
        self._allowed = np.array([0, *allowed])
        self._province = np.array([i for i, c in enumerate(self._charset) if c and c in PROVINCES])
        self._slots = plate_slots(self._charset)

    def _infer(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        raise NotImplementedError

    def _tensor(self, crop: Image) -> npt.NDArray[np.float32]:
        """PP-OCR's own input: height 48, aspect kept, zero-padded on the right to at least
        320 wide (the shape the model was trained on; stretching a short plate misleads it)."""
        h, w = crop.shape[:2]
        width = max(16, min(MAX_WIDTH, math.ceil(48 * w / h)))
        resized = cv2.resize(crop, (width, 48)).astype(np.float32)
        tensor = np.zeros((1, 3, 48, max(320, width)), np.float32)
        tensor[0, :, :, :width] = ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
        return tensor

    def _decode(self, probs: npt.NDArray[np.float32], first_is_province: bool) -> tuple[str, float]:
        masked = probs[:, self._allowed]
        best = self._allowed[masked.argmax(axis=1)]
        text: list[str] = []
        confidences: list[float] = []
        previous = 0
        for t, index in enumerate(best):
            if index != 0 and index != previous:
                if first_is_province and not text and self._charset[index] not in PROVINCES:
                    index = self._province[probs[t, self._province].argmax()]
                text.append(self._charset[index])
                confidences.append(float(probs[t, index]))
            previous = index
        return "".join(text), float(np.mean(confidences)) if confidences else 0.0

    def _read_line(self, crop: Image, first_is_province: bool) -> tuple[str, float]:
        probs = self._infer(self._tensor(crop))[0]
        return self._decode(probs, first_is_province)

    def _read_top_row(self, plate_image: Image) -> tuple[str, float]:
        """The top row of a two-row plate holds exactly a province and a letter, spread wide
        with a gap; several crops are read and the best two-character read wins."""
        h, w = plate_image.shape[:2]
        best = ("", 0.0)
        for bottom in (0.35, 0.38, 0.42):
            row = plate_image[: int(h * bottom), int(w * 0.11) : int(w * 0.89)]
            squeezed = np.asarray(cv2.resize(row, None, fx=0.6, fy=1.0), dtype=np.uint8)
            text, confidence = self._read_line(squeezed, True)
            fits = len(text) == 2 and text[0] in PROVINCES
            if (fits, confidence) > (len(best[0]) == 2, best[1]):
                best = (text, confidence)
        return best

    def read(self, plate_image: Image, double_layer: bool = False) -> PlateText:
        """Read a rectified plate image (see :func:`rectify`)."""
        if double_layer:
            h = plate_image.shape[0]
            top, top_conf = self._read_top_row(plate_image)
            bottom, bottom_conf = self._read_line(plate_image[int(h * 0.36) :], False)
            raw, confidence = top + bottom, min(top_conf, bottom_conf)
        else:
            return self._read_single(plate_image)
        text = normalise(raw)
        return PlateText(text=text, confidence=confidence, valid=is_valid_plate(text))

    def _read_single(self, plate_image: Image) -> PlateText:
        """Read the plate as it is; unless that read is clear (CLEAR_READ), read it again with
        its contrast restored (dusk, haze) and smoothed (compression blocks), in one batch; the
        most confident read that fits the grammar wins; if none reads as a plate, decoding
        held to the plate's shape tries again.
        Measured with benchmarks/plates.py --degrade: 72 % -> 81 % (views) -> 83 % (shape),
        clean 100 %."""
        first = self._infer(self._tensor(plate_image))
        plain = self._as_read(first[0])
        if plain.valid and plain.confidence >= CLEAR_READ:
            return plain  # a clear plate needs no second look (most frames of a clip)
        smooth = np.asarray(cv2.GaussianBlur(plate_image, (3, 3), 0), np.uint8)
        views = [_restore_contrast(plate_image), smooth]
        probs = np.concatenate(
            [first, self._infer(np.concatenate([self._tensor(v) for v in views]))]
        )
        reads = [plain, *(self._as_read(p) for p in probs[1:])]
        best = max(reads, key=lambda r: (r.valid, r.confidence))
        if best.valid:
            return best
        h, w = plate_image.shape[:2]
        width = min(MAX_WIDTH, math.ceil(48 * w / h))  # the steps that see the plate, not padding
        steps = math.ceil(probs.shape[1] * width / max(320, width)) + 1
        return self._read_as_plate(probs[:, :steps].mean(axis=0)) or best

    def _as_read(self, probs: npt.NDArray[np.float32]) -> PlateText:
        raw, confidence = self._decode(probs, True)
        text = normalise(raw)
        return PlateText(text, confidence, is_valid_plate(text))

    def _read_as_plate(self, probs: npt.NDArray[np.float32]) -> PlateText | None:
        """When no view reads as a plate: the most probable alignment of the views' mean that
        emits a plate's 7 or 8 characters, one per position (see models/ctc.py), provided it
        is nearly as probable as the model's own best path (within SHAPE_SLACK nats) and its
        characters are clear, so texture that holds no plate is never forced into one."""
        found = []
        best_path = float(np.log(probs[:, self._allowed].max(axis=1) + 1e-9).sum())
        for slots in self._slots.values():
            decoded = decode_slots(probs, slots)
            if decoded is None:
                continue
            indices, score, confidence = decoded
            if best_path - score > SHAPE_SLACK or confidence < SHAPE_MIN_CONFIDENCE:
                continue
            text = normalise("".join(self._charset[i] for i in indices))
            if is_valid_plate(text):
                found.append((score, text, confidence))
        if not found:
            return None
        _, text, confidence = max(found)
        return PlateText(text, confidence, True)


class OnnxPlateReader(CtcPlateReader):
    """The recogniser on ONNX Runtime (CPU, or CUDA where a GPU build is installed)."""

    name = "ppocrv4_onnx"

    def __init__(self, path: Path, info: ModelInfo) -> None:
        self._session: Any = session(path)
        self._input = self._session.get_inputs()[0].name
        meta = self._session.get_modelmeta().custom_metadata_map
        super().__init__(meta["character"].splitlines(), info)

    def _infer(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return np.asarray(self._session.run(None, {self._input: batch})[0], np.float32)


class OnnxPlateColour:
    """HyperLPR3 colour classifier: blue, green or yellow (it knows no white or black)."""

    def __init__(self, path: Path, info: ModelInfo) -> None:
        self.info = info
        self._session: Any = session(path)
        self._input = self._session.get_inputs()[0].name

    def classify(self, plate_image: Image) -> tuple[str, float]:
        x = (cv2.resize(plate_image, (96, 96)).astype(np.float32) / 255.0).transpose(2, 0, 1)
        scores = self._session.run(None, {self._input: np.ascontiguousarray(x[None])})[0][0]
        index = int(np.argmax(scores))
        return COLOURS[index], float(scores[index])
