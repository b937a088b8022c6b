"""What a file really is, judged from its bytes (never its name), and its container facts."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

MediaKind = Literal["image", "video"]

_SIGNATURES: list[tuple[int, bytes, MediaKind, str]] = [
    (0, b"\xff\xd8\xff", "image", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image", "image/png"),
    (4, b"ftyp", "video", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video", "video/x-matroska"),
    (0, b"\x00\x00\x01\xba", "video", "video/mpeg"),
    (0, b"G", "video", "video/mp2t"),
]


class MediaError(ValueError):
    """The file is not media we accept; the message says why, for the uploader."""

    def __init__(self, reason: str, status: int = 415) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def sniff(head: bytes) -> tuple[MediaKind, str] | None:
    """Kind and content type from the first bytes of a file, or None when unrecognised."""
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video", "video/x-msvideo"
    for offset, magic, kind, content_type in _SIGNATURES:
        if magic == b"G":
            if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
                return kind, content_type
            continue
        if head[offset : offset + len(magic)] == magic:
            if content_type == "video/mp4" and head[8:10] == b"qt":
                return "video", "video/quicktime"
            return kind, content_type
    return None


@dataclass(frozen=True, slots=True)
class MediaInfo:
    kind: MediaKind
    content_type: str
    width: int
    height: int
    """Display size, after any rotation metadata is applied."""
    duration_s: float
    fps: float
    codec: str
    rotation: int


MAX_PIXELS = 8192 * 8192


NAMED_KINDS: dict[str, MediaKind] = {
    **dict.fromkeys((".jpg", ".jpeg", ".png"), "image"),
    **dict.fromkeys((".mp4", ".mov", ".m4v", ".mkv", ".avi", ".ts", ".mts"), "video"),
}


def probe(
    path: Path | BinaryIO, max_video_seconds: float = 600.0, filename: str | None = None
) -> MediaInfo:
    """Check that ``path`` (a file, or a seekable binary stream such as an object in the store
    read by range) holds an image or video we can decode, and describe it. A
    ``filename`` whose extension names the other kind (a photo named .mp4) is refused: what a
    sender says its evidence is must be what it is.

    Raises :class:`MediaError` with a reason an uploader can act on.
    """
    if isinstance(path, Path):
        with path.open("rb") as fh:
            head = fh.read(512)
    else:
        head = path.read(512)
        path.seek(0)
    if not head:
        raise MediaError("the file is empty", status=400)
    sniffed = sniff(head)
    if sniffed is None:
        raise MediaError("the file is neither a JPEG/PNG photo nor an MP4/MOV/MKV/AVI/TS video")
    kind, content_type = sniffed
    named = NAMED_KINDS.get(Path(filename).suffix.lower()) if filename else None
    if named is not None and named != kind:
        raise MediaError(f"the file is named {filename} but its bytes are a {content_type} {kind}")
    if kind == "image":
        return _probe_image(path, content_type)
    return _probe_video(path, content_type, max_video_seconds)


MAX_SCANS = 100
"""A progressive JPEG has about ten scans (a phone's MPO twice that, with its thumbnail);
libjpeg sets no limit of its own."""
SOS = b"\xff\xda"


def _jpeg_scans(source: Path | BinaryIO) -> int:
    """Start-of-scan markers in the file (0xFF is stuffed as FF 00 inside scan data, so an
    FF DA there is a marker; stray ones in metadata only add a few)."""
    with source.open("rb") if isinstance(source, Path) else contextlib.nullcontext(source) as fh:
        was = fh.tell()  # a stream's reader (Pillow's) is where it left it afterwards
        fh.seek(0)
        count, tail = 0, b""
        while block := fh.read(1 << 20):
            count += (tail + block).count(SOS)
            tail = block[-1:]
        fh.seek(was)
    return count


def _probe_image(path: Path | BinaryIO, content_type: str) -> MediaInfo:
    from PIL import Image

    try:
        with Image.open(path) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise MediaError(f"the image is {width}x{height}, over the pixel limit", 413)
            if im.format in ("JPEG", "MPO"):  # MPO: a phone's JPEG with a second picture
                # Decoded at the decoder's 1/8 scale: the whole scan is read (a truncated
                # file fails here with a 422, not later in the worker) for a 64th of the
                # pixels' cost. Each scan of a progressive JPEG passes over every block
                # whatever the scale: 50,000 tiny scans cost 13 s, so they are counted first.
                if (scans := _jpeg_scans(path)) > MAX_SCANS:
                    raise MediaError(f"the photo has {scans} scans, over {MAX_SCANS}", 422)
                im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                im.load()
            else:
                im.verify()  # PNG: every chunk and its CRC, to IEND
            rotation = _orientation(im)
    except MediaError:
        raise
    except Image.DecompressionBombError as exc:
        raise MediaError("the image's pixel count is over the limit", 413) from exc
    except Exception as exc:  # Pillow raises several types (and plugins patch Image.open)
        raise MediaError("the image cannot be decoded", status=422) from exc
    if rotation in (90, 270):
        width, height = height, width
    return MediaInfo("image", content_type, width, height, 0.0, 0.0, content_type[6:], rotation)


ORIENTATION = 0x0112
ROTATIONS = {3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}
"""EXIF orientation -> degrees clockwise to display (5 and 7, 4 mirrored too). A phone held
upright writes 6; the decoders the workers use (OpenCV) apply it."""


def _orientation(im: Any) -> int:
    """The photo's display rotation; none for a missing or broken EXIF block."""
    try:
        value = im.getexif().get(ORIENTATION)
    except Exception:  # a broken EXIF block does not make the picture undecodable
        return 0
    return ROTATIONS.get(value, 0) if isinstance(value, int) else 0


ISO_TYPES = ("video/mp4", "video/quicktime")
MAX_BOXES = 10_000


def _cut_short(fh: BinaryIO) -> bool:
    """Whether an MP4/MOV's top-level box claims more bytes than the file has: an upload cut
    off mid-way (with the index first, its first frames still decode; the worker would find
    the rest missing). Anything the walk cannot read is left to the decoder."""
    end = fh.seek(0, io.SEEK_END)
    at = 0
    for _ in range(MAX_BOXES):
        if at + 8 > end:
            return False
        fh.seek(at)
        head = fh.read(16)
        size = int.from_bytes(head[:4], "big")
        if size == 1 and len(head) == 16:  # a 64-bit size follows the type
            size = int.from_bytes(head[8:16], "big")
        if size < 8:  # 0: to the end of the file; else not a box the walk can read
            return False
        if at + size > end:
            return True
        at += size
    return False


def _probe_video(path: Path | BinaryIO, content_type: str, max_seconds: float) -> MediaInfo:
    import av

    if content_type in ISO_TYPES:
        if isinstance(path, Path):
            with path.open("rb") as fh:
                cut = _cut_short(fh)
        else:
            cut = _cut_short(path)
            path.seek(0)
        if cut:
            raise MediaError("the video is truncated: its last box runs past the file's end", 422)

    # An MP4/MOV describes its streams in its header (moov): opening it needs no look at the
    # frames. FFmpeg's stream analysis would still decode the first frame once more (for
    # H.264, to guess the decoder's delay), doubling the probe's cost (1080p: 17 against
    # 8.5 ms); its decoder skips every frame here, and the one decode below is the check.
    # Containers without such a header (TS, and AVI/MKV whose analysis finds streams by
    # reading) open as before.
    fast = content_type in ISO_TYPES
    skip_all: Any = [{"skip_frame": "all"}]  # (PyAV's stub says list[str]; it takes dicts)
    try:
        with av.open(
            str(path) if isinstance(path, Path) else path,
            "r",
            options={"probesize": "32"} if fast else None,
            stream_options=skip_all if fast else None,
        ) as container:
            if not container.streams.video:
                raise MediaError("the file has no video stream", status=422)
            stream = container.streams.video[0]
            if stream.codec_context is None:  # no sample description: nothing can decode it
                raise MediaError("the video stream has no codec that can decode it", 422)
            # What the container declares is refused before a frame is decoded, and the
            # decoder refuses a larger frame than it declared (an 8200x8200 first frame costs
            # seconds and hundreds of MB to decode only to be refused).
            declared = stream.codec_context.width * stream.codec_context.height
            if declared > MAX_PIXELS:
                w, h = stream.codec_context.width, stream.codec_context.height
                raise MediaError(f"the video's frame size {w}x{h} is not plausible", 422)
            stream.codec_context.options = {"max_pixels": str(MAX_PIXELS)}
            # One decoding thread: a probe decodes one frame, and the API probes many uploads
            # at once; FFmpeg's own threads (cores + 1 per probe) only add start-up and
            # switching (single-threaded: 44 against 56 ms a 1080p probe, less CPU).
            stream.thread_type = "NONE"
            stream.codec_context.thread_count = 1
            first = next(container.decode(stream), None)
            if first is None:
                raise MediaError("the video has no decodable frame", status=422)
            rotation = int(getattr(first, "rotation", 0) or 0) % 360
            duration = (
                float(stream.duration * stream.time_base)
                if stream.duration is not None and stream.time_base is not None
                else (container.duration or 0) / 1_000_000
            )
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            width, height = first.width, first.height
            codec = stream.codec_context.name
    except MediaError:
        raise
    except (av.error.FFmpegError, StopIteration, ValueError) as exc:
        raise MediaError(f"the video cannot be decoded ({exc})", status=422) from exc
    if width * height > MAX_PIXELS or width < 16 or height < 16:
        raise MediaError(f"the video's frame size {width}x{height} is not plausible", 422)
    if duration > max_seconds:
        raise MediaError(
            f"the video lasts {duration:.0f} s, over the {max_seconds:.0f} s limit", 413
        )
    if rotation in (90, 270):
        width, height = height, width
    return MediaInfo("video", content_type, width, height, duration, fps, codec, rotation)
