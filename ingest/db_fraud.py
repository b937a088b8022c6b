"""Tables of the anti-fraud checks: each submission's perceptual fingerprint.

(Submissions, reporters and the audit log are in ``ingest.db``; this shares its metadata.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ingest.db import Base, now


class MediaFingerprint(Base):
    """The perceptual hashes of one submission's media (``workers.fingerprint``): 8 bytes
    big-endian per hash. Rows are only ever added, so a worker's in-memory index loads the
    rows after the last id it has seen."""

    __tablename__ = "media_fingerprints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    hashes: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=now)
