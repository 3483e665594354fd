"""All database reads and writes of the board, one short transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ui.models import Comment, Post, Report, Status, item_kind, utcnow

Item = Post | Comment

LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere (its `%`, `_` and escapes are not wildcards)."""
    for char in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, LIKE_ESCAPE + char)
    return f"%{text}%"


class AlreadyReported(LookupError):
    """This reader has reported this item before."""


def _visible(item: Item) -> bool:
    """Whether readers may see `item` (a comment follows its post)."""
    return not (item.hidden if isinstance(item, Post) else item.post.hidden)


def _close_reports(session: Session, item: Item, outcome: str) -> int:
    """Decide the item's open reports with `outcome`; returns how many there were."""
    closed = session.execute(
        update(Report)
        .where(Report.kind == item_kind(item), Report.item_id == item.id, Report.outcome.is_(None))
        .values(outcome=outcome, decided_at=utcnow())
    ).rowcount
    item.open_reports = 0
    return closed


@dataclass(frozen=True)
class Decision:
    """A moderator's decision on an item: the label shown before, the item, reports it closed."""

    before: str | None
    item: Item
    closed_reports: int


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


def _queue_order(item: Item) -> tuple:
    margin = abs(item.score - (item.threshold or 0.5)) if item.score is not None else 1.0
    return (-item.open_reports, margin, item.created_at)


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
        """A comment on a visible post; LookupError when the post is missing or hidden."""
        with self.sessions.begin() as session:
            post = session.get(Post, post_id)
            if post is None or post.hidden:
                raise LookupError(f"post {post_id} does not exist or is hidden")
            comment = Comment(post_id=post_id, author=author, body=body, status=Status.PENDING)
            session.add(comment)
            session.flush()
            return comment

    def get_post(self, post_id: int, include_hidden: bool = False) -> Post | None:
        """A post with its comments; a hidden one only with `include_hidden` (moderators)."""
        with self.sessions() as session:
            stmt = select(Post).options(selectinload(Post.comments)).where(Post.id == post_id)
            if not include_hidden:
                stmt = stmt.where(Post.hidden.is_(False))
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
                pattern = contains_pattern(query)
                where.append(
                    or_(Post.title.like(pattern, escape=LIKE_ESCAPE), Post.body.like(pattern, escape=LIKE_ESCAPE))
                )
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
        """Items readers reported (most reports first), then classified, not yet reviewed items,
        the ones the model was least sure about first."""
        items: list[Item] = []
        with self.sessions() as session:
            for kind in (Post, Comment):
                margin = func.abs(func.coalesce(kind.score, 0.5) - func.coalesce(kind.threshold, 0.5))
                unreviewed = (kind.status == Status.CLASSIFIED) & kind.moderator_label.is_(None)
                stmt = (
                    select(kind)
                    .where(or_(unreviewed, kind.open_reports > 0))
                    .order_by(kind.open_reports.desc(), margin, kind.id)
                    .limit(limit)
                )
                items += session.scalars(stmt)
        return sorted(items, key=_queue_order)[:limit]

    def set_moderator_label(self, kind: type[Item], item_id: int, label: str, moderator: str) -> Decision:
        """Store a moderator's label beside the model's; open reports are upheld (ad) or rejected."""
        with self.sessions.begin() as session:
            row = session.get(kind, item_id)
            if row is None:
                raise LookupError(f"{kind.__tablename__} {item_id} does not exist")
            before = row.shown_label
            row.moderator_label, row.moderated_by, row.moderated_at = label, moderator, utcnow()
            closed = _close_reports(session, row, "upheld" if label == "ad" else "rejected")
            return Decision(before, row, closed)

    def dismiss_reports(self, kind: type[Item], item_id: int, moderator: str) -> Decision:
        """Reject the open reports; the label shown now becomes the moderator's (it flows into the export)."""
        with self.sessions.begin() as session:
            row = session.get(kind, item_id)
            if row is None:
                raise LookupError(f"{kind.__tablename__} {item_id} does not exist")
            before = row.shown_label
            row.moderator_label = before or "normal"
            row.moderated_by, row.moderated_at = moderator, utcnow()
            return Decision(before, row, _close_reports(session, row, "rejected"))

    def add_report(self, kind: type[Item], item_id: int, reader: str) -> Item:
        """Store one reader's report and count it on the item. LookupError for a missing or hidden
        item, AlreadyReported when this reader reported it before."""
        try:
            with self.sessions.begin() as session:
                row = session.get(kind, item_id)
                if row is None or not _visible(row):
                    raise LookupError(f"{kind.__tablename__} {item_id} does not exist or is hidden")
                duplicate = select(Report.id).where(
                    Report.kind == item_kind(row), Report.item_id == item_id, Report.reader == reader
                )
                if session.scalar(duplicate) is not None:
                    raise AlreadyReported(f"{reader} already reported {item_kind(row)} {item_id}")
                session.add(Report(kind=item_kind(row), item_id=item_id, reader=reader))
                row.open_reports += 1
                return row
        except IntegrityError as exc:  # the same reader's report committed in between
            raise AlreadyReported(f"{reader} already reported {kind.__tablename__} {item_id}") from exc

    def set_hidden(self, post_id: int, hidden: bool, moderator: str) -> Post:
        with self.sessions.begin() as session:
            row = session.get(Post, post_id)
            if row is None:
                raise LookupError(f"post {post_id} does not exist")
            row.hidden, row.moderated_by, row.moderated_at = hidden, moderator, utcnow()
            return row

    def report_count(self, item: Item) -> int:
        """How many readers ever reported `item` (decided or not)."""
        with self.sessions() as session:
            stmt = select(func.count(Report.id)).where(Report.kind == item_kind(item), Report.item_id == item.id)
            return session.scalar(stmt) or 0

    def reviewed(self) -> list[Item]:
        """Every item a moderator labelled, oldest first."""
        with self.sessions() as session:
            posts = session.scalars(select(Post).where(Post.moderator_label.is_not(None)).order_by(Post.id))
            comments = session.scalars(select(Comment).where(Comment.moderator_label.is_not(None)).order_by(Comment.id))
            return [*posts, *comments]
