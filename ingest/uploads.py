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
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.db import Upload, now
from ingest.errors import Refused
from ingest.identity import Caller
from ingest.media import MediaError
from ingest.store import CHUNK, sha256_file
from ingest.submissions import Intake, declared_of
from ingest.upload_leases import Leases

log = logging.getLogger(__name__)
AWAIT_COMPLETION_S = 10.0
"""How long a request for an upload that another request is completing waits for its
submission before answering without one (the sender asks again with HEAD)."""


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


def state_of(upload: Upload, created: bool = False) -> UploadState:
    """What a client is told of an upload (tus offset, length, expiry, its report)."""
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
        self.leases = Leases(sessions)

    def _path(self, upload_id: str) -> Path:
        return self.staging / f"{upload_id}.part"

    def open(
        self,
        caller: Caller,
        event_id: str,
        length: int,
        sha256: str,
        event: dict[str, Any],
        admit: Callable[[Session], None] | None = None,
        created: Callable[[Session, str], None] | None = None,
    ) -> UploadState:
        """The upload for ``event_id``: a new one, or the one this sender already has.
        ``admit`` (a rate check) may refuse a new one, and ``created`` writes with it (its
        token), both in the transaction that adds it: no transaction of their own."""
        if length > self.max_bytes:
            raise UploadError(
                413, "too_large", f"{length} bytes is over the {self.max_bytes} limit"
            )
        self.staging.mkdir(parents=True, exist_ok=True)
        try:
            with self.sessions.begin() as session:  # one transaction: look up, or add
                found = session.scalar(
                    select(Upload).where(Upload.owner == caller.owner, Upload.event_id == event_id)
                )
                if found is not None:
                    return self._existing(found, length, sha256)
                if admit is not None:
                    admit(session)
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
                if created is not None:
                    created(session, upload.id)
                return state_of(upload, created=True)
        except IntegrityError:  # the same event opened twice at once: one of them won
            return self.open(caller, event_id, length, sha256, event, admit, created)

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
        return state_of(upload)

    def _owned(self, session: Session, caller: Caller, upload_id: str) -> Upload:
        upload = session.get(Upload, upload_id)
        if upload is None or upload.owner != caller.owner:
            raise UploadError(404, "no_such_upload", "no such upload")
        return upload

    def _current(self, caller: Caller, upload_id: str) -> UploadState:
        with self.sessions() as session:
            return state_of(self._owned(session, caller, upload_id))

    def head(self, caller: Caller, upload_id: str) -> UploadState:
        """The upload's state; one whose bytes are all in but that has no submission (its
        completion was cut short by a crash) is completed first."""
        state = self._current(caller, upload_id)
        if state.state in ("failed", "expired"):
            raise UploadError(410, f"upload_{state.state}", self._error(upload_id, state.state))
        if state.state == "open" and state.offset == state.length:
            return self._complete(caller, upload_id)
        return state

    def _error(self, upload_id: str, default: str) -> str:
        with self.sessions() as session:
            upload = session.get(Upload, upload_id)
            return (upload.error if upload else None) or default

    def _refusal(self, caller: Caller, upload_id: str, offset: int) -> UploadState:
        """Why a lease at ``offset`` was not granted, as the error to answer; or the state
        when the upload is already complete and the sender only resumes at its end."""
        state = self._current(caller, upload_id)
        if state.state == "complete":
            if offset == state.length:
                return state  # a resume after the last byte: tell the sender its submission
            raise UploadError(409, "already_complete", "the upload is already complete")
        if state.state != "open":
            raise UploadError(410, f"upload_{state.state}", self._error(upload_id, state.state))
        if offset != state.offset:
            raise UploadError(
                409, "offset_mismatch", f"Upload-Offset {offset} is not the server's {state.offset}"
            )
        if offset == state.length:  # all bytes are in and another request takes them in
            return self._await_completion(caller, upload_id)
        raise UploadError(423, "upload_busy", "another request is writing this upload; retry")

    async def append(
        self,
        caller: Caller,
        upload_id: str,
        offset: int,
        body: AsyncIterator[bytes],
        chunk_sha256: str | None,
    ) -> UploadState:
        """Write the bytes at ``offset``; when the upload is whole, take it in.

        The body is received into a file of this request's own, then appended under the
        upload's lease if the offset still holds, so racing senders never mix their bytes:
        one wins, the others get ``409 offset_mismatch`` and resume from ``HEAD``. The offset in
        the database is the commit point."""
        state = await asyncio.to_thread(self._current, caller, upload_id)
        if state.state != "open" or offset != state.offset:
            return await asyncio.to_thread(self._refusal, caller, upload_id, offset)
        self.staging.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=self.staging) as chunk:
            digest, written = hashlib.sha256(), 0
            async for block in body:
                written += len(block)
                if offset + written > state.length:
                    raise UploadError(
                        413, "over_length", f"more bytes than Upload-Length {state.length}"
                    )
                digest.update(block)
                chunk.write(block)
            if chunk_sha256 is not None and digest.hexdigest() != chunk_sha256.lower():
                raise UploadError(400, "digest_mismatch", "the body does not match its SHA-256")
            chunk.flush()
            if written == 0 and offset < state.length:
                return state
            end = offset + written
            return await asyncio.to_thread(
                self._commit, caller, upload_id, offset, chunk, end == state.length
            )

    def _commit(
        self, caller: Caller, upload_id: str, offset: int, chunk: BinaryIO, whole: bool
    ) -> UploadState:
        """Under the upload's lease (if the offset still holds): append the received bytes,
        move the offset, and complete the upload when they were its last."""
        token = self.leases.take(upload_id, caller.owner, offset)
        if token is None:
            return self._refusal(caller, upload_id, offset)
        with self.leases.held(upload_id, token):
            end = self._write_at(upload_id, offset, chunk)
            if end > offset:
                with self.sessions.begin() as session:
                    self.leases.release(
                        session,
                        upload_id,
                        token,
                        keep=whole,
                        offset=end,
                        expires_at=now() + self.ttl,
                    )
            if not whole:
                return self._current(caller, upload_id)
            return self._finish(caller, upload_id, token)

    def _write_at(self, upload_id: str, offset: int, chunk: BinaryIO) -> int:
        """Copy ``chunk`` into the staged file at ``offset``; the new end."""
        # No fsync per chunk: a crash that loses committed bytes is caught by the SHA-256
        # check of the whole file, which then restarts the upload.
        chunk.seek(0)
        fd = os.open(self._path(upload_id), os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as fh:
            fh.seek(offset)
            shutil.copyfileobj(chunk, fh, CHUNK)
            end = fh.tell()
            fh.truncate(end)
        return end

    def _complete(self, caller: Caller, upload_id: str) -> UploadState:
        """Complete an upload whose bytes are all committed, or wait for the request that is
        completing it."""
        state = self._current(caller, upload_id)
        token = self.leases.take(upload_id, caller.owner, state.length)
        if token is None:
            return self._await_completion(caller, upload_id)
        with self.leases.held(upload_id, token):
            return self._finish(caller, upload_id, token)

    def _await_completion(self, caller: Caller, upload_id: str) -> UploadState:
        deadline = time.monotonic() + AWAIT_COMPLETION_S
        while True:
            state = self._current(caller, upload_id)
            if state.state != "open" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if state.state in ("failed", "expired"):
            raise UploadError(410, f"upload_{state.state}", self._error(upload_id, state.state))
        return state  # still open: its completer is at work; HEAD again for the submission

    def _finish(self, caller: Caller, upload_id: str, token: str) -> UploadState:
        """Check the whole file and take it in, under the upload's lease."""
        path = self._path(upload_id)
        with self.sessions() as session:
            upload = self._owned(session, caller, upload_id)
            declared, filename, expected = (
                declared_of(caller, upload),
                upload.event.get("filename"),
                upload.sha256,
            )
        if not path.exists() or sha256_file(path) != expected:
            with self.sessions.begin() as session:
                self.leases.release(session, upload_id, token, offset=0)
            path.write_bytes(b"")
            raise UploadError(
                422,
                "sha256_mismatch",
                "the uploaded bytes do not match the declared SHA-256; send again",
            )
        try:
            accepted = self.intake.accept(path, filename, declared, caller.owner, expected)
        except MediaError as exc:
            with self.sessions.begin() as session:
                self.leases.release(session, upload_id, token, state="failed", error=exc.reason)
            path.unlink(missing_ok=True)
            raise UploadError(exc.status, "bad_media", exc.reason) from exc
        with self.sessions.begin() as session:
            self.leases.release(
                session, upload_id, token, state="complete", submission_id=accepted.id
            )
        path.unlink(missing_ok=True)
        return self._current(caller, upload_id)

    def complete_stalled(self) -> int:
        """Housekeeping: complete uploads whose bytes are all in but whose completion was cut
        short (the API died after the last byte was committed)."""
        with self.sessions() as session:
            stalled = session.execute(
                select(Upload.id, Upload.owner).where(
                    Upload.state == "open",
                    Upload.offset == Upload.length,
                    or_(Upload.lease_token.is_(None), Upload.lease_expires_at < now()),
                )
            ).all()
        done = 0
        for upload_id, owner in stalled:
            kind, _, sender = owner.partition(":")
            try:
                self._complete(Caller(kind, sender), upload_id)
                done += 1
            except UploadError as exc:  # bad media or bytes: the upload says so now
                log.info("stalled upload %s: %s", upload_id, exc.detail)
        return done

    def delete(self, caller: Caller, upload_id: str) -> None:
        """tus termination: the sender gives an unfinished upload up."""
        state = self._current(caller, upload_id)
        if state.state == "complete":
            raise UploadError(409, "already_complete", "a complete upload cannot be deleted")
        token = self.leases.take(upload_id, caller.owner)
        if token is None:
            self._refusal(caller, upload_id, state.offset)
            return
        with self.sessions.begin() as session:
            self.leases.release(
                session, upload_id, token, state="failed", error="terminated by the sender"
            )
        self._path(upload_id).unlink(missing_ok=True)

    def expire(self) -> int:
        """Delete the staged bytes of uploads left idle past their expiry (never one a request
        holds). A request's body in transit is in an anonymous file, gone when it ends."""
        with self.sessions() as session:
            stale = session.execute(
                select(Upload.id, Upload.owner).where(
                    Upload.state == "open", Upload.expires_at < now()
                )
            ).all()
        expired = 0
        for upload_id, owner in stale:
            token = self.leases.take(upload_id, owner)
            if token is None:
                continue
            with self.sessions.begin() as session:
                self.leases.release(
                    session,
                    upload_id,
                    token,
                    state="expired",
                    error="no bytes arrived before it expired",
                )
            with contextlib.suppress(FileNotFoundError):
                self._path(upload_id).unlink()
            expired += 1
        return expired
