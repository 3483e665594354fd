"""All database reads and writes of the board, one short transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload, sessionmaker

from ui.models import Comment, Post, Status, utcnow

Item = Post | Comment


@dataclass(frozen=True)
class Page:
    posts: list[Post]
    comment_counts: dict[int, int]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class ClassifiedRecord:
    """One classified item as monitoring sees it."""

    classified_at: datetime
    shown_label: str
    """The moderator's label when there is one, else the model's."""
    score: float
    threshold: float
    model_version: str


class BoardRepository:
    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def add_post(self, author: str, title: str, body: str) -> Post:
        with self.sessions.begin() as session:
            post = Post(author=author, title=title, body=body, status=Status.PENDING)
            session.add(post)
            session.flush()
            return post

    def add_comment(self, post_id: int, author: str, body: str) -> Comment:
        with self.sessions.begin() as session:
            if session.get(Post, post_id) is None:
                raise LookupError(f"post {post_id} does not exist")
            comment = Comment(post_id=post_id, author=author, body=body, status=Status.PENDING)
            session.add(comment)
            session.flush()
            return comment

    def get_post(self, post_id: int) -> Post | None:
        with self.sessions() as session:
            stmt = select(Post).options(selectinload(Post.comments)).where(Post.id == post_id)
            return session.scalars(stmt).first()

    def list_posts(self, page: int = 1, page_size: int = 10, hide_ads: bool = False, query: str = "") -> Page:
        """Newest first; hidden posts never listed."""
        page = max(1, page)
        with self.sessions() as session:
            where = [Post.hidden.is_(False)]
            if hide_ads:
                shown = func.coalesce(Post.moderator_label, Post.label)
                where.append(or_(shown.is_(None), shown != "ad"))
            if query:
                pattern = f"%{query}%"
                where.append(or_(Post.title.like(pattern), Post.body.like(pattern)))
            total = session.scalar(select(func.count(Post.id)).where(*where)) or 0
            posts = list(
                session.scalars(
                    select(Post).where(*where).order_by(Post.id.desc()).offset((page - 1) * page_size).limit(page_size)
                )
            )
            ids = [p.id for p in posts]
            counts = (
                dict(
                    session.execute(
                        select(Comment.post_id, func.count(Comment.id))
                        .where(Comment.post_id.in_(ids))
                        .group_by(Comment.post_id)
                    ).all()
                )
                if ids
                else {}
            )
            return Page(posts, counts, total, page, page_size)

    def pending(self, limit: int = 32) -> list[Item]:
        """Oldest pending posts and comments first."""
        with self.sessions() as session:
            posts = session.scalars(select(Post).where(Post.status == Status.PENDING).order_by(Post.id).limit(limit))
            comments = session.scalars(
                select(Comment).where(Comment.status == Status.PENDING).order_by(Comment.id).limit(limit)
            )
            return [*posts, *comments]

    def pending_count(self) -> int:
        with self.sessions() as session:
            posts = session.scalar(select(func.count(Post.id)).where(Post.status == Status.PENDING)) or 0
            comments = session.scalar(select(func.count(Comment.id)).where(Comment.status == Status.PENDING)) or 0
            return posts + comments

    def record_result(self, item: Item, label: str, score: float, model_version: str, threshold: float = 0.5) -> Item:
        with self.sessions.begin() as session:
            row = session.get(type(item), item.id)
            row.label, row.score, row.model_version, row.threshold = label, score, model_version, threshold
            row.status, row.classified_at, row.last_error = Status.CLASSIFIED, utcnow(), None
            row.attempts += 1
            return row

    def record_failure(self, item: Item, error: str, final: bool) -> Item:
        """A failed attempt: `final` marks the item failed (never retried), else it stays pending."""
        with self.sessions.begin() as session:
            row = session.get(type(item), item.id)
            row.attempts += 1
            row.last_error = error[:500]
            if final:
                row.status = Status.FAILED
            return row

    def recent_classified(self, window: int = 200) -> list[ClassifiedRecord]:
        """The newest `window` classified posts and comments, newest first."""
        rows: list[ClassifiedRecord] = []
        with self.sessions() as session:
            for kind in (Post, Comment):
                shown = func.coalesce(kind.moderator_label, kind.label)
                rows += [
                    ClassifiedRecord(*row)
                    for row in session.execute(
                        select(kind.classified_at, shown, kind.score, kind.threshold, kind.model_version)
                        .where(kind.status == Status.CLASSIFIED)
                        .order_by(kind.classified_at.desc())
                        .limit(window)
                    ).all()
                ]
        return sorted(rows, key=lambda row: row.classified_at, reverse=True)[:window]

    def recent_ad_ratio(self, window: int = 200) -> float | None:
        """Share of ads (as shown) among the newest `window` classified posts and comments."""
        rows = self.recent_classified(window)
        return sum(row.shown_label == "ad" for row in rows) / len(rows) if rows else None

    # Moderation ---------------------------------------------------------------------------------
    def review_queue(self, limit: int = 20) -> list[Item]:
        """Classified, not yet reviewed items, the ones the model was least sure about first."""
        items: list[Item] = []
        with self.sessions() as session:
            for kind in (Post, Comment):
                margin = func.abs(kind.score - func.coalesce(kind.threshold, 0.5))
                stmt = (
                    select(kind)
                    .where(kind.status == Status.CLASSIFIED, kind.moderator_label.is_(None))
                    .order_by(margin, kind.id)
                    .limit(limit)
                )
                items += session.scalars(stmt)
        return sorted(items, key=lambda i: (abs(i.score - (i.threshold or 0.5)), i.created_at))[:limit]

    def set_moderator_label(
        self, kind: type[Item], item_id: int, label: str, moderator: str
    ) -> tuple[str | None, Item]:
        """Store a moderator's label beside the model's; returns (label shown before, item)."""
        with self.sessions.begin() as session:
            row = session.get(kind, item_id)
            if row is None:
                raise LookupError(f"{kind.__tablename__} {item_id} does not exist")
            before = row.shown_label
            row.moderator_label, row.moderated_by, row.moderated_at = label, moderator, utcnow()
            return before, row

    def set_hidden(self, post_id: int, hidden: bool, moderator: str) -> Post:
        with self.sessions.begin() as session:
            row = session.get(Post, post_id)
            if row is None:
                raise LookupError(f"post {post_id} does not exist")
            row.hidden, row.moderated_by, row.moderated_at = hidden, moderator, utcnow()
            return row

    def reviewed(self) -> list[Item]:
        """Every item a moderator labelled, oldest first."""
        with self.sessions() as session:
            posts = session.scalars(select(Post).where(Post.moderator_label.is_not(None)).order_by(Post.id))
            comments = session.scalars(select(Comment).where(Comment.moderator_label.is_not(None)).order_by(Comment.id))
            return [*posts, *comments]
