"""Moderation: who reviewed an item and when, and the threshold its label was decided with.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("posts", "comments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("threshold", sa.Float))
            batch.add_column(sa.Column("moderated_by", sa.String(40)))
            batch.add_column(sa.Column("moderated_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    for table in ("posts", "comments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("moderated_at")
            batch.drop_column("moderated_by")
            batch.drop_column("threshold")
