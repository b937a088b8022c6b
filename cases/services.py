"""The ingest parts one process needs, built from settings (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cases.rewards import Policy, load_policy
from cases.staff import Staff
from ingest.db import make_engine, make_sessionmaker
from ingest.dispatch import Dispatcher, PollingDispatch, ProcrastinateDispatch
from ingest.identity import Identity
from ingest.queue import Ledger
from ingest.store import LocalStore, ObjectStore, S3Store
from ingest.submissions import Intake
from ingest.uploads import Uploads
from settings import Settings


def make_store(settings: Settings) -> ObjectStore:
    if settings.store == "s3":
        return S3Store.connect(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key,
            settings.s3_bucket,
            settings.s3_secure,
            settings.s3_region,
        )
    return LocalStore(settings.local_store_path)


def make_dispatcher(settings: Settings) -> Dispatcher:
    if settings.queue == "procrastinate":
        if not settings.is_postgres:
            raise ValueError("ROADWITNESS_QUEUE=procrastinate needs a PostgreSQL database_url")
        return ProcrastinateDispatch(settings.psycopg_dsn)
    return PollingDispatch()


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    ledger: Ledger
    dispatcher: Dispatcher
    intake: Intake
    identity: Identity
    uploads: Uploads
    staff: Staff
    policy: Policy

    @classmethod
    def build(cls, settings: Settings) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(
            settings.database_url,
            settings.db_pool_size,
            settings.db_pool_overflow,
            settings.db_pool_timeout_s,
        )
        sessions = make_sessionmaker(engine)
        store = make_store(settings)
        dispatcher = make_dispatcher(settings)
        intake = Intake(
            sessions, store, dispatcher, settings.job_max_attempts, settings.max_video_seconds
        )
        intake.camera_time_zone = settings.camera_time_zone
        return cls(
            settings,
            engine,
            sessions,
            store,
            Ledger(sessions, settings.job_lease_s, settings.job_retry_delay_s),
            dispatcher,
            intake,
            Identity(sessions),
            Uploads(
                sessions,
                intake,
                settings.data_dir / "uploads",
                settings.max_upload_bytes,
                timedelta(hours=settings.upload_ttl_h),
            ),
            Staff(sessions),
            load_policy(settings.reward_policy_file),
        )

    def close(self) -> None:
        self.dispatcher.close()
        self.engine.dispose()
