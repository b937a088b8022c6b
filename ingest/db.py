"""The database: submissions, media objects, jobs (the queue's ledger), cases, evidence items
and audit events. SQLAlchemy 2 models; the schema itself is made by Alembic migrations."""

from __future__ import annotations

import select
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Times are stored in UTC and always come back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware UTC times")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class MediaObject(Base):
    """One original file in the object store, stored once per SHA-256."""

    __tablename__ = "media_objects"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    key: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=now)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=now)
    status: Mapped[str] = mapped_column(String(20), default="received")
    """received, processing, candidate (cases await review), no_case, failed."""
    media_id: Mapped[str] = mapped_column(ForeignKey("media_objects.id"))
    filename: Mapped[str | None] = mapped_column(String(255))
    declared_violation: Mapped[str | None] = mapped_column(String(40))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    taken_at: Mapped[datetime | None] = mapped_column()
    reporter: Mapped[str | None] = mapped_column(String(64))
    """The reporter account's id (app reporters), if any."""
    error: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str | None] = mapped_column(String(10))
    """button or automatic (dashcams)."""
    device_time: Mapped[datetime | None] = mapped_column()
    """The device's clock when the event fired, as it reported it."""
    clip_start: Mapped[datetime | None] = mapped_column()
    """UTC time of the first frame, from the best source (see time_source)."""
    time_source: Mapped[str | None] = mapped_column(String(12))
    """device_track, device_clock, gps (a photo's GPS stamp), exif_offset (capture time with
    its recorded offset), camera_clock (capture time read in ``time_zone``) or reporter."""
    time_zone: Mapped[str | None] = mapped_column(String(64))
    """The zone assumed for a camera_clock time (the place's, looked up, or the default)."""
    place_source: Mapped[str | None] = mapped_column(String(12))
    """device_track, gps (a photo's GPS EXIF) or reporter."""
    joint_reporters: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Other reporters who declared this a joint report: the reward is split evenly."""
    declared_latitude: Mapped[float | None] = mapped_column(Float)
    declared_longitude: Mapped[float | None] = mapped_column(Float)
    """The place the sender declared, kept even when a better source gave latitude/longitude
    (a photo's GPS far from it is a sign of a re-used photo)."""
    declared_time_source: Mapped[str | None] = mapped_column(String(16))
    declared_place_source: Mapped[str | None] = mapped_column(String(16))
    """How the sender got the time and place it declared (api/schemas_protocol.py: SOURCES)."""

    media: Mapped[MediaObject] = relationship()
    track: Mapped[list[TrackPoint]] = relationship(order_by="TrackPoint.at")
    cases: Mapped[list[Case]] = relationship(back_populates="submission", order_by="Case.t_start")
    jobs: Mapped[list[Job]] = relationship(back_populates="submission", order_by="Job.created_at")
    __table_args__ = (
        # One submission per sender's event id, however many requests race to complete it.
        UniqueConstraint("device_id", "event_id", name="uq_submissions_device_event"),
        UniqueConstraint("reporter", "event_id", name="uq_submissions_reporter_event"),
        Index("ix_submissions_reporter_created", "reporter", "created_at"),
        Index("ix_submissions_device_created", "device_id", "created_at"),
    )


class Job(Base):
    """The ledger of work: written with its submission, so an accepted upload has its job."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    kind: Mapped[str] = mapped_column(String(30), default="process_submission")
    state: Mapped[str] = mapped_column(String(12), default="queued")
    """queued, running, done, failed."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    last_error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    run_after: Mapped[datetime] = mapped_column(default=now)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    finished_at: Mapped[datetime | None] = mapped_column()

    submission: Mapped[Submission] = relationship(back_populates="jobs")
    __table_args__ = (Index("ix_jobs_state_run_after", "state", "run_after"),)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="candidate")
    """candidate (in the review queue), under_review (claimed), confirmed, rejected; see
    ``cases.lifecycle``."""
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None] = mapped_column()
    incident_id: Mapped[str | None] = mapped_column(String(32), index=True)
    """Cases of one incident (same plate and item, close in time and place) share this id."""
    reward_exclusions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Reporter id -> why that reporter gets no reward for this case (accomplice, victim)."""
    violation: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(40), default="declared@1")
    """The versioned rule that fired, e.g. ``bus_lane@1``."""
    rules_version: Mapped[str] = mapped_column(String(64), default="builtin")
    """The edition of the rule data (segments, hours, thresholds) it was judged with."""
    case_key: Mapped[str] = mapped_column(String(120))
    """Rule, vehicle and interval: one case per key and submission, so a redone job adds none."""
    explanation: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    track_id: Mapped[int | None] = mapped_column(Integer)
    observed_at: Mapped[datetime | None] = mapped_column()
    """Wall time (UTC) of the 'during' moment, when the submission's time is known."""
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Signals for the officer, e.g. a possible cloned plate; never decisions."""
    plate: Mapped[str | None] = mapped_column(String(16))
    """None when no plate could be read (a covered-plate candidate)."""
    plate_confidence: Mapped[float] = mapped_column(Float)
    plate_colour: Mapped[str | None] = mapped_column(String(10))
    plate_chars: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Per plate position, the reader's top three ``[char, p]`` (the officer's alternatives)."""
    vehicle_class: Mapped[str] = mapped_column(String(20))
    t_start: Mapped[float] = mapped_column(Float)
    t_end: Mapped[float] = mapped_column(Float)
    models: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=now)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str | None] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="cases")
    evidence: Mapped[list[EvidenceItem]] = relationship(
        back_populates="case", order_by="EvidenceItem.role"
    )
    __table_args__ = (
        UniqueConstraint("submission_id", "case_key", name="uq_cases_submission_key"),
        Index("ix_cases_status_created", "status", "created_at"),
        Index("ix_cases_plate", "plate"),
    )


class EvidenceItem(Base):
    __tablename__ = "evidence_items"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=now)

    case: Mapped[Case] = relationship(back_populates="evidence")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=now)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class TrackPoint(Base):
    """One position of the device (or photo) in time, with where it came from."""

    __tablename__ = "track_points"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    at: Mapped[datetime] = mapped_column()
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(12))


class Device(Base):
    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[datetime | None] = mapped_column()
    keys: Mapped[list[DeviceKey]] = relationship(order_by="DeviceKey.created_at")


class DeviceKey(Base):
    """An Ed25519 public key of a device; rotation adds one and retires the old ones."""

    __tablename__ = "device_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    not_after: Mapped[datetime | None] = mapped_column()
    """Set by a rotation: the old key is accepted until then."""
    revoked_at: Mapped[datetime | None] = mapped_column()


class Nonce(Base):
    """Nonces seen within the clock-skew window: a second use is a replay."""

    __tablename__ = "nonces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(default=now, index=True)
    __table_args__ = (UniqueConstraint("device_id", "nonce", name="uq_nonces_device_nonce"),)


class Reporter(Base):
    """An app reporter's account. Anonymous unless a real name is given (needed for rewards)."""

    __tablename__ = "reporters"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    real_name: Mapped[str | None] = mapped_column(String(100))
    payment_account: Mapped[str | None] = mapped_column(String(100))
    affiliation: Mapped[str | None] = mapped_column(String(30))
    """police, auxiliary_police, traffic_assistant, trainee_police or traffic_police_staff:
    such reporters get no reward (Article 12)."""
    created_at: Mapped[datetime] = mapped_column(default=now)
    rewards_suspended_at: Mapped[datetime | None] = mapped_column()
    """Set by a supervisor (audited): the reporter's rewards are withheld until lifted."""
    rewards_suspended_by: Mapped[str | None] = mapped_column(String(64))
    rewards_suspension_reason: Mapped[str | None] = mapped_column(Text)


class Upload(Base):
    """A resumable upload of one event's media (tus 1.0 core on /v1/uploads/{id})."""

    __tablename__ = "uploads"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(80))
    """device:{id} or reporter:{id}."""
    event_id: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    event: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(10), default="open")
    """open, complete, failed or expired."""
    error: Mapped[str | None] = mapped_column(Text)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    expires_at: Mapped[datetime] = mapped_column()
    lease_token: Mapped[str | None] = mapped_column(String(32))
    """Held by the one request appending or completing this upload (see ingest.uploads)."""
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    """After this a lease is abandoned (its holder crashed) and can be taken over."""
    __table_args__ = (UniqueConstraint("owner", "event_id", name="uq_uploads_owner_event"),)


def make_engine(
    url: str, pool_size: int = 10, pool_overflow: int = 20, pool_timeout_s: float = 10.0
) -> Engine:
    """An engine for ``url``; the pool figures apply to PostgreSQL (SQLite opens a file)."""
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn: Any, _record: Any) -> None:
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_overflow, pool_timeout=pool_timeout_s
    )
    event.listen(engine, "checkout", _still_open)
    return engine


def _still_open(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server closed (a restart, a terminated backend) is replaced
    before use, with no round trip: an idle connection's socket has nothing to read unless
    the server hung up (or sent a notice; the connection is then replaced needlessly). A
    ``SELECT 1`` per checkout (``pool_pre_ping``) cost every request a round trip per
    transaction. A connection cut with no word from the server fails its request with a 503
    (:mod:`api.errors`), and the pool then drops its other connections."""
    from sqlalchemy.exc import DisconnectionError

    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("connection closed")
    waiting = select.poll()
    waiting.register(dbapi_connection.fileno(), select.POLLIN)
    if waiting.poll(0):
        raise DisconnectionError("the server closed the connection")


def make_sessionmaker(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)


class UploadToken(Base):
    """A short-lived bearer token bound to one upload, so an unchanged tus client can send the
    bytes with one header set once (docs/protocol.md, v2). Only its SHA-256 is kept."""

    __tablename__ = "upload_tokens"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column()


class DirectUpload(Base):
    """An S3 multipart upload that takes an upload's bytes straight to the store."""

    __tablename__ = "direct_uploads"
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    """Where the parts are assembled: the original's own key, or a staging key when the
    original is already stored (it is never assembled over)."""
    multipart_id: Mapped[str] = mapped_column(String(400))
    part_size: Mapped[int] = mapped_column(BigInteger)
    checking_since: Mapped[datetime | None] = mapped_column()
    """Set while one request assembles and checks the object (the others wait)."""
