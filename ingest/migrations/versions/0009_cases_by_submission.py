"""cases by submission: an index on cases.submission_id

Every job and every anti-fraud check looks up a submission's cases (``workers.fraud``,
``cases.creation``); without the index each lookup read the whole cases table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_submission_id", ["submission_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_submission_id")
