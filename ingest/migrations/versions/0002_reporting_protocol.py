"""reporting protocol

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:48:43.973654
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("created_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", ingest.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "nonces",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "nonce", name="uq_nonces_device_nonce"),
    )
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nonces_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "reporters",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("real_name", sa.String(length=100), nullable=True),
        sa.Column("payment_account", sa.String(length=100), nullable=True),
        sa.Column("created_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_table(
        "device_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_after", ingest.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", ingest.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("device_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_keys_device_id"), ["device_id"], unique=False)

    op.create_table(
        "track_points",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("track_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_track_points_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "uploads",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("submission_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "event_id", name="uq_uploads_owner_event"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "entity_id",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=64),
            existing_nullable=False,
        )

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("event_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("trigger", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("device_time", ingest.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("clip_start", ingest.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("time_source", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("place_source", sa.String(length=12), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("place_source")
        batch_op.drop_column("time_source")
        batch_op.drop_column("clip_start")
        batch_op.drop_column("device_time")
        batch_op.drop_column("trigger")
        batch_op.drop_column("event_id")
        batch_op.drop_column("device_id")

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "entity_id",
            existing_type=sa.String(length=64),
            type_=sa.VARCHAR(length=32),
            existing_nullable=False,
        )

    op.drop_table("uploads")
    with op.batch_alter_table("track_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_track_points_submission_id"))

    op.drop_table("track_points")
    with op.batch_alter_table("device_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_keys_device_id"))

    op.drop_table("device_keys")
    op.drop_table("reporters")
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nonces_seen_at"))

    op.drop_table("nonces")
    op.drop_table("devices")
