"""The board as users reach it: its JSON API through gradio_client, backed by a real TorchServe."""

from __future__ import annotations

import time

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.helpers import ServedBoard
from ui import render

pytestmark = pytest.mark.slow


def test_post_is_stored_classified_and_listed(client: Client) -> None:
    post = client.predict("오늘 산책", "날씨가 좋아서 강아지랑 한강 다녀왔어요", "민지", api_name="/create_post")
    assert post["status"] == "classified"
    assert post["label"] in {"ad", "normal"} and 0 <= post["score"] <= 1
    assert post["model_version"] == "ad-classifier/1"
    listed = client.predict(1, False, "", api_name="/list_posts")
    assert listed["posts"][0]["id"] == post["id"]
    assert listed["posts"][0]["author"] == "민지"


def test_comment_is_classified_too(client: Client) -> None:
    post = client.predict("질문", "근처 맛집 추천해 주세요", "", api_name="/create_post")
    comment = client.predict(post["id"], "역 앞 국밥집 괜찮아요", "", api_name="/add_comment")
    assert comment["status"] == "classified" and comment["post_id"] == post["id"]
    detail = client.predict(post["id"], api_name="/get_post")
    assert [c["id"] for c in detail["comments"]] == [comment["id"]]


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [("", "본문", "제목을 입력"), ("제목", "   ", "본문을 입력"), ("가" * 101, "본문", "100자 이하")],
)
def test_validation_messages_are_korean(client: Client, title: str, body: str, message: str) -> None:
    with pytest.raises(Exception, match=message):
        client.predict(title, body, "", api_name="/create_post")


def test_script_in_title_renders_as_text(board: ServedBoard) -> None:
    post = board.board.service.create_post("<script>alert(1)</script>", "<b>굵게</b> **마크다운**", "<i>x</i>")
    html = render.render_feed(board.board.service.feed())
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>굵게</b>" not in render.render_post(board.board.service.post(post.id))


def test_board_exposes_prometheus_metrics(board: ServedBoard) -> None:
    text = requests.get(f"{board.url}/metrics", timeout=10).text
    assert "board_items_created_total" in text and "board_pending_items" in text
    assert "board_recent_ad_ratio" in text and "board_classify_latency_seconds_bucket" in text
    assert 'board_low_confidence_ratio{model="ad-classifier/1"}' in text


def test_posts_wait_pending_while_torchserve_is_unreachable_then_get_classified(board: ServedBoard) -> None:
    service = board.board.service
    real_url = service.client.url
    service.client.url = "http://127.0.0.1:9/predictions/ad-classifier"  # nothing listens on port 9
    try:
        post = service.create_post("서버 점검 중", "이 글은 잠시 분류 대기 상태가 됩니다", "")
        assert post.status == "pending"
        assert "분류 대기" in render.render_feed(service.feed())
    finally:
        service.client.url = real_url
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and service.post(post.id).status == "pending":
        time.sleep(0.5)
    assert service.post(post.id).status == "classified"


@pytest.mark.parametrize(
    ("post_id", "message"),
    [
        (2**63, "존재하지 않는 게시글"),
        (-1, "존재하지 않는 게시글"),
        ("abc", "숫자로 입력해"),
        (2**31 + 5, "존재하지 않는"),
    ],
)
def test_bad_post_ids_get_a_korean_message(client: Client, post_id: object, message: str) -> None:
    with pytest.raises(AppError, match=message):
        client.predict(post_id, api_name="/get_post")
    with pytest.raises(AppError, match=message):
        client.predict(post_id, "댓글", "", api_name="/add_comment")


def test_search_for_wildcards_matches_them_literally(client: Client) -> None:
    literal = client.predict("수수료 10% 할인_이벤트", "문자 그대로 찾기", "", api_name="/create_post")
    client.predict("평범한 글", "퍼센트 없는 본문", "", api_name="/create_post")
    for query in ("%", "_", "10%"):
        found = client.predict(1, False, query, api_name="/list_posts")
        assert [p["id"] for p in found["posts"]] == [literal["id"]], query
