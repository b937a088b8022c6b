"""Frames from a photo or a video, each with its presentation time in video seconds.

Videos are decoded once with PyAV (libavcodec in-process), sampled at a configurable rate by
their own presentation times; clips and samples are cut and encoded with the ffmpeg binary
that the ``imageio-ffmpeg`` wheel ships. Frames are shared by every stage that needs them.
"""

from __future__ import annotations

import contextvars
import queue
import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import cv2
import numpy as np

from ingest.media import MediaInfo
from models.onnx import cores
from models.types import Image
from telemetry.metrics import timed_stage

MAX_WIDTH = 1920
FEW_CORES = 2
"""On this many cores or fewer a clip is decoded on one thread: libavcodec's frame threads
cost CPU (a 1080p H.264 sample: about 12 % more) that the models on the other core need, and
one thread decodes a sampled frame in a fraction of the time the models take for it."""
PREFETCH = 3
"""Frames decoded ahead of recognition (each 6 MB at 1080p)."""
T = TypeVar("T")


class DecodeWatcher(Protocol):
    """Sees every frame of the one decoding pass (not only the sampled ones), so a stage that
    needs all of them (the anti-fraud scan) costs no second decode."""

    def opened(self, container: Any, stream: Any) -> None: ...

    def decoded(self, t: float, frame: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Frame:
    index: int
    pts: float
    """Presentation time in seconds of video time (0.0 for a photo)."""
    image: Image
    jpeg: bytes | None = None
    """The image's JPEG encoding at quality 95 where one was kept (:class:`KeptFrames`): the
    raw evidence frame as is, with no second encoding."""


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


def iter_frames(
    path: Path,
    info: MediaInfo,
    fps: float,
    max_frames: int,
    key_times: list[float] | None = None,
    watcher: DecodeWatcher | None = None,
) -> Iterator[Frame]:
    """Yield sampled frames of ``path`` (a photo yields one frame at time 0).

    Videos are decoded with PyAV: every frame keeps its real presentation time, so variable
    frame rate clips are sampled by their own clock (the first frame at or after each step
    of 1/fps of video time), and rotation metadata is applied. ``key_times`` collects the
    times of the stream's key frames as they pass (where a clip can be cut without decoding).
    Frames no other frame refers to are not decoded at all where the sampler cannot take
    them (see :class:`Sampler`), unless ``watcher`` must see them.
    """
    if info.kind == "image":
        yield Frame(0, 0.0, read_image(path))
        return
    width, height = output_size(info)
    sampler = Sampler(1.0 / fps)
    index = 0
    for t, frame in decoded(path, watcher, sampler):
        if key_times is not None and getattr(frame, "key_frame", False):
            key_times.append(t)
        if not sampler.take(t):
            continue
        yield Frame(index, round(t, 3), _image(frame, width, height))
        index += 1
        if index >= max_frames:
            return


class Sampler:
    """Which frames the sampling takes: the first frame at or after each step of
    ``interval`` of video time from the first frame; and which a decoder may drop unseen.

    ``wanted`` is asked for each packet before it is decoded (in decoding order, ahead of the
    frames out). A frame more than ``SAMPLE_REACH`` nominal frame gaps (1 / the stream's
    average rate) after the last step before it is not the first frame at or after that step
    unless the clip skipped frames there, so where no other frame refers to it (a
    non-reference B-frame) the decoder leaves it out (libavcodec's ``skip_frame``); every
    other frame is decoded. Where a variable frame rate clip's frames are more than that far
    apart, the frame taken for a step may be the next decoded one instead."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.due: float | None = None

    def take(self, t: float) -> bool:
        if self.due is not None and t < self.due - 1e-6:
            return False
        self.due = (self.due if self.due is not None else t) + self.interval
        while self.due <= t:
            self.due += self.interval
        return True

    def wanted(self, t: float, nominal_gap: float) -> bool:
        if self.due is None or nominal_gap <= 0:
            return True  # before the first frame out, nothing is known of the steps
        step = self.due  # the steps, added up as ``take`` adds them
        if t < step - 1e-6:
            return False  # before the next step: never taken
        while step + self.interval <= t + 1e-6:
            step += self.interval
        return t < step - 1e-6 + SAMPLE_REACH * nominal_gap


SAMPLE_REACH = 2.5


def decoded(
    path: Path, watcher: DecodeWatcher | None = None, sampler: Sampler | None = None
) -> Iterator[tuple[float, Any]]:
    """Every decoded PyAV frame of the video with its presentation time in seconds from the
    stream's start (frames without a time are skipped); ``watcher`` sees each one too. With
    ``sampler`` (and no ``watcher``), frames it cannot take that no other frame refers to
    may be left undecoded."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        if cores() <= FEW_CORES:
            stream.thread_type, context.thread_count = "NONE", 1
        else:
            stream.thread_type = "AUTO"
        start = 0.0
        if stream.start_time is not None and stream.time_base is not None:
            start = float(stream.start_time * stream.time_base)
        if watcher is not None:
            watcher.opened(container, stream)
        rate = stream.average_rate or stream.guessed_rate
        nominal = 1.0 / float(rate) if rate else 0.0
        base = stream.time_base
        picking = sampler if watcher is None and base is not None else None
        for packet in container.demux(stream):
            if picking is not None and base is not None and packet.pts is not None:
                t = float(packet.pts * base) - start
                context.skip_frame = "DEFAULT" if picking.wanted(t, nominal) else "NONREF"
            for frame in context.decode(packet):
                if frame.time is not None:
                    t = float(frame.time) - start
                    if watcher is not None:
                        watcher.decoded(t, frame)
                    yield t, frame


def _image(frame: Any, width: int, height: int) -> Image:
    """A decoded PyAV frame as a BGR image of the output size, display rotation applied."""
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    w, h = (height, width) if rotation in (90, 270) else (width, height)
    image = np.asarray(frame.to_ndarray(width=w, height=h, format="bgr24"), np.uint8)
    return _rotate(image, rotation)


def _rotate(image: Image, rotation: int) -> Image:
    """Apply display rotation (degrees counter-clockwise, as the display matrix states)."""
    turns = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
    if rotation not in turns:
        return np.ascontiguousarray(image)
    return np.ascontiguousarray(cv2.rotate(image, turns[rotation]))


def frames_at(path: Path, info: MediaInfo, times: list[float]) -> dict[float, Frame]:
    """The decoded frame nearest each of ``times`` (video seconds), in one pass that stops
    after the last; only the chosen frames are converted to images. The evidence keyframes of
    every case of a clip come from one call."""
    if not times:
        return {}
    if info.kind == "image":
        photo = read_image(path)
        return {t: Frame(0, 0.0, photo) for t in times}
    width, height = output_size(info)
    nearest: dict[float, tuple[int, float, Any]] = {}
    last = max(times)
    for index, (pts, frame) in enumerate(decoded(path)):
        for t in times:
            if t not in nearest or abs(pts - t) < abs(nearest[t][1] - t):
                nearest[t] = (index, pts, frame)
        if pts > last:
            break
    return {
        t: Frame(index, round(pts, 3), _image(frame, width, height))
        for t, (index, pts, frame) in nearest.items()
    }


class KeptFrames:
    """The sampled frames of the one decoding pass, kept as JPEG (quality 95, the raw evidence
    frames' own encoding) so the evidence keyframes need no second decode: each moment a case
    needs is shown by the sampled frame nearest it, the very frame the rules judged."""

    def __init__(self) -> None:
        self.jpeg: dict[float, tuple[int, bytes]] = {}
        self.key_times: list[float] = []

    def keep(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        for frame in frames:
            with timed_stage("keep"):
                ok, buf = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if not ok:
                raise RuntimeError("JPEG encoding failed")
            self.jpeg[frame.pts] = (frame.index, buf.tobytes())
            yield frame

    def nearest(self, times: list[float]) -> dict[float, Frame]:
        """The kept frame nearest each of ``times`` (video seconds)."""
        if not self.jpeg:
            return {}
        found: dict[float, Frame] = {}
        by_pts: dict[float, Frame] = {}  # each kept frame decoded once
        for t in times:
            pts = min(self.jpeg, key=lambda p: (abs(p - t), p))
            if pts not in by_pts:
                index, data = self.jpeg[pts]
                image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                by_pts[pts] = Frame(index, pts, np.ascontiguousarray(image), data)
            found[t] = by_pts[pts]
        return found


def prefetched(items: Iterable[T], depth: int = PREFETCH) -> Iterator[T]:
    """``items`` produced on a thread of their own, up to ``depth`` ahead of the consumer:
    decoding (libavcodec, which frees the GIL) runs while the models work on the frame before.
    The producer runs in a copy of the caller's context, so its stage times count to the same
    job; an error there is raised here; stopping early stops the producer."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        box.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(("error", exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # the decoder's file is closed on this thread

    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(produce,), daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
