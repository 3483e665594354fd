"""Readers' ad reports (신고): one row per reader per item, and the open count on each item.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("reader", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("kind", "item_id", "reader", name="uq_reports_reader_item"),
    )
    op.create_index("ix_reports_kind_item_id", "reports", ["kind", "item_id"])
    for table in ("posts", "comments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("open_reports", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    for table in ("posts", "comments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("open_reports")
    op.drop_index("ix_reports_kind_item_id", table_name="reports")
    op.drop_table("reports")
