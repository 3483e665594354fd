"""The moderator panel: log in (kept in the browser across page loads), the review queue with
links to each item, label decisions by number, hiding posts and the CSV export for retraining."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import gradio as gr

from ui import render
from ui.actions import BoardActions
from ui.blocks import PRIVATE, ListView, render_list
from ui.moderation import Moderation

SAVED_TOKEN_KEY = "board-moderator"


def moderator_panel(blocks: gr.Blocks, actions: BoardActions, token: gr.Textbox, lv: ListView) -> None:
    """The 관리자 accordion with /moderator_login, /review_queue, /override_label, /dismiss_reports,
    /hide_post and /export_reviewed; every one checks the token itself."""
    saved = gr.BrowserState("", storage_key=SAVED_TOKEN_KEY, secret=secrets.token_hex(16))
    with gr.Accordion("관리자", open=False, elem_id="moderation"):
        with gr.Row():
            user = gr.Textbox(label="아이디", max_lines=1, elem_id="mod-user")
            password = gr.Textbox(label="비밀번호", type="password", max_lines=1, elem_id="mod-password")
            login = gr.Button("로그인", elem_id="mod-login")
        notice = gr.Markdown(elem_id="mod-notice")
        queue_view = gr.HTML(elem_id="review-queue", js_on_load=None)
        queue_refresh = gr.Button("검토 목록 새로고침", size="sm", elem_id="mod-queue-refresh")
        with gr.Row():
            kind = gr.Radio([("글", "post"), ("댓글", "comment")], value="post", label="종류", elem_id="mod-kind")
            item_id = gr.Number(label="번호", precision=0, elem_id="mod-id")
            label = gr.Radio([("광고", "ad"), ("일반", "normal")], label="라벨", elem_id="mod-label")
            apply = gr.Button("라벨 적용", elem_id="mod-apply")
            dismiss = gr.Button("신고 기각", elem_id="mod-dismiss")
            hide = gr.Button("글 숨기기", elem_id="mod-hide")
        export = gr.Button("검토 결과 CSV 내보내기", elem_id="mod-export")
        export_text = gr.Textbox(visible=False)
        export_file = gr.File(label="CSV", elem_id="mod-export-file")
        changed, queue_data = gr.JSON(visible=False), gr.JSON(visible=False)

    def show_queue(session: str) -> str:
        moderation = actions.moderation
        return render.render_queue(moderation.queue(session)) if moderation.is_moderator(session) else ""

    login.click(actions.moderator_login, [user, password], token, api_name="moderator_login").success(
        lambda t: (t, "로그인되었습니다.", show_queue(t), ""),
        token,
        [saved, notice, queue_view, password],
        api_visibility=PRIVATE,
    )
    queue_refresh.click(actions.review_queue, token, queue_data, api_name="review_queue").success(
        show_queue, token, queue_view, api_visibility=PRIVATE
    )
    for button, action, inputs, done in (
        (apply, actions.override_label, [token, kind, item_id, label], "라벨을 적용했습니다."),
        (dismiss, actions.dismiss_reports, [token, kind, item_id], "신고를 기각했습니다."),
        (hide, actions.hide_post, [token, item_id], "글을 숨겼습니다."),
    ):
        button.click(action, inputs, changed, api_name=action.__name__).success(
            lambda t, *listing, done=done: (done, show_queue(t), *render_list(actions, *listing)),
            [token, *lv.listing],
            [notice, queue_view, *lv.rendered],
            api_visibility=PRIVATE,
        )
    export.click(actions.export_reviewed, token, export_text, api_name="export_reviewed").success(
        write_export, export_text, [notice, export_file], api_visibility=PRIVATE
    )
    blocks.load(
        lambda t: (t, show_queue(t)) if actions.moderation.is_moderator(t) else ("", ""),
        saved,
        [token, queue_view],
        api_visibility=PRIVATE,
    )


def write_export(text: str) -> tuple[str, str]:
    """The CSV as a downloadable file, with how many rows it holds."""
    path = Path(tempfile.mkdtemp(prefix="board-export-")) / "reviewed_posts.csv"
    path.write_text(text, encoding="utf-8")
    return f"{Moderation.exported_rows(text)}건을 내보냈습니다.", str(path)
