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
.review-queue { width: 100%; font-size: 0.85rem; border-collapse: collapse; }
.review-queue td, .review-queue th { border-bottom: 1px solid #e5e7eb; padding: 4px 6px; text-align: left; }
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


LABEL_KO = {"ad": "광고", "normal": "일반"}


def _meta(item: Post | Comment, extra: str = "") -> str:
    when = item.created_at.strftime("%Y-%m-%d %H:%M") if item.created_at else ""
    model = f" · 모델 {escape(item.model_version)}" if item.model_version else ""
    if item.moderator_label:
        model += f" · 관리자 판정 {LABEL_KO[item.moderator_label]} (모델 {LABEL_KO.get(item.label or '', '미분류')})"
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


def _comment(comment: Comment) -> str:
    return f'<div class="board-comment">{badge(comment)}<p>{escape(comment.body)}</p>{_meta(comment)}</div>'


def render_post(post: Post | None) -> str:
    """A post with its comments; comments labelled as ads are collapsed behind 광고성 댓글 보기."""
    if post is None:
        return '<div class="board-empty">게시글을 선택해 주세요.</div>'
    visible = "".join(_comment(c) for c in post.comments if not c.is_ad)
    ads = [c for c in post.comments if c.is_ad]
    if ads:
        visible += (
            f'<details class="ad-comments"><summary>광고성 댓글 보기 ({len(ads)})</summary>'
            f"{''.join(_comment(c) for c in ads)}</details>"
        )
    comments = visible or '<div class="board-empty">댓글이 없습니다.</div>'
    score = f" · 광고 점수 {post.score:.3f}" if post.score is not None else ""
    return (
        f'<div class="board-post" data-post-id="{post.id}">{badge(post)}<h3>#{post.id} {escape(post.title)}</h3>'
        f"<p>{escape(post.body)}</p>{_meta(post, score)}</div><h4>댓글 {len(post.comments)}</h4>{comments}"
    )


def render_queue(items: list[Post | Comment]) -> str:
    """The moderators' review queue: least certain first."""
    if not items:
        return '<div class="board-empty">검토할 항목이 없습니다.</div>'
    rows = []
    for item in items:
        kind = "post" if isinstance(item, Post) else "comment"
        text = f"{item.title} | {item.body}" if isinstance(item, Post) else item.body
        preview = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"
        rows.append(
            f'<tr data-kind="{kind}" data-id="{item.id}"><td>{kind}</td><td>{item.id}</td><td>{escape(preview)}</td>'
            f"<td>{LABEL_KO.get(item.label or '', '-')}</td><td>{item.score:.3f}</td>"
            f"<td>{escape(item.model_version or '')}</td></tr>"
        )
    head = "<tr><th>종류</th><th>번호</th><th>내용</th><th>모델 판정</th><th>광고 점수</th><th>모델</th></tr>"
    return f'<table class="review-queue">{head}{"".join(rows)}</table>'
