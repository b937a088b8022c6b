"""intake: one submission per sender's event, upload leases, the zone of a camera-clock time

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
        # NULLs are distinct: a device's rows (reporter NULL) and submissions without an event
        # id are not held by the other constraint.
        batch_op.create_unique_constraint("uq_submissions_device_event", ["device_id", "event_id"])
        batch_op.create_unique_constraint("uq_submissions_reporter_event", ["reporter", "event_id"])
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", ingest.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_token")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_submissions_reporter_event", type_="unique")
        batch_op.drop_constraint("uq_submissions_device_event", type_="unique")
        batch_op.drop_column("time_zone")
