"""Accepting a submission: check the media, store the original once, write the submission and
its job in one transaction. Nothing is left behind when any step fails."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Literal, get_args

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest import exif
from ingest.audit import audit
from ingest.db import Job, MediaObject, Submission, TrackPoint, Upload, new_id, now
from ingest.dispatch import Dispatcher
from ingest.identity import Caller
from ingest.media import MediaInfo, probe
from ingest.store import ObjectExists, ObjectStore, hash_object, sha256_file
from ingest.tracks import Point, position_at

log = logging.getLogger(__name__)

Violation = Literal[
    "unspecified",
    "emergency_lane",
    "bus_lane",
    "covered_plate",
    "cloned_plate",
    "illegal_parking",
    "other",
]
VIOLATIONS: tuple[str, ...] = get_args(Violation)


@dataclass(frozen=True, slots=True)
class Declared:
    """What the sender says about the media; all optional."""

    violation: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    taken_at: datetime | None = None
    reporter: str | None = None
    device_id: str | None = None
    event_id: str | None = None
    trigger: str | None = None
    device_time: datetime | None = None
    clip_start: datetime | None = None
    """UTC time of the video's first frame by the device's clock."""
    track: tuple[Point, ...] = ()
    joint_reporters: tuple[str, ...] = ()
    """Other reporters' ids when reporters declare a joint report (the reward is split)."""
    taken_at_source: str | None = None
    place_source: str | None = None
    """How the sender got ``taken_at`` and the place: e.g. ``geolocation``, ``manual``."""


@dataclass(frozen=True, slots=True)
class Whereabouts:
    """Time and place of the evidence, each with the source it came from."""

    clip_start: datetime | None
    time_source: str | None
    latitude: float | None
    longitude: float | None
    place_source: str | None
    points: list[TrackPoint]
    time_zone: str | None = None
    """The zone a ``camera_clock`` time was read in (looked up from the place, or the
    default)."""


def whereabouts(
    path: Path | None, kind: str, declared: Declared, default_zone: str = exif.DEFAULT_ZONE
) -> Whereabouts:
    """The best time and place: a device track beats the photo's EXIF (GPS stamp, then capture
    time with offset, then camera clock), which beats the reporter's word."""
    points = [
        TrackPoint(
            at=p.at,
            latitude=p.latitude,
            longitude=p.longitude,
            speed_mps=p.speed_mps,
            source="device_track",
        )
        for p in declared.track
    ]
    start, time_source = declared.clip_start, "device_clock" if declared.clip_start else None
    photo = exif.read(path, default_zone) if kind == "image" and path is not None else None
    zone = None
    if photo is not None and photo.taken_at is not None:
        start, time_source, zone = photo.taken_at, photo.time_source, photo.time_zone
    if start is None and declared.taken_at is not None:
        start, time_source = declared.taken_at, "reporter"
    here = position_at(list(declared.track), start) if declared.track and start else None
    if declared.track and here is None:
        here = declared.track[0]
    if here is not None:
        return Whereabouts(
            start, time_source, here.latitude, here.longitude, "device_track", points, zone
        )
    if photo is not None and photo.latitude is not None and photo.longitude is not None:
        at = photo.taken_at or start or now()
        points.append(
            TrackPoint(at=at, latitude=photo.latitude, longitude=photo.longitude, source="gps")
        )
        return Whereabouts(start, time_source, photo.latitude, photo.longitude, "gps", points, zone)
    if declared.latitude is not None and declared.longitude is not None:
        return Whereabouts(
            start, time_source, declared.latitude, declared.longitude, "reporter", points, zone
        )
    return Whereabouts(start, time_source, None, None, None, points, zone)


@dataclass(frozen=True, slots=True)
class Accepted:
    """What the uploader is told: the submission's id and the original's hash."""

    id: str
    status: str
    sha256: str
    kind: str
    media_id: str
    job_id: str


def original_key(sha256: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}"


class Intake:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        dispatcher: Dispatcher,
        max_attempts: int = 3,
        max_video_seconds: float = 600.0,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.dispatcher = dispatcher
        self.max_attempts = max_attempts
        self.max_video_seconds = max_video_seconds
        self.camera_time_zone = exif.DEFAULT_ZONE
        """The zone of a photo's camera clock when nothing better is known (settings)."""

    def accept(
        self,
        path: Path,
        filename: str | None,
        declared: Declared,
        actor: str = "reporter",
        sha256: str | None = None,
    ) -> Accepted:
        """Check ``path`` (raises :class:`ingest.media.MediaError`), store and enqueue it.
        ``sha256``: the file's digest when the caller has just computed it."""
        done = self._already(declared)
        if done is not None:
            return done
        info = probe(path, self.max_video_seconds, filename)
        sha256 = sha256 or sha256_file(path)
        return self._recorded(path, path.stat().st_size, sha256, info, filename, declared, actor)

    def accept_stored(
        self,
        reader: BinaryIO,
        size: int,
        filename: str | None,
        declared: Declared,
        actor: str,
        sha256: str,
    ) -> Accepted:
        """Take in a video that a direct upload assembled at its original's key, probing it
        where it lies (``reader``: the object read by range), with no local copy. The event
        is not looked up first: taken in already (rare), its unique key refuses the insert
        and the submission made is returned (:meth:`_recorded`)."""
        info = probe(reader, self.max_video_seconds, filename)
        return self._recorded(None, size, sha256, info, filename, declared, actor)

    def _recorded(
        self,
        path: Path | None,
        size: int,
        sha256: str,
        info: MediaInfo,
        filename: str | None,
        declared: Declared,
        actor: str,
    ) -> Accepted:
        try:
            return self._record(path, size, sha256, info, filename, declared, actor)
        except IntegrityError:
            # This event was taken in by another request at the same moment (one submission
            # per sender's event id), or the same original was stored: link to it.
            done = self._already(declared)
            if done is not None:
                return done
            return self._record(path, size, sha256, info, filename, declared, actor)

    def _already(self, declared: Declared) -> Accepted | None:
        """The submission already made for the sender's event id, if any."""
        sender = (
            Submission.device_id == declared.device_id
            if declared.device_id
            else Submission.reporter == declared.reporter
        )
        if declared.event_id is None or not (declared.device_id or declared.reporter):
            return None
        with self.sessions() as session:
            found = session.scalar(
                select(Submission).where(sender, Submission.event_id == declared.event_id)
            )
            if found is None:
                return None
            job = found.jobs[0].id if found.jobs else ""
            return Accepted(
                found.id, found.status, found.media.sha256, found.media.kind, found.media_id, job
            )

    def _store_original(self, path: Path | None, sha256: str, info: MediaInfo) -> bool:
        """Store the original unless it is there (``path`` None: a direct upload assembled it
        there and sealed it with this SHA-256 itself, so there is nothing to ask the store)."""
        if path is None:
            return False
        try:
            self.store.put_file(original_key(sha256), path, info.content_type, sha256)
            return True
        except ObjectExists:
            if self.store.stat(original_key(sha256)).sha256 != sha256:
                raise RuntimeError(
                    f"object {original_key(sha256)} does not match its hash"
                ) from None
            return False

    def _confirm_stored(self, key: str, sha256: str, path: Path, content_type: str) -> None:
        """Before another report links to a stored original: an original that a direct upload
        put (checked part by part, docs/protocol.md 6.3) is hashed whole now, and if its bytes
        are not what its hash says, ours (hashed by us) take its place. Rare: the same file
        sent again before the first one's job confirmed it."""
        if self.store.stat(key).checked == "sha256" or hash_object(self.store, key) == sha256:
            return
        log.warning("stored original %s does not match its hash; replaced by checked bytes", key)
        self.store.delete(key)
        self.store.put_file(key, path, content_type, sha256)

    def _record(
        self,
        path: Path | None,
        size: int,
        sha256: str,
        info: MediaInfo,
        filename: str | None,
        declared: Declared,
        actor: str,
    ) -> Accepted:
        created_object = False
        try:
            with self.sessions.begin() as session:
                media = session.scalar(select(MediaObject).where(MediaObject.sha256 == sha256))
                if media is None:
                    created_object = self._store_original(path, sha256, info)
                    media = MediaObject(
                        id=new_id(),
                        sha256=sha256,
                        key=original_key(sha256),
                        size=size,
                        content_type=info.content_type,
                        kind=info.kind,
                    )
                    session.add(media)
                elif path is not None:
                    self._confirm_stored(media.key, sha256, path, info.content_type)
                where = whereabouts(path, info.kind, declared, self.camera_time_zone)
                # Ids given here: one flush writes the rows (each flush costs a unit of work).
                submission = Submission(
                    id=new_id(),
                    media_id=media.id,
                    filename=(filename or "")[:255] or None,
                    declared_violation=declared.violation,
                    latitude=where.latitude,
                    longitude=where.longitude,
                    taken_at=declared.taken_at,
                    reporter=declared.reporter,
                    device_id=declared.device_id,
                    event_id=declared.event_id,
                    trigger=declared.trigger,
                    device_time=declared.device_time,
                    clip_start=where.clip_start,
                    time_source=where.time_source,
                    time_zone=where.time_zone,
                    place_source=where.place_source,
                    track=where.points,
                    joint_reporters=list(declared.joint_reporters),
                    declared_latitude=declared.latitude,
                    declared_longitude=declared.longitude,
                    declared_time_source=declared.taken_at_source if declared.taken_at else None,
                    declared_place_source=declared.place_source
                    if declared.latitude is not None
                    else None,
                )
                session.add(submission)
                job = Job(id=new_id(), submission_id=submission.id, max_attempts=self.max_attempts)
                session.add(job)
                audit(
                    session,
                    actor,
                    "submitted",
                    "submission",
                    submission.id,
                    {"sha256": sha256, "kind": info.kind, "size": media.size},
                )
                session.flush()
                accepted = Accepted(
                    submission.id, submission.status, sha256, media.kind, media.id, job.id
                )
        except BaseException:
            if created_object:
                self.store.delete(original_key(sha256))
            raise
        try:
            self.dispatcher.dispatch(accepted.job_id)
        except Exception:  # the sweeper dispatches it later; the ledger has it
            log.exception("dispatch of job %s failed; it stays queued", accepted.job_id)
        return accepted


def declared_of(caller: Caller, upload: Upload) -> Declared:
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
        taken_at_source=event.get("taken_at_source"),
        place_source=place.get("source"),
    )
