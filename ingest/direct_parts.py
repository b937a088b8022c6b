"""The parts of a direct upload (docs/protocol.md 6.3): their sizes, the checksums a sender may
declare for them in its event, and the presigned ``PUT`` URL of each.

A sender that declares each part's CRC32 in the event (``media.parts``) gets part URLs whose
signature covers an ``x-amz-checksum-crc32`` header with that value: the store refuses the
request unless the header is sent as signed (``403``), and refuses a body whose CRC32 is not
that value (``400 BadDigest``). The checksums are part of the upload's record from its first
event on, and every URL of the upload is signed with them, so every part the store holds is one
whose bytes have the declared CRC32, with no digest to compare at completion. A CRC32 costs a
sender a sixth of an MD5 (5 against 30 ms per 20 MB here); like the MD5 it guards against
transport errors, not an adversary (that is the whole-file SHA-256's part, section 6.3).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ingest.submissions import Declared

S3_MIN_PART = 5 << 20
"""S3 refuses parts under 5 MiB except the last."""
S3_MAX_PART = 5 << 30
DEFAULT_PART = 8 << 20
MAX_PARTS = 10_000
CHECKSUM_HEADER = "x-amz-checksum-crc32"


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    offset: int
    size: int
    url: str
    done: bool
    headers: dict[str, str] = field(default_factory=dict)
    """Headers the ``PUT`` must carry as they are (signed into the URL)."""


@dataclass(frozen=True, slots=True)
class DirectPlan:
    upload_id: str
    part_size: int
    parts: tuple[Part, ...]
    urls_expire_at: datetime
    submission_id: str | None = None


class Claim(NamedTuple):
    """A completion's hold on an upload, and what checking it needs."""

    key: str
    multipart_id: str
    part_size: int
    length: int
    sha256: str
    declared: Declared
    filename: str | None
    crc_signed: bool
    """Its part URLs were all signed with the CRC32s declared in its event."""


def part_size_for(length: int, preferred: int = DEFAULT_PART) -> int:
    """Parts of ``preferred`` bytes, larger only when S3's 10,000-part limit needs it."""
    return max(preferred, S3_MIN_PART, math.ceil(length / MAX_PARTS))


def part_spans(length: int, part_size: int) -> list[tuple[int, int, int]]:
    """(part number, offset, size) of each part; S3 numbers parts from 1."""
    count = max(1, math.ceil(length / part_size))
    return [(n + 1, n * part_size, min(part_size, length - n * part_size)) for n in range(count)]


def checksum_problem(length: int, part_size: int, count: int) -> str | None:
    """Why declared part checksums cannot serve an upload of ``length`` bytes, or None."""
    if not S3_MIN_PART <= part_size <= S3_MAX_PART:
        return f"parts.size must be between {S3_MIN_PART} and {S3_MAX_PART} bytes"
    needed = max(1, math.ceil(length / part_size))
    if needed > MAX_PARTS:
        return f"{needed} parts of {part_size} bytes: at most {MAX_PARTS} parts"
    if count != needed:
        return f"{needed} parts of {part_size} bytes make this file, but {count} CRC32s came"
    return None


@dataclass(frozen=True, slots=True)
class PartChecksums:
    """The part size and per-part CRC32s (base64 of the big-endian 4 bytes, as S3 has them)
    that a sender declared in its event."""

    size: int
    crc32: tuple[str, ...]

    @classmethod
    def of_event(cls, event: dict[str, Any]) -> PartChecksums | None:
        declared = event.get("parts")
        if not declared:
            return None
        return cls(int(declared["size"]), tuple(declared["crc32"]))


def presign_part(
    client: Any,
    bucket: str,
    key: str,
    number: int,
    multipart_id: str,
    expires: timedelta,
    crc32: str | None = None,
) -> str:
    """A presigned ``PUT`` URL for one part; with ``crc32``, the signature also covers the
    ``x-amz-checksum-crc32`` header with that value (AWS Signature V4, query form)."""
    query = {"partNumber": str(number), "uploadId": multipart_id}
    if crc32 is None:
        url: str = client.get_presigned_url(
            "PUT", bucket, key, expires=expires, extra_query_params=query
        )
        return url
    # Signed here (the S3 client signs presigned URLs over the host header alone).
    from minio import time as s3time
    from minio.helpers import queryencode

    region = client._get_region(bucket)
    creds = client._provider.retrieve()
    if creds.session_token:
        query["X-Amz-Security-Token"] = creds.session_token
    base = client._base_url.build(
        method="PUT", region=region, bucket_name=bucket, object_name=key
    )  # the URL's parts, the path already encoded
    date = s3time.utcnow()
    day, stamp = date.strftime("%Y%m%d"), s3time.to_amz_date(date)
    scope = f"{day}/{region}/s3/aws4_request"
    headers = {"host": base.netloc, CHECKSUM_HEADER: crc32}
    signed = ";".join(sorted(headers))
    query.update(
        {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{creds.access_key}/{scope}",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(int(expires.total_seconds())),
            "X-Amz-SignedHeaders": signed,
        }
    )
    canonical_query = "&".join(
        f"{queryencode(k)}={queryencode(v)}" for k, v in sorted(query.items())
    )
    canonical = "\n".join(
        [
            "PUT",
            base.path or "/",
            canonical_query,
            "".join(f"{name}:{headers[name]}\n" for name in sorted(headers)),
            signed,
            "UNSIGNED-PAYLOAD",
        ]
    )
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    signing_key = f"AWS4{creds.secret_key}".encode()
    for step in (day, region, "s3", "aws4_request"):
        signing_key = hmac.new(signing_key, step.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    url = f"{base.scheme}://{base.netloc}{base.path}?{canonical_query}"
    return f"{url}&X-Amz-Signature={signature}"
