"""One request at a time per upload: a lease taken by a conditional update of the upload's row.

Appending bytes and completing an upload each happen under the upload's lease, so two clients
resuming one upload can never interleave their writes, truncate each other's bytes, or both
take the upload in. The lease is a plain ``UPDATE ... WHERE lease is free``: atomic on SQLite
(one writer at a time) and on PostgreSQL (the row lock makes a second updater re-check the
condition), with no transaction held while bytes move. Its holder renews it while it works; a
holder that crashes stops renewing, and the lease can be taken over ``ttl`` later.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import or_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from ingest.db import Upload, new_id, now
from ingest.errors import Refused

LEASE_TTL = timedelta(seconds=20)


class LeaseLost(Refused):
    """The lease lapsed while its holder worked (it stalled past the TTL) and was taken."""

    def __init__(self, upload_id: str) -> None:
        super().__init__(
            409, "upload_busy", f"another request took upload {upload_id} over; ask HEAD"
        )


def _rows(session: Session, statement: Any) -> int:
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount


class Leases:
    def __init__(self, sessions: sessionmaker[Session], ttl: timedelta = LEASE_TTL) -> None:
        self.sessions = sessions
        self.ttl = ttl

    def take(self, upload_id: str, owner: str, offset: int | None = None) -> str | None:
        """A new lease token, or None when the upload is not open, not at ``offset`` (when
        given), or leased by a live holder. The caller then reads the row to say which."""
        token, t = new_id(), now()
        conditions = [
            Upload.id == upload_id,
            Upload.owner == owner,
            Upload.state == "open",
            or_(Upload.lease_token.is_(None), Upload.lease_expires_at < t),
        ]
        if offset is not None:
            conditions.append(Upload.offset == offset)
        statement = (
            update(Upload)
            .where(*conditions)
            .values(lease_token=token, lease_expires_at=t + self.ttl)
            .execution_options(synchronize_session=False)
        )
        with self.sessions.begin() as session:
            return token if _rows(session, statement) == 1 else None

    def renew(self, upload_id: str, token: str) -> bool:
        statement = (
            update(Upload)
            .where(Upload.id == upload_id, Upload.lease_token == token)
            .values(lease_expires_at=now() + self.ttl)
            .execution_options(synchronize_session=False)
        )
        with self.sessions.begin() as session:
            return _rows(session, statement) == 1

    def release(
        self, session: Session, upload_id: str, token: str, keep: bool = False, **values: Any
    ) -> None:
        """Write ``values`` and free the lease (unless ``keep``) in the caller's transaction;
        raises :class:`LeaseLost` when the lease is no longer this holder's."""
        free = {} if keep else {"lease_token": None, "lease_expires_at": None}
        statement = (
            update(Upload)
            .where(Upload.id == upload_id, Upload.lease_token == token)
            .values(**free, **values)
            .execution_options(synchronize_session=False)
        )
        if _rows(session, statement) != 1:
            raise LeaseLost(upload_id)

    @contextlib.contextmanager
    def held(self, upload_id: str, token: str) -> Iterator[None]:
        """Renew the lease in the background while the block runs; free it if the block
        leaves it held (an error), so the next request need not wait for it to lapse."""
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(self.ttl.total_seconds() / 3):
                try:
                    if not self.renew(upload_id, token):
                        return
                except Exception:  # a database blink: try again at the next beat
                    continue

        beat = threading.Thread(target=keep, name=f"lease-{upload_id}", daemon=True)
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()
            with contextlib.suppress(Exception), self.sessions.begin() as session:
                session.execute(
                    update(Upload)
                    .where(Upload.id == upload_id, Upload.lease_token == token)
                    .values(lease_token=None, lease_expires_at=None)
                    .execution_options(synchronize_session=False)
                )
