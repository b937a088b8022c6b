"""Resumable uploads (tus 1.0 core) of one event's media, idempotent by event id.

``POST /v1/events`` opens an upload for an event (or returns the one already open for the same
event id); ``PATCH`` appends bytes at the offset the server holds; ``HEAD`` tells the offset
after a cut connection. When the last byte arrives the declared SHA-256 is checked and the
original goes through the intake once. Staged bytes live under ``{data_dir}/uploads`` until
then; an upload left idle past its expiry is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.db import Upload, now
from ingest.errors import Refused
from ingest.identity import Caller
from ingest.media import MediaError
from ingest.store import sha256_file
from ingest.submissions import Declared, Intake
from ingest.tracks import Point

log = logging.getLogger(__name__)


class UploadError(Refused):
    """The upload cannot go on as asked."""


@dataclass(frozen=True, slots=True)
class UploadState:
    id: str
    offset: int
    length: int
    state: str
    expires_at: datetime
    submission_id: str | None
    created: bool = False


def _state(upload: Upload, created: bool = False) -> UploadState:
    return UploadState(
        upload.id,
        upload.offset,
        upload.length,
        upload.state,
        upload.expires_at,
        upload.submission_id,
        created,
    )


class Uploads:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        intake: Intake,
        staging: Path,
        max_bytes: int,
        ttl: timedelta = timedelta(hours=24),
    ) -> None:
        self.sessions = sessions
        self.intake = intake
        self.staging = staging
        self.max_bytes = max_bytes
        self.ttl = ttl

    def _path(self, upload_id: str) -> Path:
        return self.staging / f"{upload_id}.part"

    def open(
        self, caller: Caller, event_id: str, length: int, sha256: str, event: dict[str, Any]
    ) -> UploadState:
        """The upload for ``event_id``: a new one, or the one this sender already has."""
        if length > self.max_bytes:
            raise UploadError(
                413, "too_large", f"{length} bytes is over the {self.max_bytes} limit"
            )
        with self.sessions() as session:
            found = session.scalar(
                select(Upload).where(Upload.owner == caller.owner, Upload.event_id == event_id)
            )
            if found is not None:
                return self._existing(found, length, sha256)
        self.staging.mkdir(parents=True, exist_ok=True)
        try:
            with self.sessions.begin() as session:
                upload = Upload(
                    owner=caller.owner,
                    event_id=event_id,
                    length=length,
                    sha256=sha256,
                    event=event,
                    expires_at=now() + self.ttl,
                )
                session.add(upload)
                session.flush()
                self._path(upload.id).touch()
                return _state(upload, created=True)
        except IntegrityError:  # the same event opened twice at once: one of them won
            return self.open(caller, event_id, length, sha256, event)

    @staticmethod
    def _existing(upload: Upload, length: int, sha256: str) -> UploadState:
        if (upload.length, upload.sha256) != (length, sha256):
            raise UploadError(
                409, "event_conflict", "this event id was already used for different media"
            )
        if upload.state in ("failed", "expired"):
            raise UploadError(
                410,
                f"upload_{upload.state}",
                upload.error or f"the upload for this event is {upload.state}",
            )
        return _state(upload)

    def _owned(self, session: Session, caller: Caller, upload_id: str) -> Upload:
        upload = session.get(Upload, upload_id)
        if upload is None or upload.owner != caller.owner:
            raise UploadError(404, "no_such_upload", "no such upload")
        return upload

    def head(self, caller: Caller, upload_id: str) -> UploadState:
        with self.sessions() as session:
            upload = self._owned(session, caller, upload_id)
            if upload.state in ("failed", "expired"):
                raise UploadError(410, f"upload_{upload.state}", upload.error or upload.state)
            return _state(upload)

    def _writable(self, caller: Caller, upload_id: str, offset: int) -> int:
        with self.sessions() as session:
            upload = self._owned(session, caller, upload_id)
            if upload.state == "complete":
                raise UploadError(409, "already_complete", "the upload is already complete")
            if upload.state != "open":
                raise UploadError(410, f"upload_{upload.state}", upload.error or upload.state)
            if offset != upload.offset:
                raise UploadError(
                    409,
                    "offset_mismatch",
                    f"Upload-Offset {offset} is not the server's {upload.offset}",
                )
            return upload.length

    def _commit(self, caller: Caller, upload_id: str, offset: int) -> UploadState:
        with self.sessions.begin() as session:
            upload = self._owned(session, caller, upload_id)
            upload.offset = offset
            upload.expires_at = now() + self.ttl
            whole = upload.offset == upload.length
        return self._finish(caller, upload_id) if whole else self.head(caller, upload_id)

    async def append(
        self,
        caller: Caller,
        upload_id: str,
        offset: int,
        body: AsyncIterator[bytes],
        chunk_sha256: str | None,
    ) -> UploadState:
        """Write the bytes at ``offset``; when the upload is whole, take it in.

        The offset in the database is the commit point: bytes of a chunk cut off mid-way are
        dropped, and the sender resumes from the offset ``HEAD`` reports."""
        length = await asyncio.to_thread(self._writable, caller, upload_id, offset)
        with self._path(upload_id).open("r+b") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadError(
                    423, "upload_busy", "another request is writing this upload"
                ) from None
            fh.seek(offset)
            fh.truncate()
            digest, written = hashlib.sha256(), 0
            async for block in body:
                written += len(block)
                if offset + written > length:
                    fh.truncate(offset)
                    raise UploadError(413, "over_length", f"more bytes than Upload-Length {length}")
                digest.update(block)
                fh.write(block)
            if chunk_sha256 is not None and digest.hexdigest() != chunk_sha256.lower():
                fh.truncate(offset)
                raise UploadError(400, "digest_mismatch", "the body does not match its SHA-256")
            # No fsync per chunk: a crash that loses committed bytes is caught by the SHA-256
            # check of the whole file, which then restarts the upload.
            fh.flush()
        return await asyncio.to_thread(self._commit, caller, upload_id, offset + written)

    def _finish(self, caller: Caller, upload_id: str) -> UploadState:
        path = self._path(upload_id)
        with self.sessions() as session:
            upload = self._owned(session, caller, upload_id)
            declared, filename, expected = (
                _declared(caller, upload),
                upload.event.get("filename"),
                upload.sha256,
            )
        if sha256_file(path) != expected:
            with self.sessions.begin() as session:
                self._owned(session, caller, upload_id).offset = 0
            path.write_bytes(b"")
            raise UploadError(
                422,
                "sha256_mismatch",
                "the uploaded bytes do not match the declared SHA-256; send again",
            )
        try:
            accepted = self.intake.accept(path, filename, declared, caller.owner, expected)
        except MediaError as exc:
            self._fail(caller, upload_id, exc.reason)
            raise UploadError(exc.status, "bad_media", exc.reason) from exc
        with self.sessions.begin() as session:
            upload = self._owned(session, caller, upload_id)
            upload.state, upload.submission_id = "complete", accepted.id
            state = _state(upload)
        path.unlink(missing_ok=True)
        return state

    def _fail(self, caller: Caller, upload_id: str, reason: str) -> None:
        with self.sessions.begin() as session:
            upload = self._owned(session, caller, upload_id)
            upload.state, upload.error = "failed", reason
        self._path(upload_id).unlink(missing_ok=True)

    def delete(self, caller: Caller, upload_id: str) -> None:
        """tus termination: the sender gives an unfinished upload up."""
        with self.sessions.begin() as session:
            upload = self._owned(session, caller, upload_id)
            if upload.state == "complete":
                raise UploadError(409, "already_complete", "a complete upload cannot be deleted")
            upload.state, upload.error = "failed", "terminated by the sender"
        self._path(upload_id).unlink(missing_ok=True)

    def expire(self) -> int:
        """Delete the staged bytes of uploads left idle past their expiry."""
        with self.sessions.begin() as session:
            stale = session.scalars(
                select(Upload).where(Upload.state == "open", Upload.expires_at < now())
            ).all()
            for upload in stale:
                upload.state, upload.error = "expired", "no bytes arrived before it expired"
                with contextlib.suppress(FileNotFoundError):
                    self._path(upload.id).unlink()
            return len(stale)


def _declared(caller: Caller, upload: Upload) -> Declared:
    event = upload.event
    place = event.get("place") or {}

    def when(key: str) -> datetime | None:
        value = event.get(key)
        return datetime.fromisoformat(value) if value else None

    track = tuple(
        Point(datetime.fromisoformat(p["at"]), p["lat"], p["lon"], p.get("speed"))
        for p in event.get("track_points", [])
    )
    return Declared(
        violation=event.get("declared_violation"),
        latitude=place.get("lat"),
        longitude=place.get("lon"),
        taken_at=when("taken_at"),
        reporter=caller.id if caller.kind == "reporter" else None,
        device_id=caller.id if caller.kind == "device" else None,
        event_id=upload.event_id,
        trigger=event.get("trigger"),
        device_time=when("device_time"),
        clip_start=when("clip_start"),
        track=track,
    )
