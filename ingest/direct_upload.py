"""Bytes straight to the store (protocol v2, S3 mode): presigned S3 multipart uploads.

An open upload can take its bytes by S3 multipart instead of tus: the API hands out one
presigned ``PUT`` URL per part, the client sends the parts to the store itself, then asks the
API to complete. The store assembles the parts where the original will live; the API checks the
object (by the parts' MD5s and a probe read by range, or by reading it back whole: see
:mod:`ingest.direct_check`) and only then takes it in. The API never carries the bytes on the
way in.

The protocol's promises hold: *resumable* (asking for the plan again lists the parts the store
already holds, with fresh URLs for the rest), *idempotent* (one upload per event id, one
multipart upload per upload, and completing twice answers the same submission) and *checked*
(a wrong SHA-256 restarts the upload; media that is not a photo or video fails it).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.db import DirectUpload, MediaObject, Upload, now
from ingest.direct_check import (
    Held,
    content_type_of,
    fetch_sha256,
    parts_held,
    parts_match,
    seal,
    sealed_at_start,
)
from ingest.direct_parts import (
    CHECKSUM_HEADER,
    DEFAULT_PART,
    Claim,
    DirectPlan,
    Part,
    PartChecksums,
    part_size_for,
    part_spans,
    presign_part,
)
from ingest.identity import Caller
from ingest.media import MediaError, sniff
from ingest.store import RangedReader, S3Store
from ingest.submissions import Accepted, Declared, Intake, declared_of, original_key
from ingest.uploads import UploadError, UploadState, state_of

CHECK_LEASE = timedelta(minutes=5)
"""A request that died while checking holds the upload no longer than this."""
__all__ = ["DEFAULT_PART", "DirectPlan", "DirectUploads", "Part", "part_size_for", "part_spans"]


class DirectUploads:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: S3Store,
        intake: Intake,
        scratch: Path,
        ttl: timedelta = timedelta(hours=24),
        url_ttl: timedelta = timedelta(hours=1),
        preferred_part: int = DEFAULT_PART,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.intake = intake
        self.scratch = scratch
        self.ttl = ttl
        self.url_ttl = url_ttl
        self.preferred_part = preferred_part

    @property
    def _s3(self) -> Any:
        return self.store.client

    def _owned(self, session: Session, caller: Caller, upload_id: str) -> Upload:
        upload = session.get(Upload, upload_id)
        if upload is None or upload.owner != caller.owner:
            raise UploadError(404, "no_such_upload", "no such upload")
        if upload.state in ("failed", "expired"):
            raise UploadError(410, f"upload_{upload.state}", upload.error or upload.state)
        return upload

    # -- the plan: which parts to send where ------------------------------------------------
    def plan(
        self,
        caller: Caller,
        upload_id: str,
        keep_alive: bool = True,
        opened: tuple[int, str, dict[str, Any]] | None = None,
    ) -> DirectPlan:
        """The parts of this upload, each with a presigned URL and whether the store has it.
        ``keep_alive``: push the upload's expiry on (not needed when it was just opened);
        ``opened``: the length, SHA-256 and event of an upload just opened by this caller
        (no tus bytes, no multipart upload yet: nothing to read)."""
        found = None
        if opened is not None:
            length, sha256, event = opened
        else:
            with self.sessions() as session:
                upload = self._owned(session, caller, upload_id)
                if upload.state == "complete":
                    return DirectPlan(upload.id, 0, (), now(), upload.submission_id)
                length, sha256, event = upload.length, upload.sha256, upload.event
                if upload.offset > 0:
                    detail = "this upload already has tus bytes; resume with PATCH"
                    raise UploadError(409, "tus_in_progress", detail)
                direct = session.get(DirectUpload, upload_id)
                found = (direct.key, direct.multipart_id, direct.part_size) if direct else None
        declared = PartChecksums.of_event(event)
        key, multipart_id, part_size = found or self._begin(
            upload_id, length, sha256, declared, event.get("filename")
        )
        spans = part_spans(length, part_size)
        have = parts_held(self.store, key, multipart_id, spans) if found else {}
        expires = now() + self.url_ttl
        # Declared CRC32s are signed into each URL: the store takes no other bytes.
        crcs = declared.crc32 if declared and declared.size == part_size else None
        parts = []
        for number, offset, size in spans:
            crc = crcs[number - 1] if crcs else None
            url = presign_part(
                self._s3, self.store.bucket, key, number, multipart_id, self.url_ttl, crc
            )
            held = have.get(number)
            done = held is not None and held[1] == size
            parts.append(
                Part(number, offset, size, url, done, {CHECKSUM_HEADER: crc} if crc else {})
            )
        if keep_alive:  # sending through the store keeps it alive
            with self.sessions.begin() as session:
                self._owned(session, caller, upload_id).expires_at = now() + self.ttl
        return DirectPlan(upload_id, part_size, tuple(parts), expires)

    def _begin(
        self,
        upload_id: str,
        length: int,
        sha256: str,
        declared: PartChecksums | None,
        filename: str | None,
    ) -> tuple[str, str, int]:
        # Assembled where the original will live (its metadata given now): no copy to accept
        # it; a staging key of their own when that key holds the original (never assembled over).
        key = original_key(sha256)
        headers = sealed_at_start(sha256, filename)
        if self.store.exists(key):
            key, headers = f"staging/{upload_id}", {"Content-Type": "application/octet-stream"}
        part_size = declared.size if declared else part_size_for(length, self.preferred_part)
        multipart_id = self._s3._create_multipart_upload(self.store.bucket, key, headers)
        try:
            with self.sessions.begin() as session:
                session.add(
                    DirectUpload(
                        upload_id=upload_id, key=key, multipart_id=multipart_id, part_size=part_size
                    )
                )
        except IntegrityError:  # another request began it at the same moment: use theirs
            self._s3._abort_multipart_upload(self.store.bucket, key, multipart_id)
            with self.sessions() as session:
                direct = session.get(DirectUpload, upload_id)
                assert direct is not None
                return direct.key, direct.multipart_id, direct.part_size
        return key, multipart_id, part_size

    # -- completion: assemble, check, take in ---------------------------------------------
    def complete(
        self, caller: Caller, upload_id: str, part_md5: dict[int, str] | None = None
    ) -> UploadState:
        """Assemble the parts, check the whole object, and accept it as the event's original.
        ``part_md5``: the sender's MD5 (hex) of each part, which lets a video be checked in
        place instead of read back (:mod:`ingest.direct_check`)."""
        claimed = self._claim(caller, upload_id)
        if claimed is None:  # done already, not ours, not begun, or another request has it
            with self.sessions() as session:
                upload = self._owned(session, caller, upload_id)
                if upload.state == "complete":
                    return state_of(upload)
                if session.get(DirectUpload, upload_id) is None:
                    raise UploadError(409, "parts_missing", "no part was sent yet")
            raise UploadError(423, "upload_busy", "another request is completing this upload")
        accepted = False
        try:
            state = self._check_and_accept(caller, upload_id, claimed, part_md5 or {})
            accepted = True
            return state
        finally:
            if not accepted:  # (accepting removed the record, and the claim with it)
                with self.sessions.begin() as session:
                    session.execute(
                        update(DirectUpload)
                        .where(DirectUpload.upload_id == upload_id)
                        .values(checking_since=None)
                    )

    def _claim(self, caller: Caller, upload_id: str) -> Claim | None:
        """Only one request completes an upload at a time (a conditional update of the
        caller's own record); what checking it needs, read in the same transaction."""
        with self.sessions.begin() as session:
            owned = select(Upload.id).where(Upload.id == upload_id, Upload.owner == caller.owner)
            taken = session.execute(
                update(DirectUpload)
                .where(
                    DirectUpload.upload_id == upload_id,
                    owned.exists(),
                    or_(
                        DirectUpload.checking_since.is_(None),
                        DirectUpload.checking_since < now() - CHECK_LEASE,
                    ),
                )
                .values(checking_since=now())
                .returning(DirectUpload.key, DirectUpload.multipart_id, DirectUpload.part_size)
            ).one_or_none()
            if taken is None:
                return None
            key, multipart_id, part_size = taken[0], taken[1], int(taken[2])
            upload = self._owned(session, caller, upload_id)  # (410: the claim is undone)
            # Every URL of this upload was signed with its declared CRC32s (from its event).
            crcs = PartChecksums.of_event(upload.event)
            return Claim(
                key,
                multipart_id,
                part_size,
                upload.length,
                upload.sha256,
                declared_of(caller, upload),
                upload.event.get("filename"),
                crcs is not None and crcs.size == part_size,
            )

    def _check_and_accept(
        self,
        caller: Caller,
        upload_id: str,
        claimed: Claim,
        part_md5: dict[int, str],
    ) -> UploadState:
        key, multipart_id, part_size, length, expected, declared, filename, crc_signed = claimed
        held = self._assemble(upload_id, key, multipart_id, length, part_size)
        in_place = (
            held is not None
            and key == original_key(expected)
            and (crc_signed or parts_match(held, part_spans(length, part_size), part_md5))
        )
        # One ranged reader for the sniff, the probe and the object's metadata: its first
        # block (and that answer's headers) serve all three, with no HEAD.
        reader = self.store.open_ranged(key, length) if in_place else None
        sniffed = sniff(reader.peek(512)[:512]) if reader is not None else None
        try:
            if reader is not None and sniffed is not None and sniffed[0] == "video":
                meta = cast(RangedReader, reader.raw).meta or {}
                if meta.get("x-amz-meta-sha256") != expected:  # begun without the metadata
                    seal(self.store, key, expected, sniffed[1], "parts")
                accepted = self.intake.accept_stored(
                    reader, length, filename, declared, caller.owner, expected
                )
            else:
                accepted = self._read_back(upload_id, key, expected, filename, declared, caller)
        except MediaError as exc:
            self._fail(upload_id, key, exc.reason)
            raise UploadError(exc.status, "bad_media", exc.reason) from exc
        with self.sessions.begin() as session:
            row = session.execute(
                update(Upload)
                .where(Upload.id == upload_id, Upload.state.not_in(("failed", "expired")))
                .values(state="complete", submission_id=accepted.id, offset=length)
                .returning(Upload.id, Upload.offset, Upload.length, Upload.state, Upload.expires_at)
                .execution_options(synchronize_session=False)
            ).one_or_none()
            if row is None:  # failed or expired meanwhile: refused as before (410)
                self._owned(session, caller, upload_id)
                raise UploadError(410, "upload_gone", "the upload ended meanwhile")
            state = UploadState(*row, submission_id=accepted.id)
            session.execute(delete(DirectUpload).where(DirectUpload.upload_id == upload_id))
        if key != original_key(expected):
            self.store.delete(key)
        return state

    def _read_back(
        self,
        upload_id: str,
        key: str,
        expected: str,
        filename: str | None,
        declared: Declared,
        caller: Caller,
    ) -> Accepted:
        """The whole object read back once: its SHA-256, then the intake's probe of the copy."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch) as tmp:
            path = Path(tmp) / "original"
            if fetch_sha256(self.store, key, path) != expected:
                self._restart(upload_id, key)
                raise UploadError(
                    422,
                    "sha256_mismatch",
                    "the assembled bytes do not match the declared SHA-256; send again",
                )
            # The object is exactly the declared bytes now, so it may be sealed as the original
            # before the intake probes it: bytes that are not media fail for every sender.
            with path.open("rb") as fh:
                content_type = content_type_of(fh.read(512))
            seal(self.store, key, expected, content_type, "sha256")
            return self.intake.accept(path, filename, declared, caller.owner, expected)

    def _assemble(
        self, upload_id: str, key: str, multipart_id: str, length: int, part_size: int
    ) -> Held | None:
        """Complete the multipart upload; the parts it was made of (None: it was assembled
        by an earlier request that died before taking it in)."""
        from minio.datatypes import Part as S3Part
        from minio.error import S3Error

        try:
            held = parts_held(self.store, key, multipart_id, part_spans(length, part_size))
        except S3Error as exc:
            # Assembled already by a request that died before taking the object in.
            if exc.code == "NoSuchUpload" and self.store.exists(key):
                return None
            raise
        spans = part_spans(length, part_size)
        missing = [n for n, _, size in spans if held.get(n, ("", -1))[1] != size]
        if missing:
            raise UploadError(
                409, "parts_missing", f"send part(s) {', '.join(map(str, missing[:20]))} first"
            )
        if key.startswith("originals/") and self.store.exists(key):
            # Another upload stored this original meanwhile: never assemble over it.
            self._s3._abort_multipart_upload(self.store.bucket, key, multipart_id)
            self._forget(upload_id, None, lambda upload: None)
            raise UploadError(
                409, "parts_missing", "the store received this file meanwhile; ask for a new plan"
            )
        parts = [S3Part(n, held[n][0]) for n, _, _ in spans]
        self._s3._complete_multipart_upload(self.store.bucket, key, multipart_id, parts)
        return held

    def _forget(self, upload_id: str, key: str | None, then: Callable[[Upload], None]) -> None:
        """Drop the multipart record (the next plan starts afresh) and unchecked bytes."""
        with self.sessions.begin() as session:
            direct = session.get(DirectUpload, upload_id)
            if direct is not None:
                session.delete(direct)
            upload = session.get(Upload, upload_id)
            if upload is not None:
                then(upload)
            sealed = key is not None and self._sealed(session, key)
        if key is not None and not sealed:
            self.store.delete(key)

    @staticmethod
    def _sealed(session: Session, key: str) -> bool:
        """Whether ``key`` is a checked original some submission already links to."""
        return session.scalar(select(MediaObject.id).where(MediaObject.key == key)) is not None

    def _restart(self, upload_id: str, key: str) -> None:
        """A wrong SHA-256: drop the assembled object; the next plan starts afresh."""

        def reopen(upload: Upload) -> None:
            upload.offset = 0

        self._forget(upload_id, key, reopen)

    def _fail(self, upload_id: str, key: str, reason: str) -> None:
        def failed(upload: Upload) -> None:
            upload.state, upload.error = "failed", reason

        self._forget(upload_id, key, failed)

    def sweep(self) -> int:
        """Abort the multipart uploads of uploads that expired, failed or were given up, or
        that were completed by tus after a plan was asked for."""
        from minio.error import S3Error

        with self.sessions() as session:
            stale = [
                (d.upload_id, d.key, d.multipart_id)
                for d, state in session.query(DirectUpload, Upload.state).join(
                    Upload, Upload.id == DirectUpload.upload_id
                )
                if state in ("failed", "expired", "complete")
            ]
        for upload_id, key, multipart_id in stale:
            with contextlib.suppress(S3Error):  # already gone: nothing to abort
                self._s3._abort_multipart_upload(self.store.bucket, key, multipart_id)
            with self.sessions.begin() as session:
                direct = session.get(DirectUpload, upload_id)
                if direct is not None:
                    session.delete(direct)
        return len(stale)
