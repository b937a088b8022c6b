"""direct uploads: upload tokens for standard tus clients, S3 multipart uploads

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("upload_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"]),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_index("ix_upload_tokens_upload_id", "upload_tokens", ["upload_id"])
    op.create_table(
        "direct_uploads",
        sa.Column("upload_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("multipart_id", sa.String(length=400), nullable=False),
        sa.Column("part_size", sa.BigInteger(), nullable=False),
        sa.Column("checking_since", ingest.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"]),
        sa.PrimaryKeyConstraint("upload_id"),
    )


def downgrade() -> None:
    op.drop_table("direct_uploads")
    op.drop_index("ix_upload_tokens_upload_id", table_name="upload_tokens")
    op.drop_table("upload_tokens")
