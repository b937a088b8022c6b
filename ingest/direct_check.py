"""How a direct upload's assembled object is checked, with or without reading it back.

**Read back** (any store, any client): the API reads the whole object once, hashes it and
compares the SHA-256 with the one declared in the event.

**Checked in place** (a video whose sender declared each part's CRC32 in its event, or each
part's MD5 at completion, assembled at the original's own key): no read-back. The argument,
step by step (docs/protocol.md 6.3):

0. With CRC32s declared (:mod:`ingest.direct_parts`), each part URL's signature covers the
   part's ``x-amz-checksum-crc32``: the store took no part whose bytes do not have the declared
   CRC32, so step 1's conclusion holds with no digest to compare at completion.

1. The store computes each part's MD5 over the bytes it received and lists it as the part's ETag
   (S3, MinIO, SeaweedFS, Ceph without SSE-KMS/SSE-C). Every listed part has the size the plan
   gave it and the MD5 the sender computed from its own file; the store also refused a part whose
   ``Content-MD5`` header did not match (``400 BadDigest``) when it arrived. So the stored parts
   are the sender's bytes, in the plan's order, and the object's size is the declared length: no
   byte was lost, added, reordered or changed in transit.
2. What parts cannot show is that the sender's declared whole-file SHA-256 is the hash of those
   bytes (a buggy or lying sender). The worker hashes the original on the one full read it makes
   anyway, before any case (:func:`ingest.store.download_checked`): a mismatch fails the job.
   Until then the object carries ``checked: parts``; another report of the same hash never links
   to it without hashing it whole first (:meth:`ingest.submissions.Intake._confirm_stored`).
3. The media check reads what a probe needs (the header and the first frame) by range requests.

Anything else (a store whose ETag is not the MD5, a sender that declared no part digests, a
photo, a staging key) falls back to the read-back; a failed part check never fails an upload.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from ingest.media import sniff
from ingest.store import S3Store
from ingest.submissions import original_key

Held = dict[int, tuple[str, int]]
"""Part number -> (ETag, size), as the store lists them."""


def parts_match(held: Held, spans: list[tuple[int, int, int]], md5: dict[int, str]) -> bool:
    """Every part of the plan is held with its planned size and the sender's MD5 as ETag."""
    for number, _, size in spans:
        etag, held_size = held.get(number, ("", -1))
        if held_size != size or etag.strip('"').lower() != md5.get(number):
            return False
    return True


def parts_held(
    store: S3Store, key: str, multipart_id: str, spans: list[tuple[int, int, int]]
) -> Held:
    """Part number -> (ETag, size) of the parts the store holds.

    A part sent again replaces the earlier one in S3 and MinIO, but SeaweedFS lists both
    (in no set order): of several, the one of the size the plan gives the part is taken,
    else a part re-sent at the right size after a wrong one could never be completed."""
    planned = {n: size for n, _, size in spans}
    held: Held = {}
    marker: str | None = None
    while True:
        listed = store.client._list_parts(
            store.bucket, key, multipart_id, part_number_marker=marker
        )
        for part in listed.parts:
            number, size = part.part_number, int(part.size or 0)
            kept, want = held.get(number), planned.get(number)
            if kept is None or kept[1] != want or size == want:
                held[number] = (part.etag, size)
        if not listed.is_truncated:
            return held
        marker = listed.next_part_number_marker


def fetch_sha256(store: S3Store, key: str, path: Path) -> str:
    """Read the assembled object back once: its SHA-256, and a local copy to probe."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for block in store.iter_bytes(key, 4 << 20):
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def content_type_of(head: bytes) -> str:
    """What the bytes are by their first bytes (the intake's full probe follows)."""
    sniffed = sniff(head)
    return sniffed[1] if sniffed else "application/octet-stream"


def sealed_at_start(sha256: str, filename: str | None) -> dict[str, str]:
    """Headers that begin a multipart upload at the original's key already marked as the
    original, ``checked: parts`` (the store keeps a multipart upload's metadata on the object it
    assembles), so the in-place check needs no :func:`seal` afterwards (a copy of the object
    onto itself: a store request and a write; SeaweedFS about 2.5 ms of CPU against 0.5 for
    the ``HEAD`` that replaces it). The object is visible only once assembled, and it is dropped
    if its check then fails, as a sealed one was. The content type is the name's, for a photo
    or video name only (the probe refuses a name of the other kind)."""
    guessed = mimetypes.guess_type(filename or "")[0] or ""
    content_type = guessed if guessed.startswith(("video/", "image/")) else ""
    content_type = content_type or "application/octet-stream"
    return {
        "Content-Type": content_type,
        "x-amz-meta-sha256": sha256,
        "x-amz-meta-checked": "parts",
    }


def seal(store: S3Store, key: str, sha256: str, content_type: str, checked: str) -> None:
    """Mark the checked object as the original: its SHA-256 and how it was checked as metadata
    (a copy onto itself, which the store does without moving the bytes). Parts sent to a
    staging key because the original was already stored leave the stored original as it is."""
    from minio.commonconfig import REPLACE, CopySource

    target = original_key(sha256)
    if key != target and store.exists(target):
        return
    store.client.copy_object(
        store.bucket,
        target,
        CopySource(store.bucket, key),
        metadata={"sha256": sha256, "checked": checked, "Content-Type": content_type},
        metadata_directive=REPLACE,
    )
