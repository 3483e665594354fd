"""The board's Gradio Blocks: a list view, a post view, a write view and the moderator panel.

Every public action (ui/actions.py) is one event whose `api_name` is its gradio_client endpoint.
It answers JSON into a hidden gr.JSON; a private `.success` step then renders the views. Refusals
are gr.Error (Korean): the browser shows a toast, API clients receive the message.

Navigation: a post's title links to `?post=<id>` (plus the list's page, search and hide-ads), so
every post has its own URL; on load the query parameters open the post or the list page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import gradio as gr

from ui import render
from ui.actions import PAGE_SIZE, BoardActions, page_number
from ui.models import item_kind

CONCURRENCY = 16
"""Calls per board endpoint handled at once."""
PRIVATE = "private"

CLASSIFICATION_NOTICE = {
    "classified": "등록되었습니다.",
    "pending": "등록되었습니다. 광고 분류는 잠시 후 반영됩니다.",
    "failed": "등록되었습니다. (분류 실패)",
}


@dataclass
class ListView:
    column: gr.Column
    page: gr.Number
    hide_ads: gr.Checkbox
    query: gr.Textbox
    feed: gr.HTML
    indicator: gr.Markdown
    prev: gr.Button
    next: gr.Button
    write: gr.Button

    @property
    def listing(self) -> list:
        return [self.page, self.hide_ads, self.query]

    @property
    def rendered(self) -> list:
        return [self.feed, self.indicator, self.prev, self.next]


@dataclass
class PostView:
    column: gr.Column
    post_id: gr.Textbox
    detail: gr.HTML
    back: gr.Button
    data: gr.JSON


@dataclass
class WriteView:
    column: gr.Column
    title: gr.Textbox
    body: gr.Textbox
    cancel: gr.Button
    data: gr.JSON
    submitted: object
    """The /create_post event, which navigation continues."""


def show(view: str) -> tuple[gr.Column, gr.Column, gr.Column]:
    """Visibility updates of (list, post, write) showing only `view`."""
    return tuple(gr.Column(visible=name == view) for name in ("list", "post", "write"))


def render_list(actions: BoardActions, page: float | None, hide_ads: bool, query: str) -> tuple:
    """Feed HTML, page indicator and the pager buttons' state for one list page."""
    service = actions.service
    result = service.feed(page_number(page), PAGE_SIZE, bool(hide_ads), query or "")
    links = render.list_query(result.page, bool(hide_ads), query or "")
    return (
        render.render_feed(result, links, render.Viewer(review_at=service.review_at)),
        f"{result.page} / {result.pages} 페이지 · 전체 {result.total}개",
        gr.Button(interactive=result.page > 1),
        gr.Button(interactive=result.page < result.pages),
    )


def render_detail(actions: BoardActions, post_id: object, token: str) -> str:
    """The post view's HTML for whoever holds `token` (moderators: hidden posts, inline actions)."""
    moderator = actions.moderation.is_moderator(token)
    post = actions.service.post(int(post_id), include_hidden=moderator)
    evidence = {}
    if post is not None and (moderator or actions.evidence_public):
        evidence = {(item_kind(i), i.id): actions.service.evidence(i) for i in (post, *post.comments) if i.is_ad}
    return render.render_post(post, render.Viewer(moderator, actions.service.review_at, evidence))


def list_view(actions: BoardActions) -> ListView:
    """The feed with search, hide-ads and previous/next page buttons; /list_posts lives here."""
    with gr.Column(elem_id="list-view") as column:
        with gr.Row(equal_height=True):
            query = gr.Textbox(label="검색", placeholder="제목·본문 검색", scale=3, elem_id="search")
            hide_ads = gr.Checkbox(label="광고 숨기기", value=False, scale=1, elem_id="hide-ads")
            write = gr.Button("글쓰기", variant="primary", scale=1, elem_id="write-open")
        feed = gr.HTML(elem_id="feed", js_on_load=None)
        with gr.Row(equal_height=True, elem_id="pager"):
            prev = gr.Button("◀ 이전", size="sm", elem_id="page-prev")
            indicator = gr.Markdown(elem_id="page-indicator")
            next_ = gr.Button("다음 ▶", size="sm", elem_id="page-next")
        page = gr.Number(value=1, precision=0, visible=False)
        data = gr.JSON(visible=False)
    view = ListView(column, page, hide_ads, query, feed, indicator, prev, next_, write)
    gr.on(
        [query.submit, hide_ads.change, page.change], actions.list_posts, view.listing, data, api_name="list_posts"
    ).success(lambda *listing: render_list(actions, *listing), view.listing, view.rendered, api_visibility=PRIVATE)
    prev.click(lambda p: max(1, page_number(p) - 1), page, page, api_visibility=PRIVATE)
    next_.click(lambda p: page_number(p) + 1, page, page, api_visibility=PRIVATE)
    return view


def post_view(actions: BoardActions, token: gr.Textbox, reader: gr.Textbox) -> PostView:
    """One post with its comments, report and comment forms; /get_post, /add_comment and
    /report_item live here."""
    with gr.Column(visible=False, elem_id="post-view") as column:
        back = gr.Button("← 목록으로", size="sm", elem_id="back-to-list")
        detail = gr.HTML(elem_id="post-detail", js_on_load=render.ACTIONS_JS)
        report = gr.Button("이 글 신고 (광고)", size="sm", variant="stop", elem_id="report-post")
        with gr.Group():
            author = gr.Textbox(label="닉네임", placeholder="익명", max_lines=1, elem_id="comment-author")
            comment = gr.Textbox(label="댓글", lines=2, elem_id="comment-body")
            submit = gr.Button("댓글 등록", variant="primary", elem_id="comment-submit")
        post_id = gr.Textbox(value="", visible=False)
        kind = gr.Textbox(value="post", visible=False)
        data, changed = gr.JSON(visible=False), gr.JSON(visible=False)
    view = PostView(column, post_id, detail, back, data)

    def rerender(_changed: dict, post: str, session: str) -> str:
        return render_detail(actions, post, session)

    opened = post_id.change(actions.get_post, [post_id, token], data, api_name="get_post")
    opened.success(
        lambda post, session: render_detail(actions, post["id"], session), [data, token], detail, api_visibility=PRIVATE
    )
    opened.failure(render.render_missing, None, detail, api_visibility=PRIVATE)
    submit.click(actions.add_comment, [post_id, comment, author], changed, api_name="add_comment").success(
        lambda *args: ("", rerender(*args)), [changed, post_id, token], [comment, detail], api_visibility=PRIVATE
    )

    def reported(item: dict, post: str, session: str) -> str:
        gr.Info(REPORTED)
        return rerender(item, post, session)

    report.click(actions.report_item, [kind, post_id, reader], changed, api_name="report_item").success(
        reported, [changed, post_id, token], detail, api_visibility=PRIVATE
    )

    def on_item_button(session: str, reader_id: str, post: str, evt: gr.EventData, request: gr.Request) -> str:
        item_action(actions, session, reader_id, evt._data or {}, request)
        return render_detail(actions, post, session)

    detail.click(on_item_button, [token, reader, post_id], detail, api_visibility=PRIVATE)
    return view


REPORTED = "신고가 접수되었습니다. 관리자가 검토합니다."
DONE = {
    "ad": "광고로 표시했습니다.",
    "normal": "일반 글로 표시했습니다.",
    "dismiss": "신고를 기각했습니다.",
    "hide": "숨겼습니다.",
}


def item_action(actions: BoardActions, token: str, reader: str, data: dict, request: gr.Request) -> None:
    """A button on a post or comment in the post view: 신고, or a moderator's decision; each goes
    through the same action as its API endpoint."""
    action, kind, item_id = data.get("action"), data.get("kind", ""), data.get("id", "")
    if action == "report":
        actions.report_item(kind, item_id, reader, request)
        gr.Info(REPORTED)
        return
    if action in ("ad", "normal"):
        actions.override_label(token, kind, item_id, action)
    elif action == "dismiss":
        actions.dismiss_reports(token, kind, item_id)
    elif action == "hide":
        actions.hide_post(token, item_id)
    else:
        return
    gr.Info(DONE[action])


def write_view(actions: BoardActions) -> WriteView:
    """The form for a new post; /create_post lives here."""
    with gr.Column(visible=False, elem_id="write-view") as column:
        gr.Markdown("### 글쓰기")
        author = gr.Textbox(label="닉네임", placeholder="익명", max_lines=1, elem_id="post-author")
        title = gr.Textbox(label="제목", max_lines=1, elem_id="post-title")
        body = gr.Textbox(label="본문", lines=8, elem_id="post-body")
        with gr.Row():
            cancel = gr.Button("취소", elem_id="post-cancel")
            submit = gr.Button("등록", variant="primary", elem_id="post-submit")
        data = gr.JSON(visible=False)
    submitted = submit.click(actions.create_post, [title, body, author], data, api_name="create_post")
    return WriteView(column, title, body, cancel, data, submitted)


def wire_navigation(blocks: gr.Blocks, actions: BoardActions, views: tuple, reader: gr.Textbox) -> None:
    """Switching views: open by URL on load, back to the list, write and land on the new post."""
    lv, pv, wv = views
    columns = [lv.column, pv.column, wv.column]

    def landed(post: dict) -> tuple:
        gr.Info(f"#{post['id']} {CLASSIFICATION_NOTICE.get(post['status'], '')}")
        return (str(post["id"]), "", "", *show("post"))

    wv.submitted.success(landed, wv.data, [pv.post_id, wv.title, wv.body, *columns], api_visibility=PRIVATE).success(
        None, pv.post_id, None, js=render.POST_URL_JS, api_visibility=PRIVATE
    )
    lv.write.click(lambda: show("write"), None, columns, api_visibility=PRIVATE)
    wv.cancel.click(lambda: show("list"), None, columns, api_visibility=PRIVATE)
    pv.back.click(lambda: show("list"), None, columns, api_visibility=PRIVATE).then(
        lambda *listing: render_list(actions, *listing), lv.listing, lv.rendered, api_visibility=PRIVATE
    ).then(None, lv.listing, None, js=render.LIST_URL_JS, api_visibility=PRIVATE)

    saved_reader = gr.BrowserState("", storage_key="board-reader")

    def open_from_url(known_reader: str, request: gr.Request) -> tuple:
        params = request.query_params
        post = params.get("post", "")
        listing = (page_number(params.get(render.PAGE_PARAM, 1)), params.get("ads") == "hide", params.get("q", ""))
        reader_id = known_reader or uuid.uuid4().hex
        return (*listing, post or gr.skip(), *show("post" if post else "list"), reader_id, reader_id)

    blocks.load(
        open_from_url,
        saved_reader,
        [*lv.listing, pv.post_id, *columns, reader, saved_reader],
        api_visibility=PRIVATE,
    ).then(lambda *listing: render_list(actions, *listing), lv.listing, lv.rendered, api_visibility=PRIVATE)


def build_blocks(actions: BoardActions) -> gr.Blocks:
    """The whole board: header, the three views, the moderator panel, and their navigation."""
    from ui.moderator_view import moderator_panel

    with gr.Blocks(title="우리동네 게시판", analytics_enabled=False) as blocks:
        gr.Markdown("# 우리동네 게시판\n광고로 분류된 글에는 빨간 **광고** 표시가 붙습니다.", elem_id="header")
        token = gr.Textbox(value="", visible=False)
        reader = gr.Textbox(value="", visible=False)
        views = (list_view(actions), post_view(actions, token, reader), write_view(actions))
        wire_navigation(blocks, actions, views, reader)
        moderator_panel(blocks, actions, token, views[0])
    # Gradio runs one call per event at a time by default; writers wait on I/O (database,
    # TorchServe), and concurrent calls are what lets TorchServe batch.
    blocks.queue(default_concurrency_limit=CONCURRENCY)
    return blocks
