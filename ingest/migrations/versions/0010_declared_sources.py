"""declared sources: how the sender got the time and place it declared

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared_time_source", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("declared_place_source", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("declared_place_source")
        batch_op.drop_column("declared_time_source")
