"""The Gradio Blocks board, mounted in a FastAPI app that also serves /metrics and /healthz.

Callbacks stay thin: they call BoardService and render HTML. The same operations are exposed as
JSON API endpoints (`gradio_client`: /create_post, /add_comment, /list_posts, /get_post).
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stack.settings import Settings, settings
from ui import render
from ui.classifier_client import TorchServeClient
from ui.db import make_engine, make_sessions, migrate
from ui.metrics import BoardMetrics
from ui.models import Comment, Post
from ui.repository import BoardRepository
from ui.service import BoardService, PendingWorker, ValidationError

log = logging.getLogger(__name__)

PAGE_SIZE = 10


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


def build_blocks(service: BoardService) -> gr.Blocks:
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
            post_id = gr.Number(label="글 번호", precision=0, minimum=1, elem_id="post-id")
            show = gr.Button("열기", elem_id="post-open")
        detail = gr.HTML(elem_id="post-detail")
        with gr.Row():
            comment_body = gr.Textbox(label="댓글", scale=4, elem_id="comment-body")
            comment_submit = gr.Button("댓글 등록", scale=1, elem_id="comment-submit")
        comment_notice = gr.Markdown()

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

        listing = [page, hide_ads, query]
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

        for fn in (create_post, add_comment, list_posts, get_post):
            gr.api(fn, api_name=fn.__name__)
    return blocks


@dataclass
class Board:
    app: FastAPI
    service: BoardService
    worker: PendingWorker


def create_board(cfg: Settings) -> Board:
    """Wire database, classifier client, metrics, background worker and UI into one ASGI app."""
    engine = make_engine(cfg.board_database_url)
    migrate(engine)
    metrics = BoardMetrics()
    service = BoardService(BoardRepository(make_sessions(engine)), TorchServeClient(cfg), metrics)
    metrics.pending.set(service.repo.pending_count())
    worker = PendingWorker(service, cfg.pending_poll_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        worker.start()
        yield
        worker.stop()

    app = FastAPI(title="ad-guard board", docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> PlainTextResponse:
        metrics.pending.set(service.repo.pending_count())
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok", "pending": service.repo.pending_count()}

    app = gr.mount_gradio_app(app, build_blocks(service), path="", css=render.CSS, footer_links=["api"])
    return Board(app, service, worker)


def main() -> None:
    import uvicorn

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = settings()
    board = create_board(cfg)
    log.info("board on http://%s:%d (database %s)", cfg.host, cfg.board_port, cfg.board_database_url)
    uvicorn.run(board.app, host=cfg.host, port=cfg.board_port, log_level="warning")


if __name__ == "__main__":
    main()
