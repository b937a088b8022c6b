"""One cheap pass over a submission's media for the anti-fraud checks: every decoded frame
shrunk to a small grey thumbnail with its presentation time, and the container's tags.

Small thumbnails are enough: perceptual hashes work on 32x32 pixels, and splices and
duplicated frames show in the difference of consecutive thumbnails. Keeping every frame (not a
sample) is what lets a repeated or missing frame be seen at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from workers.clock import STRIP_SHARE, STRIP_WIDTH, Changes, strip_changes

THUMB = 64
"""Thumbnail side in pixels (square: the hash ignores the aspect ratio anyway)."""
MAX_SECONDS = 120.0
"""Only the first two minutes are scanned: enough to recognise re-used footage."""

Gray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Scan:
    kind: str
    """image or video."""
    times: tuple[float, ...]
    """Presentation time of each frame, seconds from the stream's start (0.0 for a photo)."""
    thumbs: tuple[Gray, ...]
    tags: dict[str, str] = field(default_factory=dict)
    """Container and stream tags (encoder, handler_name, major_brand, ...), lower-case keys."""
    declared_fps: float = 0.0
    caption_changes: Changes = field(default_factory=lambda: np.zeros((0, 0), np.float16))
    """Per frame, the change of each cell of the caption strips since the frame before
    (``workers.clock``: the burned-in clock); empty for a photo."""


def _thumb(image: npt.NDArray[np.uint8]) -> Gray:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return np.ascontiguousarray(cv2.resize(gray, (THUMB, THUMB), interpolation=cv2.INTER_AREA))


PHOTO_REGIONS = (1.0, 0.8, 0.6)
"""A photo is hashed whole and in its central 80 % and 60 %: one 64-bit hash is too little
evidence among a million photos, and a caption or a cropped edge spares the centre."""


def scan_image(image: npt.NDArray[np.uint8]) -> Scan:
    h, w = image.shape[:2]
    regions = []
    for keep in PHOTO_REGIONS:
        dy, dx = int(h * (1 - keep) / 2), int(w * (1 - keep) / 2)
        regions.append(_thumb(np.ascontiguousarray(image[dy : h - dy, dx : w - dx])))
    return Scan("image", (0.0,) * len(regions), tuple(regions))


def scan_file(path: Path, kind: str, max_seconds: float = MAX_SECONDS) -> Scan:
    """Thumbnails of a photo or of every frame of a video's first ``max_seconds``."""
    if kind == "image":
        image = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{path} cannot be decoded as an image")
        return scan_image(np.asarray(image, np.uint8))
    return _scan_video(path, max_seconds)


def _tags(metadata: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in dict(metadata or {}).items()}


class VideoScanner:
    """Builds a video's :class:`Scan` from a decoding pass (a :class:`DecodeWatcher`): the
    pipeline's own pass in a job, so the checks cost no second decode, or its own pass."""

    def __init__(self, max_seconds: float = MAX_SECONDS) -> None:
        self.max_seconds = max_seconds
        self.times: list[float] = []
        self.thumbs: list[Gray] = []
        self.tags: dict[str, str] = {}
        self.fps = 0.0
        self.changes: list[npt.NDArray[np.float16]] = []
        self._strips: Gray | None = None

    def opened(self, container: Any, stream: Any) -> None:
        self.tags = {**_tags(stream.metadata), **_tags(container.metadata)}
        self.fps = float(stream.average_rate or stream.guessed_rate or 0)

    def decoded(self, t: float, frame: Any) -> None:
        if t > self.max_seconds:
            return
        gray = frame.to_ndarray(width=THUMB, height=THUMB, format="gray")
        self.times.append(t)
        self.thumbs.append(np.ascontiguousarray(np.asarray(gray, np.uint8)))
        strips = _strips(frame)
        self.changes.append(strip_changes(self._strips, strips))
        self._strips = strips

    def scan(self) -> Scan:
        widths = {len(c) for c in self.changes}
        changes = (
            np.stack(self.changes) if len(widths) == 1 else np.zeros((0, 0), np.float16)
        )  # a picture that changed size mid-clip: no clock is followed across it
        return Scan("video", tuple(self.times), tuple(self.thumbs), self.tags, self.fps, changes)


def _strips(frame: Any) -> Gray:
    """The top and bottom ``STRIP_SHARE`` of the picture, grey, ``STRIP_WIDTH`` wide: cut from
    the decoded luma plane as it is (no conversion of the whole picture), else converted."""
    h, w = int(frame.height), int(frame.width)
    if str(frame.format.name).startswith(("yuv", "yuvj", "nv12", "nv21")):
        plane = frame.planes[0]
        luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:h, :w]
    else:
        luma = np.asarray(frame.to_ndarray(format="gray"), np.uint8)
    keep = max(2, int(h * STRIP_SHARE))
    strips = np.concatenate([luma[:keep], luma[h - keep :]])
    height = max(8, round(STRIP_WIDTH * strips.shape[0] / max(1, w)))
    small = cv2.resize(strips, (STRIP_WIDTH, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small, np.uint8)


def _scan_video(path: Path, max_seconds: float) -> Scan:
    from workers.frames import decoded

    scanner = VideoScanner(max_seconds)
    for t, _frame in decoded(path, scanner):
        if t > max_seconds:
            break
    return scanner.scan()
