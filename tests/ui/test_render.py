"""HTML rendering: badges, pending state, escaping, collapsed ad comments."""

from __future__ import annotations

from datetime import UTC, datetime

from ui import render
from ui.models import Comment, Post
from ui.repository import Page


def post(**kw) -> Post:
    base = {
        "id": 1,
        "author": "민지",
        "title": "제목",
        "body": "본문",
        "status": "classified",
        "label": "normal",
        "score": 0.1,
        "model_version": "ad-classifier/1",
        "created_at": datetime(2026, 11, 22, tzinfo=UTC),
        "hidden": False,
        "open_reports": 0,
    }
    return Post(**{**base, **kw})


def comment(i: int, label: str) -> Comment:
    return Comment(
        id=i,
        post_id=1,
        author="a",
        body=f"댓글 {i}",
        status="classified",
        label=label,
        score=0.9,
        created_at=datetime(2026, 11, 22, tzinfo=UTC),
    )


def test_badges() -> None:
    assert 'class="ad-badge"' in render.badge(post(label="ad", score=0.93))
    assert "광고 점수 0.93" in render.badge(post(label="ad", score=0.93))
    assert render.badge(post()) == ""
    assert "분류 대기" in render.badge(post(status="pending", label=None, score=None))
    assert 'class="ad-badge"' in render.badge(post(label="normal", moderator_label="ad"))
    assert render.badge(post(label="ad", moderator_label="normal")) == ""


def test_everything_user_written_is_escaped() -> None:
    html = render.render_feed(
        Page([post(title="<script>x()</script>", body="<img onerror=y>", author="<b>")], {}, 1, 1, 10)
    )
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html


def test_ad_comments_are_collapsed() -> None:
    p = post()
    p.comments = [comment(1, "normal"), comment(2, "ad"), comment(3, "ad")]
    html = render.render_post(p)
    visible, hidden = html.split("<details", 1)
    assert "댓글 1" in visible and "댓글 2" not in visible
    assert "광고성 댓글 보기 (2)" in hidden and "댓글 2" in hidden and "댓글 3" in hidden


def test_moderated_item_shows_both_labels() -> None:
    html = render.render_feed(Page([post(label="ad", moderator_label="normal")], {}, 1, 1, 10))
    assert "관리자 판정 일반 (모델 광고)" in html


def test_evidence_is_highlighted_escaped_and_only_where_given() -> None:
    assert render.highlight("카톡 <b>문의</b> 카톡", ("카톡", "문의")) == (
        '<mark class="evidence">카톡</mark> &lt;b&gt;<mark class="evidence">문의</mark>&lt;/b&gt; '
        '<mark class="evidence">카톡</mark>'
    )
    assert render.highlight("SALE sale", ("sale",)).count("<mark") == 2
    ad = post(label="ad", score=0.9, title="특가 카톡", body="카톡 주세요")
    assert "<mark" not in render.render_post(ad)
    shown = render.render_post(ad, render.Viewer(evidence={("post", 1): ("카톡",)}))
    assert shown.count('<mark class="evidence">카톡</mark>') == 2 and "광고 판단 근거: 카톡" in shown


def test_review_badge_and_actions_follow_the_viewer() -> None:
    reported = post(open_reports=3)
    assert "검토 중" in render.render_post(reported) and "검토 중" not in render.render_post(post(open_reports=2))
    assert 'data-action="hide"' not in render.render_post(reported)
    assert 'data-action="hide"' in render.render_post(reported, render.Viewer(moderator=True))
