"""Plate reading: rectify a detected plate by its corners, read it with PP-OCRv4.

The recogniser is a general Chinese text model; decoding is constrained to the plate alphabet
(and the first character to a province), and a read that breaks the plate grammar is marked
invalid, so it is never reported as a plate. The network runs on ONNX Runtime here, or on
Paddle Inference (models/plate_reader_paddle.py); everything around it is shared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from models.calibration import calibrated, features, image_quality
from models.ctc import decode_slots_at, plate_slots
from models.grammar import PLATE_ALPHABET, PROVINCES, is_valid_plate, normalise
from models.onnx import session
from models.plate_views import FIRST_VIEW, MORE_VIEWS, Probs, batch, fuse, visible_steps
from models.types import Alternatives, Image, ModelInfo, PlateDetection, PlateText

SINGLE_SIZE = (168, 48)
MAX_WIDTH = 640
DOUBLE_SIZE = (220, 110)
COLOURS = ("blue", "green", "yellow")
SHAPE_SLACK = 3.0
SHAPE_MIN_CONFIDENCE = 0.5
CLEAR_READ = 0.97
"""A first read (of the grey view) this confident (mean character probability) is kept
without the other views; at 0.9 the degraded dev set falls by about 4 points, at 0.99 it
gains one read of 206 (benchmarks/plates.py)."""
CLEAR_CHAR = 0.9
"""... and none of its characters below this: a read with one doubtful character is checked
against the other views, so its ``agreement`` says whether they saw the same."""


def rectify(image: Image, plate: PlateDetection) -> Image:
    """The plate warped flat by its four corners (168x48, or 220x110 for two rows)."""
    w, h = DOUBLE_SIZE if plate.double_layer else SINGLE_SIZE
    src = np.array(plate.corners, dtype=np.float32)
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_CUBIC)
    return np.asarray(warped, dtype=np.uint8)


class CtcPlateReader:
    """PP-OCRv4 mobile recogniser with plate-constrained CTC decoding; a subclass runs the
    network (``_infer``: a batch of 1x3x48xW tensors to per-step character probabilities).

    Every read carries, per position, the top three characters the position allows (province,
    letter, letter/digit/suffix) and a confidence calibrated to the chance that the whole
    plate is right. No province is favoured unless a deployment sets ``province_prior``."""

    name = ""

    def __init__(self, characters: list[str], info: ModelInfo) -> None:
        self.info = info
        self._charset = ["", *characters, " "]  # CTC blank first, PP-OCR's space last
        allowed = [i for i, c in enumerate(self._charset) if c in PLATE_ALPHABET]
        self._allowed = np.array([0, *allowed])
        self._province = np.array([i for i, c in enumerate(self._charset) if c and c in PROVINCES])
        self._slots = plate_slots(self._charset)
        seven = self._slots[7]
        self._position_sets = (seven[0], seven[1], seven[6])  # province, letter, the rest
        self.province_prior: tuple[str, float] | None = None
        """(province, weight): the deployment's own province counts ``weight`` times as likely
        before reading (Shenzhen: ("粤", 2.0)); None (the default) favours none."""

    def _infer(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        raise NotImplementedError

    def _probs(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The network's per-step probabilities, with the province prior applied if set."""
        probs = self._infer(batch)
        if self.province_prior is None:
            return probs
        province, weight = self.province_prior
        index = self._charset.index(province)
        probs = probs.copy()
        probs[:, :, index] *= weight
        return np.asarray(probs / probs.sum(axis=2, keepdims=True), np.float32)

    def _tensor(self, crop: Image) -> npt.NDArray[np.float32]:
        """PP-OCR's own input: height 48, aspect kept, zero-padded on the right to at least
        320 wide (the shape the model was trained on; stretching a short plate misleads it)."""
        h, w = crop.shape[:2]
        width = max(16, min(MAX_WIDTH, math.ceil(48 * w / h)))
        resized = cv2.resize(crop, (width, 48)).astype(np.float32)
        tensor = np.zeros((1, 3, 48, max(320, width)), np.float32)
        tensor[0, :, :, :width] = ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
        return tensor

    def _position_set(self, position: int, first_is_province: bool) -> npt.NDArray[np.int64]:
        if not first_is_province:
            return self._position_sets[2]
        return self._position_sets[min(position, 2)]

    def _alternatives(
        self, row: npt.NDArray[np.float32], chosen: int, allowed: npt.NDArray[np.int64]
    ) -> Alternatives:
        """The top three of the characters this position allows, at the step where the chosen
        one peaks, as shares of those characters' probability (the chosen one first)."""
        share = row[allowed].astype(np.float64)
        share /= max(float(share.sum()), 1e-9)
        order = [int(i) for i in np.argsort(-share)[:3]]
        picked = [(self._charset[int(allowed[i])], float(share[i])) for i in order]
        if self._charset[chosen] != picked[0][0]:  # the path chose a runner-up: it goes first
            where = np.flatnonzero(allowed == chosen)
            p = float(share[where[0]]) if where.size else 0.0
            rest = [a for a in picked if a[0] != self._charset[chosen]]
            picked = [(self._charset[chosen], p), *rest[:2]]
        return tuple(picked)

    def _decode(
        self, probs: npt.NDArray[np.float32], first_is_province: bool
    ) -> tuple[str, float, tuple[Alternatives, ...]]:
        masked = probs[:, self._allowed]
        best = self._allowed[masked.argmax(axis=1)]
        text: list[str] = []
        spans: list[tuple[int, int, int]] = []  # (charset index, first step, last step)
        previous = 0
        for t, index in enumerate(best):
            if index != 0 and index != previous:
                if first_is_province and not text and self._charset[index] not in PROVINCES:
                    index = self._province[probs[t, self._province].argmax()]
                text.append(self._charset[index])
                spans.append((int(index), t, t))
            elif index != 0 and spans:
                spans[-1] = (spans[-1][0], spans[-1][1], t)
            previous = index
        chars, peaks = [], []
        for position, (index, first, last) in enumerate(spans):
            t = first + int(probs[first : last + 1, index].argmax())
            peaks.append(float(probs[t, index]))
            allowed = self._position_set(position, first_is_province)
            chars.append(self._alternatives(probs[t], index, allowed))
        return "".join(text), float(np.mean(peaks)) if peaks else 0.0, tuple(chars)

    def _read_line(
        self, crop: Image, first_is_province: bool
    ) -> tuple[str, float, tuple[Alternatives, ...]]:
        probs = self._probs(self._tensor(crop))[0]
        return self._decode(probs, first_is_province)

    def _read_top_row(self, plate_image: Image) -> tuple[str, float, tuple[Alternatives, ...]]:
        """The top row of a two-row plate holds exactly a province and a letter, spread wide
        with a gap; several crops are read and the best two-character read wins."""
        h, w = plate_image.shape[:2]
        best: tuple[str, float, tuple[Alternatives, ...]] = ("", 0.0, ())
        for bottom in (0.35, 0.38, 0.42):
            row = plate_image[: int(h * bottom), int(w * 0.11) : int(w * 0.89)]
            squeezed = np.asarray(cv2.resize(row, None, fx=0.6, fy=1.0), dtype=np.uint8)
            read = self._read_line(squeezed, True)
            fits = len(read[0]) == 2 and read[0][0] in PROVINCES
            if (fits, read[1]) > (len(best[0]) == 2, best[1]):
                best = read
        return best

    def read(self, plate_image: Image, double_layer: bool = False) -> PlateText:
        """Read a rectified plate image (see :func:`rectify`)."""
        return self.read_many([(plate_image, double_layer)])[0]

    def read_many(self, plates: Sequence[tuple[Image, bool]]) -> list[PlateText]:
        """Read several rectified plates ``(image, double_layer)``: the first views of all the
        one-row plates go to the network in one batch, the further views of those not read
        clearly in a second; each read is the one :meth:`read` gives alone."""
        out: list[PlateText | None] = [None] * len(plates)
        single = [n for n, (_, double) in enumerate(plates) if not double]
        for n, (image, double) in enumerate(plates):
            if double:
                out[n] = self._read_double(image)
        firsts = self._infer_each([FIRST_VIEW(plates[n][0]) for n in single])
        unsure: list[tuple[int, Probs, tuple[float, ...]]] = []
        for n, first in zip(single, firsts, strict=True):
            quality = image_quality(plates[n][0])
            text, sureness, chars = self._decode(first, True)
            read = self._plate(text, chars, quality)
            if read.valid and sureness >= CLEAR_READ and read.lowest_char >= CLEAR_CHAR:
                out[n] = read  # a clear plate needs no second look (most frames of a clip)
            else:
                unsure.append((n, first, quality))
        more = self._infer_each([view(plates[n][0]) for n, _, _ in unsure for view in MORE_VIEWS])
        for k, (n, first, seen) in enumerate(unsure):
            views = [first, *more[k * len(MORE_VIEWS) : (k + 1) * len(MORE_VIEWS)]]
            out[n] = self._combine(plates[n][0], views, seen)
        return [read if read is not None else self._plate("", (), ()) for read in out]

    def _infer_each(self, images: Sequence[Image]) -> list[Probs]:
        """Per image, the network's per-step probabilities: one call per input width (images
        of one width share a batch; padding a plate wider than it is would change its read)."""
        tensors = [self._tensor(image) for image in images]
        found: list[Probs | None] = [None] * len(tensors)
        for width in sorted({t.shape[3] for t in tensors}):
            which = [n for n, t in enumerate(tensors) if t.shape[3] == width]
            probs = self._probs(batch([tensors[n] for n in which]))
            for k, n in enumerate(which):
                found[n] = probs[k]
        return [p for p in found if p is not None]

    def _read_double(self, plate_image: Image) -> PlateText:
        """A two-row plate: its top row (province, letter) and bottom row read apart, from
        the first view (grey: see models/plate_views.py)."""
        view = FIRST_VIEW(plate_image)
        top, _, top_chars = self._read_top_row(view)
        bottom, _, bottom_chars = self._read_line(view[int(view.shape[0] * 0.36) :], False)
        return self._plate(top + bottom, (*top_chars, *bottom_chars), image_quality(plate_image))

    def _plate(
        self,
        raw: str,
        chars: tuple[Alternatives, ...],
        quality: tuple[float, ...],
        agreement: float = 1.0,
    ) -> PlateText:
        text = normalise(raw)
        valid = is_valid_plate(text)
        if len(chars) != len(text):
            chars = ()
        seen = features(chars, agreement, quality) if chars else ()
        confidence = calibrated(seen) if valid else 0.0
        return PlateText(text, confidence, valid, chars, agreement, seen)

    def _combine(
        self, plate_image: Image, views: list[Probs], quality: tuple[float, ...]
    ) -> PlateText:
        """One read from several views of a plate (models/plate_views.py): their per-step
        probabilities averaged, then decoded; ``agreement`` is the share of the views that
        read the same on their own. If the average does not read as a plate, the surest view
        that does; if none does, decoding held to the plate's shape tries the average.
        Measured with benchmarks/plates.py --degrade: see docs/plates.md."""
        steps = visible_steps(plate_image.shape, views[0].shape[0], MAX_WIDTH)
        fused = fuse(views, steps)
        decoded = [self._decode(v, True) for v in views]
        texts = [normalise(d[0]) for d in decoded]
        text, _, chars = self._decode(fused, True)
        read = self._plate(text, chars, quality, texts.count(normalise(text)) / len(texts))
        if read.valid:
            return read
        sure = max(range(len(views)), key=lambda n: (is_valid_plate(texts[n]), decoded[n][1]))
        if is_valid_plate(texts[sure]):
            agreement = texts.count(texts[sure]) / len(texts)
            return self._plate(decoded[sure][0], decoded[sure][2], quality, agreement)
        return self._read_as_plate(fused, quality) or read

    def _read_as_plate(
        self, probs: npt.NDArray[np.float32], quality: tuple[float, ...]
    ) -> PlateText | None:
        """When no view reads as a plate: the most probable alignment of the views' mean that
        emits a plate's 7 or 8 characters, one per position (see models/ctc.py), provided it
        is nearly as probable as the model's own best path (within SHAPE_SLACK nats) and its
        characters are clear, so texture that holds no plate is never forced into one."""
        found = []
        best_path = float(np.log(probs[:, self._allowed].max(axis=1) + 1e-9).sum())
        for slots in self._slots.values():
            decoded = decode_slots_at(probs, slots)
            if decoded is None:
                continue
            indices, score, confidence, steps = decoded
            if best_path - score > SHAPE_SLACK or confidence < SHAPE_MIN_CONFIDENCE:
                continue
            text = normalise("".join(self._charset[i] for i in indices))
            if is_valid_plate(text):
                chars = tuple(
                    self._alternatives(probs[t], i, allowed)
                    for t, i, allowed in zip(steps, indices, slots, strict=True)
                )
                found.append((score, text, chars))
        if not found:
            return None
        _, text, chars = max(found, key=lambda f: f[0])
        return self._plate(text, chars, quality, agreement=0.0)  # no view read it as a plate


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
