"""violation rules: the rule that made each case, its key, explanation, place and flags

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rule", sa.String(length=40), nullable=False, server_default="declared@1")
        )
        batch_op.add_column(
            sa.Column(
                "rules_version", sa.String(length=64), nullable=False, server_default="builtin"
            )
        )
        batch_op.add_column(
            sa.Column("case_key", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("explanation", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("confidence", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("track_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("observed_at", ingest.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("flags", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.alter_column("plate", existing_type=sa.String(length=16), nullable=True)
        batch_op.drop_constraint("uq_cases_submission_plate", type_="unique")
    op.execute("UPDATE cases SET case_key = 'declared@1:' || plate || ':' || t_start")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_cases_submission_key", ["submission_id", "case_key"])
        batch_op.create_index("ix_cases_plate", ["plate"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_plate")
        batch_op.drop_constraint("uq_cases_submission_key", type_="unique")
        for column in (
            "flags",
            "longitude",
            "latitude",
            "observed_at",
            "track_id",
            "confidence",
            "explanation",
            "case_key",
            "rules_version",
            "rule",
        ):
            batch_op.drop_column(column)
        batch_op.create_unique_constraint("uq_cases_submission_plate", ["submission_id", "plate"])
