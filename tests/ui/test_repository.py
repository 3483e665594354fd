"""The board's storage through SQLAlchemy, on a real SQLite file (WAL) and a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ui.db import make_engine, make_sessions, migrate
from ui.models import Post, Status
from ui.repository import BoardRepository


@pytest.fixture
def repo(database_url: str) -> BoardRepository:
    engine = make_engine(database_url)
    migrate(engine)
    return BoardRepository(make_sessions(engine))


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_post_lifecycle_pending_then_classified(repo: BoardRepository) -> None:
    post = repo.add_post("민지", "제목", "본문")
    assert post.status == Status.PENDING and repo.pending_count() == 1
    repo.record_result(post, "ad", 0.93, "ad-classifier/3")
    stored = repo.get_post(post.id)
    assert (stored.status, stored.label, stored.score, stored.model_version) == (
        "classified",
        "ad",
        0.93,
        "ad-classifier/3",
    )
    assert stored.is_ad and repo.pending_count() == 0


def test_transient_failure_keeps_pending_final_failure_does_not(repo: BoardRepository) -> None:
    a, b = repo.add_post("a", "t", "b"), repo.add_post("b", "t", "b")
    repo.record_failure(a, "timeout", final=False)
    repo.record_failure(b, "HTTP 422", final=True)
    assert repo.get_post(a.id).status == "pending" and repo.get_post(a.id).attempts == 1
    assert repo.get_post(b.id).status == "failed"
    assert [item.id for item in repo.pending()] == [a.id]


def test_feed_is_newest_first_paginated_with_comment_counts(repo: BoardRepository) -> None:
    ids = [repo.add_post("u", f"제목 {i}", f"본문 {i}").id for i in range(13)]
    repo.add_comment(ids[-1], "c", "댓글 1")
    repo.add_comment(ids[-1], "c", "댓글 2")
    first = repo.list_posts(page=1, page_size=10)
    assert [p.id for p in first.posts] == ids[::-1][:10]
    assert first.total == 13 and first.pages == 2
    assert first.comment_counts[ids[-1]] == 2
    assert [p.id for p in repo.list_posts(page=2, page_size=10).posts] == ids[::-1][10:]


def test_recent_ad_ratio_follows_what_is_shown(repo: BoardRepository) -> None:
    assert repo.recent_ad_ratio() is None
    a, b = repo.add_post("u", "a", "a"), repo.add_post("u", "b", "b")
    repo.record_result(a, "ad", 0.9, "m/1")
    repo.record_result(b, "normal", 0.1, "m/1")
    assert repo.recent_ad_ratio() == 0.5
    repo.set_moderator_label(Post, b.id, "ad", "mod")
    assert repo.recent_ad_ratio() == 1.0


def test_hide_ads_and_search(repo: BoardRepository) -> None:
    ad = repo.add_post("u", "특가 세일", "문의 주세요")
    normal = repo.add_post("u", "산책", "한강 다녀왔어요")
    repo.record_result(ad, "ad", 0.9, "m/1")
    repo.record_result(normal, "normal", 0.1, "m/1")
    assert [p.id for p in repo.list_posts(hide_ads=True).posts] == [normal.id]
    assert [p.id for p in repo.list_posts(query="한강").posts] == [normal.id]


def test_comment_on_missing_post_is_refused(repo: BoardRepository) -> None:
    with pytest.raises(LookupError):
        repo.add_comment(999, "u", "댓글")


def test_migrations_match_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ui.models import Base

    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_database_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    """The first `make run`s created tables without Alembic; such a database is stamped, then upgraded."""
    from alembic import command
    from alembic.config import Config

    from ui.db import MIGRATIONS

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            text(
                "INSERT INTO posts (author, title, body, hidden, status, attempts, created_at) "
                "VALUES ('u', '옛 글', '지워지면 안 됩니다', 0, 'pending', 0, '2026-11-21 10:00:00')"
            )
        )
    migrate(engine)
    assert BoardRepository(make_sessions(engine)).list_posts().posts[0].title == "옛 글"


def test_hidden_post_is_closed_to_readers(repo: BoardRepository) -> None:
    hidden = repo.add_post("u", "숨길 글", "검색어 숨김")
    repo.add_comment(hidden.id, "c", "숨기기 전 댓글")
    repo.set_hidden(hidden.id, True, "mod")
    assert repo.get_post(hidden.id) is None
    assert repo.get_post(hidden.id, include_hidden=True).hidden
    assert repo.list_posts(query="숨김").posts == []
    with pytest.raises(LookupError):
        repo.add_comment(hidden.id, "c", "숨긴 뒤 댓글")
    assert [c.body for c in repo.get_post(hidden.id, include_hidden=True).comments] == ["숨기기 전 댓글"]


@pytest.mark.parametrize("query", ["%", "_", "50%", "a_b", "\\"])
def test_search_matches_wildcards_literally(repo: BoardRepository, query: str) -> None:
    plain = repo.add_post("u", "평범한 제목", "특수문자 없는 본문")
    literal = repo.add_post("u", "할인 50% a_b", "백슬래시 \\ 포함")
    found = [p.id for p in repo.list_posts(query=query).posts]
    assert found == [literal.id] and plain.id not in found


def test_reports_once_per_reader_push_the_item_up_the_queue(repo: BoardRepository) -> None:
    from ui.models import Comment, Report
    from ui.repository import AlreadyReported

    sure, reported = repo.add_post("u", "확실한 글", "본문"), repo.add_post("u", "신고된 글", "본문")
    repo.record_result(sure, "normal", 0.5, "m/1")
    repo.record_result(reported, "normal", 0.01, "m/1")
    comment = repo.add_comment(reported.id, "c", "댓글")
    for reader in ("a", "b"):
        repo.add_report(Post, reported.id, reader)
    repo.add_report(Comment, comment.id, "a")
    with pytest.raises(AlreadyReported):
        repo.add_report(Post, reported.id, "a")
    with pytest.raises(LookupError):
        repo.add_report(Post, 999, "a")
    assert repo.get_post(reported.id).open_reports == 2
    assert [(type(i).__name__, i.id) for i in repo.review_queue()][:2] == [
        ("Post", reported.id),
        ("Comment", comment.id),
    ]

    decision = repo.set_moderator_label(Post, reported.id, "ad", "mod")
    assert (decision.before, decision.closed_reports, decision.item.open_reports) == ("normal", 2, 0)
    assert repo.dismiss_reports(Comment, comment.id, "mod").closed_reports == 1
    with repo.sessions() as session:
        outcomes = sorted((r.kind, r.outcome) for r in session.query(Report))
    assert outcomes == [("comment", "rejected"), ("post", "upheld"), ("post", "upheld")]
    assert repo.get_post(reported.id).comments[0].moderator_label == "normal"


def test_hidden_posts_and_their_comments_cannot_be_reported(repo: BoardRepository) -> None:
    from ui.models import Comment

    post = repo.add_post("u", "숨길 글", "본문")
    comment = repo.add_comment(post.id, "c", "댓글")
    repo.set_hidden(post.id, True, "mod")
    for kind, item_id in ((Post, post.id), (Comment, comment.id)):
        with pytest.raises(LookupError):
            repo.add_report(kind, item_id, "a")
