"""Posts and comments with their classification.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _classified_columns() -> list[sa.Column]:
    return [
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("label", sa.String(16)),
        sa.Column("score", sa.Float),
        sa.Column("model_version", sa.String(64)),
        sa.Column("moderator_label", sa.String(16)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("classified_at", sa.DateTime(timezone=True)),
    ]


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False),
        *_classified_columns(),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), nullable=False),
        sa.Column("author", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        *_classified_columns(),
    )
    for table in ("posts", "comments"):
        op.create_index(f"ix_{table}_status", table, ["status"])
        op.create_index(f"ix_{table}_created_at", table, ["created_at"])
    op.create_index("ix_comments_post_id", "comments", ["post_id"])


def downgrade() -> None:
    op.drop_table("comments")
    op.drop_table("posts")
