"""review desk: staff accounts, claims, incidents, rewards and the reward budget

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", ingest.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])
    op.create_table(
        "rewards",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("reporter_id", sa.String(length=32), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("policy_version", sa.String(length=40), nullable=False),
        sa.Column("created_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", ingest.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "reporter_id", name="uq_rewards_case_reporter"),
    )
    op.create_index("ix_rewards_case_id", "rewards", ["case_id"])
    op.create_index("ix_rewards_reporter_id", "rewards", ["reporter_id"])
    op.create_table(
        "reward_budgets",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", ingest.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("year"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("claim_expires_at", ingest.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("incident_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("reward_exclusions", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.create_index("ix_cases_incident_id", ["incident_id"], unique=False)
    op.execute("UPDATE cases SET status = 'candidate' WHERE status = 'pending'")
    op.execute("UPDATE cases SET incident_id = id WHERE incident_id IS NULL")
    with op.batch_alter_table("reporters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("affiliation", sa.String(length=30), nullable=True))
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("joint_reporters", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("joint_reporters")
    with op.batch_alter_table("reporters", schema=None) as batch_op:
        batch_op.drop_column("affiliation")
    op.execute("UPDATE cases SET status = 'pending' WHERE status IN ('candidate', 'under_review')")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_incident_id")
        for column in ("reward_exclusions", "incident_id", "claim_expires_at", "claimed_by"):
            batch_op.drop_column(column)
    op.drop_table("reward_budgets")
    op.drop_index("ix_rewards_reporter_id", "rewards")
    op.drop_index("ix_rewards_case_id", "rewards")
    op.drop_table("rewards")
    op.drop_index("ix_staff_sessions_user_id", "staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
