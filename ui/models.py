"""SQLAlchemy 2 models of the board: posts and comments, each with its classification."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Status(StrEnum):
    PENDING = "pending"
    """Saved, not classified yet (TorchServe was slow or down); the background worker retries."""
    CLASSIFIED = "classified"
    FAILED = "failed"
    """TorchServe refused the text itself (4xx); shown without a label, never retried."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Classified:
    """Columns shared by everything the model labels."""

    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING, index=True)
    label: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    """The model's decision threshold when it labelled this item (uncertainty = |score - threshold|)."""
    model_version: Mapped[str | None] = mapped_column(String(64))
    moderator_label: Mapped[str | None] = mapped_column(String(16))
    moderated_by: Mapped[str | None] = mapped_column(String(40))
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    classified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    open_reports: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Readers' ad reports not yet decided by a moderator."""

    @property
    def shown_label(self) -> str | None:
        """What the board displays: a moderator's label wins over the model's."""
        return self.moderator_label or self.label

    @property
    def is_ad(self) -> bool:
        return self.shown_label == "ad"


def item_kind(item: Classified) -> str:
    """`post` or `comment`: how reports, the API and the export name an item's kind."""
    return "post" if isinstance(item, Post) else "comment"


class Post(Classified, Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    comments: Mapped[list[Comment]] = relationship(
        back_populates="post", order_by="Comment.id", cascade="all, delete-orphan"
    )


class Comment(Classified, Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    author: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    post: Mapped[Post] = relationship(back_populates="comments")


class Report(Base):
    """One reader's report that a post or comment is an ad; `outcome` once a moderator decided."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("kind", "item_id", "reader", name="uq_reports_reader_item"),
        Index("ix_reports_kind_item_id", "kind", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    reader: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(16))
    """upheld (a moderator labelled it an ad) or rejected (labelled normal / reports dismissed)."""
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


KINDS: dict[str, type[Post] | type[Comment]] = {"post": Post, "comment": Comment}
"""The item kinds by the name the API, reports and the export use."""
