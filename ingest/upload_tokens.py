"""Upload tokens: a short-lived bearer token bound to one upload (protocol v2).

The signed ``POST /v1/events`` hands one out with the upload, so a device can send the bytes
with any unchanged tus client and one header set once (``Authorization: Bearer rwu_…``)
instead of signing every chunk. The token opens that upload and nothing else; only its
SHA-256 is stored, and each ``POST /v1/events`` for the event issues a fresh one (earlier ones
stay valid until they expire, so two senders of one event do not lock each other out).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from ingest.db import Upload, UploadToken, now
from ingest.identity import AuthError, Caller

PREFIX = "rwu_"
TOKEN_TTL = timedelta(hours=6)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenCaller:
    """Who an upload token speaks for, and the one upload it may touch."""

    caller: Caller
    upload_id: str


class UploadTokens:
    def __init__(self, sessions: sessionmaker[Session], ttl: timedelta = TOKEN_TTL) -> None:
        self.sessions = sessions
        self.ttl = ttl

    def issue(self, upload_id: str, session: Session | None = None) -> Issued:
        """A new token for the upload; written in ``session``'s transaction if given."""
        token = PREFIX + secrets.token_urlsafe(32)
        expires_at = now() + self.ttl
        row = UploadToken(token_sha256=_digest(token), upload_id=upload_id, expires_at=expires_at)
        if session is not None:
            session.add(row)
        else:
            with self.sessions.begin() as own:
                own.add(row)
        return Issued(token, expires_at)

    def verify(self, token: str) -> TokenCaller:
        with self.sessions() as session:
            found = session.get(UploadToken, _digest(token.strip()))
            if found is None:
                raise AuthError(401, "bad_token", "unknown upload token")
            if found.expires_at < now():
                raise AuthError(
                    401, "token_expired", "the upload token expired; open the event again"
                )
            upload = session.get(Upload, found.upload_id)
            if upload is None:
                raise AuthError(401, "bad_token", "unknown upload token")
            kind, _, caller_id = upload.owner.partition(":")
            return TokenCaller(Caller(kind, caller_id), upload.id)

    def prune(self) -> int:
        with self.sessions.begin() as session:
            result = session.execute(delete(UploadToken).where(UploadToken.expires_at < now()))
            return int(getattr(result, "rowcount", 0))


def is_upload_token(token: str) -> bool:
    return token.strip().startswith(PREFIX)
