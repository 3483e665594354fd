"""HTML for the feed and a post. Every piece of user text goes through html.escape: titles, bodies
and comments display as text and never execute."""

from __future__ import annotations

from html import escape

from ui.models import Comment, Post
from ui.repository import Page

CSS = """
.board-post { border-bottom: 1px solid #e5e7eb; padding: 10px 4px; }
.board-post h3 { margin: 2px 0 4px 0; font-size: 1.05rem; }
.board-post p { margin: 0 0 4px 0; color: #374151; white-space: pre-wrap; }
.board-meta { color: #6b7280; font-size: 0.8rem; }
.ad-badge { display: inline-block; background: #dc2626; color: #fff; font-weight: 700; font-size: 0.75rem;
            padding: 1px 8px; border-radius: 4px; }
.pending-badge { display: inline-block; background: #9ca3af; color: #fff; font-size: 0.75rem;
                 padding: 1px 8px; border-radius: 4px; }
.board-comment { border-left: 3px solid #e5e7eb; padding: 4px 8px; margin: 6px 0; }
.board-empty { color: #6b7280; padding: 16px 4px; }
"""

PREVIEW_CHARS = 80


def badge(item: Post | Comment) -> str:
    """The red 광고 badge, the grey 분류 대기 badge, or nothing."""
    if item.is_ad:
        score = f"광고 점수 {item.score:.2f}" if item.score is not None else "관리자 판정"
        return f'<span class="ad-badge" title="{escape(score)}">광고</span>'
    if item.status == "pending" and item.shown_label is None:
        return '<span class="pending-badge" title="분류 모델 응답을 기다리는 중">분류 대기</span>'
    return ""


def _meta(item: Post | Comment, extra: str = "") -> str:
    when = item.created_at.strftime("%Y-%m-%d %H:%M") if item.created_at else ""
    model = f" · 모델 {escape(item.model_version)}" if item.model_version else ""
    return f'<div class="board-meta">{escape(item.author)} · {when}{extra}{model}</div>'


def render_feed(page: Page) -> str:
    if not page.posts:
        return '<div class="board-empty">아직 게시글이 없습니다. 첫 글을 남겨 보세요!</div>'
    rows = []
    for post in page.posts:
        preview = post.body if len(post.body) <= PREVIEW_CHARS else post.body[:PREVIEW_CHARS] + "…"
        comments = page.comment_counts.get(post.id, 0)
        rows.append(
            f'<div class="board-post" data-post-id="{post.id}">{badge(post)}'
            f"<h3>#{post.id} {escape(post.title)}</h3><p>{escape(preview)}</p>"
            f"{_meta(post, f' · 댓글 {comments}')}</div>"
        )
    footer = f'<div class="board-meta">{page.page} / {page.pages} 페이지 · 전체 {page.total}개</div>'
    return "".join(rows) + footer


def render_post(post: Post | None) -> str:
    if post is None:
        return '<div class="board-empty">게시글을 선택해 주세요.</div>'
    comments = (
        "".join(f'<div class="board-comment">{badge(c)}<p>{escape(c.body)}</p>{_meta(c)}</div>' for c in post.comments)
        or '<div class="board-empty">댓글이 없습니다.</div>'
    )
    score = f" · 광고 점수 {post.score:.3f}" if post.score is not None else ""
    return (
        f'<div class="board-post" data-post-id="{post.id}">{badge(post)}<h3>#{post.id} {escape(post.title)}</h3>'
        f"<p>{escape(post.body)}</p>{_meta(post, score)}</div><h4>댓글 {len(post.comments)}</h4>{comments}"
    )
