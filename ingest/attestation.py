"""How a submission's original came to us: device-attested or reporter-supplied.

A dashcam signs the request that announces its event (protocol v1, Ed25519), and that request
names the media's SHA-256, which the server checks when the last byte arrives: such a clip's
hash was attested by a registered device, with the key that signed it. Anything an app
reporter uploads is what the reporter supplied, whatever it claims to be."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.db import Submission, Upload


@dataclass(frozen=True, slots=True)
class Capture:
    kind: str
    """device_attested or reporter_supplied."""
    device_id: str | None = None
    key_id: str | None = None


def capture_of(session: Session, submission: Submission) -> Capture:
    upload = session.scalar(
        select(Upload).where(Upload.submission_id == submission.id, Upload.owner.like("device:%"))
    )
    if upload is None or not upload.event.get("attested_key_id"):
        return Capture("reporter_supplied")
    device = upload.owner.removeprefix("device:")
    return Capture("device_attested", device, str(upload.event["attested_key_id"]))
