"""The anti-fraud stage of a job: fingerprint the media, look for earlier submissions showing
the same pictures, look for signs of editing, and record each finding as a flag on the
submission's cases (the same flag list as ``cloned_plate@1``), never as a decision."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest import exif
from ingest.db import AuditEvent, Case, Device, Submission
from ingest.db_fraud import MediaFingerprint
from workers.fingerprint import Fingerprint, FingerprintIndex, Match, fingerprint
from workers.scan import Scan, scan_file
from workers.tamper import Sign, photo_signs, software_signs, video_signs

log = logging.getLogger(__name__)
REUSED = "reused_media@1"
SOFTWARE, GPS_IFD = 0x0131, 0x8825


@dataclass(frozen=True, slots=True)
class FraudConfig:
    exif_gps_tolerance_s: float = 300.0
    place_max_km: float = 2.0
    device_encoders: dict[str, list[str]] | None = None
    """Device model -> substrings of the tags its recorder writes (container check)."""


@dataclass(frozen=True, slots=True)
class Examined:
    """What the media itself shows, computed before the job's transaction."""

    print_: Fingerprint
    signs: list[Sign]
    tags: dict[str, str]
    photo: dict[str, Any]


def _photo_facts(path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """EXIF Software, GPS UTC time and place of a photo."""
    from PIL import Image

    facts = exif.read(path, gps_time=False)  # the camera's clock, to hold against GPS time
    tags: dict[str, str] = {}
    gps_time = None
    try:
        with Image.open(path) as im:
            raw = im.getexif()
        if raw.get(SOFTWARE):
            tags["software"] = str(raw[SOFTWARE]).strip("\x00 ")
        gps_time = exif.gps_stamp(dict(raw.get_ifd(GPS_IFD)))  # as the intake reads it
    except Exception:  # unreadable EXIF is no sign of anything
        gps_time = None
    place = (facts.latitude, facts.longitude) if facts.latitude is not None else None
    return tags, {"exif_time": facts.taken_at, "gps_time": gps_time, "place": place}


def examine(path: Path, kind: str, scan: Scan | None = None) -> Examined | None:
    """The media's fingerprint and signs (from ``scan`` when the job's decoding pass made it);
    None (logged) when it cannot be scanned: the checks must never fail a job whose evidence
    the recognition stages could read."""
    try:
        return _examine(path, kind, scan)
    except Exception:
        log.exception("anti-fraud scan of %s failed; no fingerprint for it", path.name)
        return None


def _examine(path: Path, kind: str, scan: Scan | None) -> Examined:
    scan = scan if scan is not None else scan_file(path, kind)
    tags, photo = (scan.tags, {}) if kind == "video" else _photo_facts(path)
    return Examined(fingerprint(scan), video_signs(scan), tags, photo)


class FraudChecks:
    """Per worker: the fingerprint index, kept in step with the database's table."""

    def __init__(self, config: FraudConfig | None = None) -> None:
        self.config = config or FraudConfig()
        self.index = FingerprintIndex()

    def refresh(self, session: Session) -> None:
        rows = session.execute(
            select(MediaFingerprint.id, MediaFingerprint.submission_id, MediaFingerprint.hashes)
            .where(MediaFingerprint.id > self.index.last_id)
            .order_by(MediaFingerprint.id)
        )
        for row_id, owner, data in rows:
            self.index.add(owner, Fingerprint.stored("", data).hashes)
            self.index.last_id = row_id

    def record(self, session: Session, submission: Submission, seen: Examined, actor: str) -> None:
        """Store the fingerprint, flag re-use and signs of editing on the cases."""
        self.refresh(session)
        matches = self.index.search(seen.print_, exclude=submission.id)
        if session.scalar(
            select(MediaFingerprint.id).where(MediaFingerprint.submission_id == submission.id)
        ) is None and len(seen.print_.hashes):
            session.add(
                MediaFingerprint(
                    submission_id=submission.id,
                    kind=seen.print_.kind,
                    hashes=seen.print_.to_bytes(),
                )
            )
        for match in matches:
            other = session.get(Submission, match.owner)
            if other is None:
                continue
            later, earlier = (
                (submission, other)
                if other.created_at <= submission.created_at
                else (other, submission)
            )
            _flag_reuse(session, later, earlier, match, actor)
        signs = seen.signs + self._metadata_signs(session, submission, seen)
        cases = _cases(session, submission.id)
        for sign in signs:
            for case in cases:
                if any(f.get("kind") == sign.kind for f in case.flags):
                    continue
                case.flags = [*case.flags, sign.flag()]
            session.add(
                AuditEvent(
                    actor=actor,
                    action="flag_raised",
                    entity="submission",
                    entity_id=submission.id,
                    data=sign.flag(),
                )
            )

    def _metadata_signs(self, session: Session, sub: Submission, seen: Examined) -> list[Sign]:
        model = None
        if sub.device_id:
            device = session.get(Device, sub.device_id)
            model = device.model if device else None
        signs = software_signs(seen.tags, model, self.config.device_encoders or {})
        if seen.photo:
            declared = None
            if sub.declared_latitude is not None and sub.declared_longitude is not None:
                declared = (sub.declared_latitude, sub.declared_longitude)
            signs += photo_signs(
                seen.photo["exif_time"],
                seen.photo["gps_time"],
                self.config.exif_gps_tolerance_s,
                seen.photo["place"],
                declared,
                self.config.place_max_km,
            )
        return signs


def _cases(session: Session, submission_id: str) -> list[Case]:
    return list(
        session.scalars(
            select(Case).where(Case.submission_id == submission_id).order_by(Case.created_at)
        )
    )


def _sender(sub: Submission) -> str | None:
    return sub.reporter or (f"device:{sub.device_id}" if sub.device_id else None)


def _twin(case: Case, theirs: list[Case]) -> Case | None:
    """The earlier submission's case of the same vehicle: same plate, or the only case."""
    same_plate = [c for c in theirs if c.plate and c.plate == case.plate]
    if same_plate:
        return same_plate[0]
    return theirs[0] if len(theirs) == 1 else None


def _flag_reuse(
    session: Session, later: Submission, earlier: Submission, match: Match, actor: str
) -> None:
    """Flag the later submission's cases, linking the earlier's. A sender re-sending its own
    footage of the same incident is no re-use; the same footage from someone else joins the
    earlier incident, so the first reporter rule gives the reward to the first."""
    mine, theirs = _cases(session, later.id), _cases(session, earlier.id)
    same_sender = _sender(later) is not None and _sender(later) == _sender(earlier)
    if same_sender and {c.incident_id for c in mine} & {c.incident_id for c in theirs}:
        return
    how = "a mirrored copy of" if match.mirrored else "the same pictures as"
    reason = (
        f"{how} submission {earlier.id} of {earlier.created_at:%Y-%m-%d %H:%M} UTC "
        f"({match.share:.0%} of frames match)"
        + (" from the same sender, as a new incident" if same_sender else " by another sender")
    )
    data = {
        "other_submission": earlier.id,
        "share": match.share,
        "mirrored": match.mirrored,
        "same_sender": same_sender,
    }
    for case in mine:
        if any(f.get("kind") == REUSED for f in case.flags):
            continue
        twin = _twin(case, theirs)
        flag = {"kind": REUSED, "reason": reason, **data, "other_case": twin.id if twin else None}
        case.flags = [*case.flags, flag]
        if twin is not None and not same_sender and twin.violation == case.violation:
            case.incident_id = twin.incident_id or twin.id  # the first reporter rule decides
        session.add(
            AuditEvent(
                actor=actor, action="flag_raised", entity="case", entity_id=case.id, data=flag
            )
        )
    if not mine:
        session.add(
            AuditEvent(
                actor=actor,
                action="flag_raised",
                entity="submission",
                entity_id=later.id,
                data={"kind": REUSED, "reason": reason, **data},
            )
        )
