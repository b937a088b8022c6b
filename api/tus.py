"""tus 1.0 protocol details shared by the upload routes: header checks that answer as tus
clients expect (412 with ``Tus-Version``, 400/415 naming the header) and the checksum
extension (``Upload-Checksum: <algorithm> <base64 digest>`` over the chunk's bytes)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import Headers

from ingest.uploads import UploadError

TUS = "1.0.0"
CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
CHUNK_TYPE = "application/offset+octet-stream"
OFFSET = re.compile(r"[0-9]{1,19}")
"""ASCII digits only (``str.isdigit`` also takes '²', which ``int`` refuses) and at most 19 of
them: no upload is longer, and ``int`` refuses over 4,300 digits with a ValueError."""


def single(headers: Headers, name: str) -> str | None:
    """The one value of header ``name``: sent twice (``Upload-Offset: 0`` and ``: 2``) it is
    ambiguous, and the request is refused rather than one of them picked."""
    values = headers.getlist(name)
    if len(values) > 1:
        raise UploadError(400, "duplicate_header", f"{name} is sent {len(values)} times")
    return values[0] if values else None


def require_tus(headers: Headers) -> None:
    """A tus request must name the protocol version; a missing or other one is a 412."""
    version = single(headers, "tus-resumable")
    if version != TUS:
        said = f"Tus-Resumable {version!r}" if version else "no Tus-Resumable header"
        raise UploadError(412, "tus_version", f"{said}: this server speaks tus {TUS}")


def chunk_offset(headers: Headers) -> int:
    value = single(headers, "upload-offset")
    if value is None or not OFFSET.fullmatch(value):
        raise UploadError(400, "bad_offset", "Upload-Offset must be a non-negative integer")
    return int(value)


def require_chunk_type(headers: Headers) -> None:
    if (single(headers, "content-type") or "").split(";")[0].strip().lower() != CHUNK_TYPE:
        raise UploadError(415, "content_type", f"use Content-Type: {CHUNK_TYPE}")


def parse_checksum(value: str) -> tuple[str, bytes]:
    """``Upload-Checksum``'s algorithm and raw digest; an unknown algorithm is a 400."""
    algorithm, _, encoded = value.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise UploadError(
            400,
            "checksum_algorithm",
            f"Upload-Checksum algorithm {algorithm!r} is not one of "
            f"{', '.join(CHECKSUM_ALGORITHMS)}",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise UploadError(
            400, "bad_checksum", "Upload-Checksum: the digest is not base64"
        ) from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise UploadError(400, "bad_checksum", f"Upload-Checksum: not a {algorithm} digest")
    return algorithm, digest


async def checked(
    body: AsyncIterator[bytes], algorithm: str, expected: bytes
) -> AsyncIterator[bytes]:
    """Pass the chunk through and refuse it at its end if it does not match its checksum.

    The refusal is raised before the upload's offset is committed, so the chunk's bytes are
    dropped exactly like those of a chunk cut off mid-way (tus: 460 Checksum Mismatch)."""
    digest: Any = hashlib.new(algorithm)
    async for block in body:
        digest.update(block)
        yield block
    if digest.digest() != expected:
        raise UploadError(460, "checksum_mismatch", "the chunk does not match Upload-Checksum")
