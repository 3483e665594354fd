"""HTML for the feed and a post. Every piece of user text goes through html.escape: titles, bodies
and comments display as text and never execute."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode

from ui.models import Comment, Post, item_kind
from ui.repository import Page


@dataclass(frozen=True)
class Viewer:
    """Who is looking: moderators get inline actions and report counts."""

    moderator: bool = False
    review_at: int = 3
    """Open reports that show an item as 검토 중."""
    evidence: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    """Why items were labelled 광고: (kind, id) -> phrases to highlight, for those allowed to see it."""

    def phrases(self, item: Post | Comment) -> tuple[str, ...]:
        return self.evidence.get((item_kind(item), item.id), ())


READER = Viewer()

CSS = """
.board-post, .board-comment, .review-queue { text-align: left; }
.board-post { border-bottom: 1px solid #e5e7eb; padding: 10px 4px; }
.board-post h3 { margin: 2px 0 4px 0; font-size: 1.05rem; }
.board-post p { margin: 0 0 4px 0; color: #374151; white-space: pre-wrap; }
.board-meta { color: #6b7280; font-size: 0.8rem; }
.ad-badge { display: inline-block; background: #dc2626; color: #fff; font-weight: 700; font-size: 0.75rem;
            padding: 1px 8px; border-radius: 4px; }
.review-badge { display: inline-block; background: #f59e0b; color: #fff; font-size: 0.75rem;
                padding: 1px 8px; border-radius: 4px; }
.item-actions { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0; }
.item-actions button { min-height: 36px; padding: 4px 10px; border: 1px solid #d1d5db; border-radius: 6px;
                       background: #fff; font-size: 0.85rem; cursor: pointer; }
.item-actions button.mod { border-color: #6366f1; color: #4338ca; }
mark.evidence { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.evidence-note { color: #92400e; font-size: 0.8rem; margin: 2px 0; }
.pending-badge { display: inline-block; background: #9ca3af; color: #fff; font-size: 0.75rem;
                 padding: 1px 8px; border-radius: 4px; }
.board-comment { border-left: 3px solid #e5e7eb; padding: 4px 8px; margin: 6px 0; }
.board-empty { color: #6b7280; padding: 16px 4px; }
.review-queue { width: 100%; font-size: 0.85rem; border-collapse: collapse; }
.review-queue td, .review-queue th { border-bottom: 1px solid #e5e7eb; padding: 4px 6px; text-align: left; }
.post-link { color: inherit; text-decoration: none; display: block; padding: 4px 0; }
.post-link:hover h3 { text-decoration: underline; }
.hidden-banner { background: #fef3c7; color: #92400e; padding: 6px 10px; border-radius: 4px; margin: 4px 0; }
.board-post, .board-comment { overflow-wrap: anywhere; }
.review-queue { table-layout: fixed; }
.review-queue td { overflow-wrap: anywhere; }
#pager { align-items: center; flex-wrap: nowrap; gap: 8px; }
#pager > * { min-width: 0 !important; flex: 1 1 0; }
#pager button { min-height: 44px; }
#page-indicator { text-align: center; font-size: 0.85rem; }
#feed, #post-detail, #feed h3, #feed p, #post-detail h3, #post-detail p { text-align: left; }
"""

PAGE_PARAM = "pg"
"""The list page in the URL (Gradio itself reads `page`)."""
POST_URL_JS = "(id) => { history.replaceState(null, '', '?post=' + encodeURIComponent(id)); }"
"""Puts the open post's own URL in the address bar (shareable, opens it again on reload)."""
LIST_URL_JS = """(page, hide, q) => {
  const params = new URLSearchParams();
  if (page > 1) params.set('pg', page);
  if (hide) params.set('ads', 'hide');
  if (q) params.set('q', q);
  history.replaceState(null, '', params.toString() ? '?' + params : location.pathname);
}"""
"""Puts the list's page, hide-ads and search in the address bar."""

PREVIEW_CHARS = 80


def badge(item: Post | Comment, viewer: Viewer = READER) -> str:
    """The red 광고 badge, the grey 분류 대기 badge, or nothing; 검토 중 beside it once enough
    readers reported the item."""
    review = ""
    if (item.open_reports or 0) >= viewer.review_at:
        review = '<span class="review-badge" title="신고가 접수되어 관리자가 검토 중입니다">검토 중</span> '
    return review + _label_badge(item)


def _label_badge(item: Post | Comment) -> str:
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


def list_query(page: int, hide_ads: bool, query: str) -> str:
    """The list's state as URL parameters, carried by post links so 목록으로 returns to it."""
    params: dict[str, str | int] = {PAGE_PARAM: page} if page > 1 else {}
    if hide_ads:
        params["ads"] = "hide"
    if query:
        params["q"] = query
    return urlencode(params)


def post_url(post_id: int, listing: str = "") -> str:
    return f"?post={post_id}" + (f"&{listing}" if listing else "")


def render_feed(page: Page, listing: str = "", viewer: Viewer = READER) -> str:
    """The feed; each title links to its post's own URL (`listing`: the list state to return to)."""
    if not page.posts:
        return '<div class="board-empty">아직 게시글이 없습니다. 첫 글을 남겨 보세요!</div>'
    rows = []
    for post in page.posts:
        preview = post.body if len(post.body) <= PREVIEW_CHARS else post.body[:PREVIEW_CHARS] + "…"
        comments = page.comment_counts.get(post.id, 0)
        rows.append(
            f'<div class="board-post" data-post-id="{post.id}">{badge(post, viewer)}'
            f'<a class="post-link" href="{escape(post_url(post.id, listing))}">'
            f"<h3>#{post.id} {escape(post.title)}</h3><p>{escape(preview)}</p></a>"
            f"{_meta(post, f' · 댓글 {comments}')}</div>"
        )
    return "".join(rows)


MODERATOR_ACTIONS = (("ad", "광고로 표시"), ("normal", "일반으로 표시"), ("dismiss", "신고 기각"))


def item_actions(item: Post | Comment, viewer: Viewer) -> str:
    """Buttons under an item: 신고 for a comment; a moderator's decisions (and hide for a post)."""
    kind = item_kind(item)
    data = f'data-kind="{kind}" data-id="{item.id}"'
    buttons = [] if isinstance(item, Post) else [f'<button data-action="report" {data}>신고</button>']
    if viewer.moderator:
        actions = [*MODERATOR_ACTIONS, *([("hide", "숨기기")] if isinstance(item, Post) else [])]
        buttons += [f'<button class="mod" data-action="{a}" {data}>{text}</button>' for a, text in actions]
        buttons.append(f'<span class="board-meta">신고 {item.open_reports or 0}건</span>')
    return f'<div class="item-actions">{"".join(buttons)}</div>' if buttons else ""


ACTIONS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (button) trigger('click', {action: button.dataset.action, kind: button.dataset.kind, id: button.dataset.id});
});
"""
"""Turns a click on an item's button in the post view into the component's click event with its data."""


def highlight(text: str, phrases: tuple[str, ...]) -> str:
    """`text` escaped, with every occurrence of `phrases` (longest first, any case) in <mark>."""
    if not phrases:
        return escape(text)
    pattern = re.compile("|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)), re.IGNORECASE)
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts += [escape(text[last : match.start()]), f'<mark class="evidence">{escape(match.group())}</mark>']
        last = match.end()
    return "".join(parts) + escape(text[last:])


def evidence_note(phrases: tuple[str, ...]) -> str:
    if not phrases:
        return ""
    shown = ", ".join(escape(p) for p in phrases)
    return f'<div class="evidence-note" title="모델 점수를 높인 표현">광고 판단 근거: {shown}</div>'


def _comment(comment: Comment, viewer: Viewer = READER) -> str:
    phrases = viewer.phrases(comment)
    return (
        f'<div class="board-comment" data-comment-id="{comment.id}">{badge(comment, viewer)}'
        f"<p>{highlight(comment.body, phrases)}</p>{evidence_note(phrases)}{_meta(comment)}"
        f"{item_actions(comment, viewer)}</div>"
    )


def render_post(post: Post | None, viewer: Viewer = READER) -> str:
    """A post with its comments; comments labelled as ads are collapsed behind 광고성 댓글 보기."""
    if post is None:
        return '<div class="board-empty">게시글을 선택해 주세요.</div>'
    visible = "".join(_comment(c, viewer) for c in post.comments if not c.is_ad)
    ads = [c for c in post.comments if c.is_ad]
    if ads:
        visible += (
            f'<details class="ad-comments"><summary>광고성 댓글 보기 ({len(ads)})</summary>'
            f"{''.join(_comment(c, viewer) for c in ads)}</details>"
        )
    comments = visible or '<div class="board-empty">댓글이 없습니다.</div>'
    score = f" · 광고 점수 {post.score:.3f}" if post.score is not None else ""
    hidden = '<div class="hidden-banner">숨김 처리된 글입니다. 관리자에게만 보입니다.</div>' if post.hidden else ""
    return (
        f'{hidden}<div class="board-post" data-post-id="{post.id}">{badge(post, viewer)}'
        f"<h3>#{post.id} {highlight(post.title, viewer.phrases(post))}</h3>"
        f"<p>{highlight(post.body, viewer.phrases(post))}</p>{evidence_note(viewer.phrases(post))}"
        f"{_meta(post, score)}{item_actions(post, viewer)}</div>"
        f"<h4>댓글 {len(post.comments)}</h4>{comments}"
    )


def render_missing() -> str:
    return '<div class="board-empty">게시글을 열 수 없습니다. 목록으로 돌아가 주세요.</div>'


def render_queue(items: list[Post | Comment]) -> str:
    """The moderators' review queue: least certain first."""
    if not items:
        return '<div class="board-empty">검토할 항목이 없습니다.</div>'
    rows = []
    for item in items:
        kind = item_kind(item)
        text = f"{item.title} | {item.body}" if isinstance(item, Post) else item.body
        preview = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"
        post_id = item.id if isinstance(item, Post) else item.post_id
        rows.append(
            f'<tr data-kind="{kind}" data-id="{item.id}"><td>{kind}</td><td>{item.id}</td>'
            f'<td><a href="{post_url(post_id)}">{escape(preview)}</a></td>'
            f"<td>{item.open_reports or 0}</td><td>{LABEL_KO.get(item.label or '', '-')}</td>"
            f"<td>{'-' if item.score is None else f'{item.score:.3f}'}</td>"
            f"<td>{escape(item.model_version or '')}</td></tr>"
        )
    columns = ("종류", "번호", "내용", "신고", "모델 판정", "광고 점수", "모델")
    head = "<tr>" + "".join(f"<th>{name}</th>" for name in columns) + "</tr>"
    return f'<table class="review-queue">{head}{"".join(rows)}</table>'
