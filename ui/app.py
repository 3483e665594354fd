"""The Gradio Blocks board, mounted in a FastAPI app that also serves /metrics and /healthz.

Callbacks stay thin: they call BoardService and render HTML. The same operations are exposed as
JSON API endpoints (`gradio_client`: /create_post, /add_comment, /list_posts, /get_post).
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stack.settings import Settings, apply_offline_env, settings
from ui import render
from ui.auth import Sessions, load_credentials, session_key
from ui.classifier_client import TorchServeClient
from ui.db import make_engine, make_sessions, migrate
from ui.drift import DriftMonitor, mlflow_reference_loader
from ui.metrics import BoardMetrics
from ui.models import Comment, Post
from ui.moderation import Moderation, NotAuthorized
from ui.repository import BoardRepository
from ui.service import BoardService, PendingWorker, ValidationError

log = logging.getLogger(__name__)

PAGE_SIZE = 10
CONCURRENCY = 16
"""Calls per board endpoint handled at once."""


def item_json(item: Post | Comment) -> dict:
    data = {
        "id": item.id,
        "author": item.author,
        "body": item.body,
        "status": item.status,
        "label": item.label,
        "score": item.score,
        "model_version": item.model_version,
        "moderator_label": item.moderator_label,
        "shown_label": item.shown_label,
        "created_at": item.created_at.isoformat() if item.created_at else None,
    }
    if isinstance(item, Post):
        data["title"] = item.title
    else:
        data["post_id"] = item.post_id
    return data


def build_blocks(service: BoardService, moderation: Moderation) -> gr.Blocks:
    with gr.Blocks(title="우리동네 게시판", analytics_enabled=False) as blocks:
        gr.Markdown("# 우리동네 게시판\n광고로 분류된 글에는 빨간 **광고** 표시가 붙습니다.")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    query = gr.Textbox(label="검색", placeholder="제목·본문 검색", scale=3)
                    hide_ads = gr.Checkbox(label="광고 숨기기", value=False, scale=1)
                    page = gr.Number(label="페이지", value=1, precision=0, minimum=1, scale=1)
                    refresh = gr.Button("새로고침", scale=1)
                feed = gr.HTML(elem_id="feed")
            with gr.Column(scale=2):
                gr.Markdown("### 글쓰기")
                author = gr.Textbox(label="닉네임", placeholder="익명", max_lines=1)
                title = gr.Textbox(label="제목", max_lines=1, elem_id="post-title")
                body = gr.Textbox(label="본문", lines=6, elem_id="post-body")
                submit = gr.Button("등록", variant="primary", elem_id="post-submit")
                notice = gr.Markdown(elem_id="post-notice")
        gr.Markdown("### 글 보기 · 댓글")
        with gr.Row():
            post_id = gr.Number(label="글 번호", precision=0, elem_id="post-id")
            show = gr.Button("열기", elem_id="post-open")
        detail = gr.HTML(elem_id="post-detail")
        with gr.Row():
            comment_body = gr.Textbox(label="댓글", scale=4, elem_id="comment-body")
            comment_submit = gr.Button("댓글 등록", scale=1, elem_id="comment-submit")
        comment_notice = gr.Markdown()

        with gr.Accordion("관리자", open=False, elem_id="moderation"):
            token = gr.State("")
            with gr.Row():
                mod_user = gr.Textbox(label="아이디", max_lines=1, elem_id="mod-user")
                mod_password = gr.Textbox(label="비밀번호", type="password", max_lines=1, elem_id="mod-password")
                login = gr.Button("로그인", elem_id="mod-login")
            mod_notice = gr.Markdown(elem_id="mod-notice")
            queue_view = gr.HTML(elem_id="review-queue")
            with gr.Row():
                mod_kind = gr.Radio(
                    [("글", "post"), ("댓글", "comment")], value="post", label="종류", elem_id="mod-kind"
                )
                mod_id = gr.Number(label="번호", precision=0, elem_id="mod-id")
                mod_label = gr.Radio([("광고", "ad"), ("일반", "normal")], label="라벨", elem_id="mod-label")
                apply_label = gr.Button("라벨 적용", elem_id="mod-apply")
                hide = gr.Button("글 숨기기", elem_id="mod-hide")
            export = gr.Button("검토 결과 CSV 내보내기", elem_id="mod-export")
            export_file = gr.File(label="CSV", elem_id="mod-export-file")

        def show_feed(page_no: float | None, hide: bool, q: str) -> str:
            return render.render_feed(service.feed(int(page_no or 1), PAGE_SIZE, hide, q or ""))

        def write(title_text: str, body_text: str, author_text: str, page_no, hide, q):
            try:
                post = service.create_post(title_text, body_text, author_text)
            except ValidationError as exc:
                return f"오류: {exc}", gr.update(), gr.update(), show_feed(page_no, hide, q), gr.update()
            state = {
                "classified": "등록되었습니다.",
                "pending": "등록되었습니다. 광고 분류는 잠시 후 반영됩니다.",
                "failed": "등록되었습니다. (분류 실패)",
            }[post.status]
            return (f"#{post.id} {state}", "", "", show_feed(page_no, hide, q), post.id)

        def open_post(pid: float | None) -> str:
            return render.render_post(service.post(int(pid))) if pid else render.render_post(None)

        def comment(pid: float | None, text: str, author_text: str):
            if not pid:
                return "오류: 글 번호를 먼저 입력해 주세요.", gr.update(), gr.update()
            try:
                service.add_comment(int(pid), text, author_text)
            except ValidationError as exc:
                return f"오류: {exc}", gr.update(), open_post(pid)
            return "댓글이 등록되었습니다.", "", open_post(pid)

        def do_login(user: str, password: str):
            try:
                new_token = moderation.login(user, password)
            except NotAuthorized as exc:
                return "", f"오류: {exc}", ""
            return new_token, "로그인되었습니다.", render.render_queue(moderation.queue(new_token))

        def do_apply(session: str, kind: str, item_id, label: str | None, page_no, hide_flag, q):
            try:
                if not item_id or not label:
                    raise ValidationError("번호와 라벨을 골라 주세요.")
                moderation.override(session, kind, int(item_id), label)
                return (
                    "라벨을 적용했습니다.",
                    render.render_queue(moderation.queue(session)),
                    show_feed(page_no, hide_flag, q),
                )
            except (NotAuthorized, ValidationError) as exc:
                return f"오류: {exc}", gr.update(), gr.update()

        def do_hide(session: str, item_id, page_no, hide_flag, q):
            try:
                if not item_id:
                    raise ValidationError("숨길 글 번호를 입력해 주세요.")
                moderation.hide(session, int(item_id))
                return "글을 숨겼습니다.", show_feed(page_no, hide_flag, q)
            except (NotAuthorized, ValidationError) as exc:
                return f"오류: {exc}", gr.update()

        def do_export(session: str):
            try:
                text = moderation.export_csv(session)
            except NotAuthorized as exc:
                return f"오류: {exc}", None
            path = Path(tempfile.mkdtemp(prefix="board-export-")) / "reviewed_posts.csv"
            path.write_text(text, encoding="utf-8")
            return f"{moderation.exported_rows(text)}건을 내보냈습니다.", str(path)

        listing = [page, hide_ads, query]
        login.click(do_login, [mod_user, mod_password], [token, mod_notice, queue_view], api_visibility="private")
        apply_label.click(
            do_apply,
            [token, mod_kind, mod_id, mod_label, *listing],
            [mod_notice, queue_view, feed],
            api_visibility="private",
        )
        hide.click(do_hide, [token, mod_id, *listing], [mod_notice, feed], api_visibility="private")
        export.click(do_export, token, [mod_notice, export_file], api_visibility="private")
        blocks.load(show_feed, listing, feed, api_visibility="private")
        refresh.click(show_feed, listing, feed, api_visibility="private")
        hide_ads.change(show_feed, listing, feed, api_visibility="private")
        query.submit(show_feed, listing, feed, api_visibility="private")
        page.submit(show_feed, listing, feed, api_visibility="private")
        submit.click(
            write, [title, body, author, *listing], [notice, title, body, feed, post_id], api_visibility="private"
        )
        show.click(open_post, post_id, detail, api_visibility="private")
        post_id.submit(open_post, post_id, detail, api_visibility="private")
        comment_submit.click(
            comment, [post_id, comment_body, author], [comment_notice, comment_body, detail], api_visibility="private"
        )

        # JSON API (gradio_client) -------------------------------------------------------------
        def create_post(title: str, body: str, author: str = "") -> dict:
            """Write a post; returns it with its label (or status pending)."""
            try:
                return item_json(service.create_post(title, body, author))
            except ValidationError as exc:
                raise gr.Error(str(exc)) from None

        def add_comment(post_id: int, body: str, author: str = "") -> dict:
            """Comment on a post; returns the comment with its label."""
            try:
                return item_json(service.add_comment(int(post_id), body, author))
            except ValidationError as exc:
                raise gr.Error(str(exc)) from None

        def list_posts(page: int = 1, hide_ads: bool = False, query: str = "") -> dict:
            """Newest first, PAGE_SIZE per page."""
            result = service.feed(int(page), PAGE_SIZE, hide_ads, query)
            return {
                "total": result.total,
                "page": result.page,
                "pages": result.pages,
                "posts": [{**item_json(p), "comments": result.comment_counts.get(p.id, 0)} for p in result.posts],
            }

        def get_post(post_id: int) -> dict:
            """One post with its comments."""
            post = service.post(int(post_id))
            if post is None:
                raise gr.Error("존재하지 않는 게시글입니다.")
            return {**item_json(post), "comments": [item_json(c) for c in post.comments]}

        def moderator_login(username: str, password: str) -> str:
            """A moderator session token (8 hours)."""
            try:
                return moderation.login(username, password)
            except NotAuthorized as exc:
                raise gr.Error(str(exc)) from None

        def review_queue(token: str) -> list[dict]:
            """Unreviewed items, least certain first (moderators only)."""
            try:
                return [item_json(i) for i in moderation.queue(token)]
            except NotAuthorized as exc:
                raise gr.Error(str(exc)) from None

        def override_label(token: str, kind: str, item_id: int, label: str) -> dict:
            """Set the label shown for a post or comment (moderators only)."""
            try:
                return item_json(moderation.override(token, kind, int(item_id), label))
            except (NotAuthorized, ValidationError) as exc:
                raise gr.Error(str(exc)) from None

        def hide_post(token: str, post_id: int) -> dict:
            """Hide a post from the feed (moderators only)."""
            try:
                return item_json(moderation.hide(token, int(post_id)))
            except (NotAuthorized, ValidationError) as exc:
                raise gr.Error(str(exc)) from None

        def export_reviewed(token: str) -> str:
            """Every reviewed item as CSV in the training data format (moderators only)."""
            try:
                return moderation.export_csv(token)
            except NotAuthorized as exc:
                raise gr.Error(str(exc)) from None

        for fn in (
            create_post,
            add_comment,
            list_posts,
            get_post,
            moderator_login,
            review_queue,
            override_label,
            hide_post,
            export_reviewed,
        ):
            gr.api(fn, api_name=fn.__name__, concurrency_limit=CONCURRENCY)
    # Gradio runs one call per event at a time by default; writers wait on I/O (database,
    # TorchServe), and concurrent calls are what lets TorchServe batch.
    blocks.queue(default_concurrency_limit=CONCURRENCY)
    return blocks


@dataclass
class Board:
    app: FastAPI
    service: BoardService
    moderation: Moderation
    worker: PendingWorker
    drift: DriftMonitor


def create_board(cfg: Settings) -> Board:
    """Wire database, classifier client, metrics, background worker and UI into one ASGI app."""
    engine = make_engine(cfg.board_database_url)
    migrate(engine)
    metrics = BoardMetrics()
    service = BoardService(BoardRepository(make_sessions(engine)), TorchServeClient(cfg), metrics)
    metrics.pending.set(service.repo.pending_count())
    worker = PendingWorker(service, cfg.pending_poll_s)
    drift = DriftMonitor(service.repo, mlflow_reference_loader(cfg), cfg.drift_window, cfg.low_confidence_margin)
    credentials = load_credentials(cfg.secrets_dir)
    log.info("moderator login: user %r, password from %s", credentials.username, credentials.source)
    moderation = Moderation(service.repo, Sessions(credentials, session_key(cfg.secrets_dir)), metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        worker.start()
        yield
        worker.stop()

    app = FastAPI(title="ad-guard board", docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> PlainTextResponse:
        metrics.pending.set(service.repo.pending_count())
        ratio = service.repo.recent_ad_ratio()
        if ratio is not None:
            metrics.ad_ratio.set(ratio)
        reading = drift.read()
        if reading is not None:
            metrics.record_drift(reading)
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok", "pending": service.repo.pending_count()}

    app = gr.mount_gradio_app(app, build_blocks(service, moderation), path="", css=render.CSS, footer_links=["api"])
    return Board(app, service, moderation, worker, drift)


SHUTDOWN_GRACE_S = 5
"""On stop, how long open connections (browsers' event streams never close by themselves) may
finish before the server closes them; requests already answered are stored either way."""


def main() -> None:
    import uvicorn

    apply_offline_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = settings()
    board = create_board(cfg)
    log.info("board on http://%s:%d (database %s)", cfg.host, cfg.board_port, cfg.board_database_url)
    uvicorn.run(
        board.app,
        host=cfg.host,
        port=cfg.board_port,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


if __name__ == "__main__":
    main()
