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

    def opened(self, container: Any, stream: Any) -> None:
        self.tags = {**_tags(stream.metadata), **_tags(container.metadata)}
        self.fps = float(stream.average_rate or stream.guessed_rate or 0)

    def decoded(self, t: float, frame: Any) -> None:
        if t > self.max_seconds:
            return
        gray = frame.to_ndarray(width=THUMB, height=THUMB, format="gray")
        self.times.append(t)
        self.thumbs.append(np.ascontiguousarray(np.asarray(gray, np.uint8)))

    def scan(self) -> Scan:
        return Scan("video", tuple(self.times), tuple(self.thumbs), self.tags, self.fps)


def _scan_video(path: Path, max_seconds: float) -> Scan:
    from workers.frames import decoded

    scanner = VideoScanner(max_seconds)
    for t, _frame in decoded(path, scanner):
        if t > max_seconds:
            break
    return scanner.scan()
