"""Generated media for protocol and edge-case tests (never the only proof of recognition)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from tests.conftest import DATA_DIR
from workers.frames import H264, run_ffmpeg


def synthetic_video(out: Path, seconds: float = 2.0, size: str = "320x240") -> Path:
    source = f"testsrc2=size={size}:rate=25:duration={seconds}"
    run_ffmpeg("-f", "lavfi", "-i", source, *H264, str(out))
    return out


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def bad_files(folder: Path) -> dict[str, tuple[Path, int]]:
    """Malformed uploads and the status each must get."""
    folder.mkdir(parents=True, exist_ok=True)
    good = synthetic_video(folder / "good.mp4")
    files: dict[str, tuple[Path, int]] = {}

    def add(name: str, data: bytes, status: int) -> None:
        path = folder / name
        path.write_bytes(data)
        files[name] = (path, status)

    add("empty.mp4", b"", 400)
    add("page.html", b"<!doctype html><html><body>not a video</body></html>", 415)
    add("truncated.mp4", good.read_bytes()[:600], 422)
    add("text.jpg", b"just some text, not a photo at all", 415)
    add("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, 422)
    add("bomb.png", png_bomb(), 413)
    add("photo.mp4", (DATA_DIR / "images" / "dev_vehicle_008.jpg").read_bytes(), 415)
    return files
