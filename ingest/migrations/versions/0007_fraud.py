"""anti-fraud: media fingerprints, the declared place, suspended rewards

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_fingerprints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", name="uq_media_fingerprints_submission"),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("declared_latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("declared_longitude", sa.Float(), nullable=True))
    with op.batch_alter_table("reporters") as batch:
        batch.add_column(
            sa.Column("rewards_suspended_at", ingest.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("rewards_suspended_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("rewards_suspension_reason", sa.Text(), nullable=True))
    op.create_index("ix_submissions_reporter_created", "submissions", ["reporter", "created_at"])
    op.create_index("ix_submissions_device_created", "submissions", ["device_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_submissions_device_created", "submissions")
    op.drop_index("ix_submissions_reporter_created", "submissions")
    with op.batch_alter_table("reporters") as batch:
        batch.drop_column("rewards_suspension_reason")
        batch.drop_column("rewards_suspended_by")
        batch.drop_column("rewards_suspended_at")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("declared_longitude")
        batch.drop_column("declared_latitude")
    op.drop_table("media_fingerprints")
