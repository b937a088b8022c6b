"""Frames from a photo or a video, each with its presentation time in video seconds.

Videos are decoded once by ffmpeg (through ``ffmpeg-python`` and the ffmpeg binary that the
``imageio-ffmpeg`` wheel ships), sampled at a configurable rate; ffmpeg applies rotation
metadata. Frames are shared by every stage that needs them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ingest.media import MediaInfo
from models.types import Image

MAX_WIDTH = 1920


@dataclass(frozen=True, slots=True)
class Frame:
    index: int
    pts: float
    """Presentation time in seconds of video time (0.0 for a photo)."""
    image: Image


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


H264 = (
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-crf",
    "20",
    "-pix_fmt",
    "yuv420p",
    "-movflags",
    "+faststart",
)
"""Encoder arguments for evidence and sample clips that every player opens."""


def run_ffmpeg(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run the bundled ffmpeg quietly; with ``check``, fail with the end of its error output."""
    result = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", *args], capture_output=True
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {result.stderr.decode(errors='replace')[-400:]}")
    return result


def read_image(path: Path) -> Image:
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path} cannot be decoded as an image")
    return np.ascontiguousarray(image)


def output_size(info: MediaInfo) -> tuple[int, int]:
    scale = min(1.0, MAX_WIDTH / info.width)
    return int(info.width * scale) // 2 * 2, int(info.height * scale) // 2 * 2


def iter_frames(path: Path, info: MediaInfo, fps: float, max_frames: int) -> Iterator[Frame]:
    """Yield sampled frames of ``path`` (a photo yields one frame at time 0)."""
    if info.kind == "image":
        yield Frame(0, 0.0, read_image(path))
        return
    import ffmpeg

    width, height = output_size(info)
    process = (
        ffmpeg.input(str(path))
        .filter("fps", fps=fps)
        .filter("scale", width, height)
        .output("pipe:", format="rawvideo", pix_fmt="bgr24")
        .global_args("-nostdin", "-loglevel", "error")
        .run_async(cmd=ffmpeg_exe(), pipe_stdout=True, pipe_stderr=False)
    )
    frame_bytes = width * height * 3
    try:
        for index in range(max_frames):
            raw = process.stdout.read(frame_bytes)
            if len(raw) < frame_bytes:
                break
            image = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).copy()
            yield Frame(index, round(index / fps, 3), image)
    finally:
        process.stdout.close()
        process.kill()
        process.wait()
