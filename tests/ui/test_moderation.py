"""Moderation through the board's API: login required, queue by uncertainty, override, hide, export."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError

from training.data import load_posts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def token(board, client: Client) -> str:
    creds = board.board.moderation.sessions.credentials
    return client.predict(creds.username, creds.password, api_name="/moderator_login")


def test_wrong_password_is_refused(client: Client) -> None:
    with pytest.raises(Exception, match="올바르지 않습니다"):
        client.predict("moderator", "not-the-password", api_name="/moderator_login")


@pytest.mark.parametrize(
    ("api", "args"),
    [
        ("/review_queue", ()),
        ("/override_label", ("post", 1, "ad")),
        ("/dismiss_reports", ("post", 1)),
        ("/hide_post", (1,)),
        ("/export_reviewed", ()),
    ],
)
@pytest.mark.parametrize("bad_token", ["", "forged.token"])
def test_non_moderators_cannot_moderate(client: Client, api: str, args: tuple, bad_token: str) -> None:
    with pytest.raises(Exception, match="관리자 로그인이 필요합니다"):
        client.predict(bad_token, *args, api_name=api)


def test_queue_puts_least_certain_first(client: Client, token: str) -> None:
    for i in range(4):
        client.predict(f"검토 대기 {i}", f"분류 확신도를 보는 글 {i}", "", api_name="/create_post")
    queue = client.predict(token, api_name="/review_queue")
    margins = [abs(item["score"] - 0.5) for item in queue]
    assert queue and margins == sorted(margins)


def test_override_is_shown_and_the_model_label_kept(board, client: Client, token: str) -> None:
    post = client.predict("관리자 판정 대상", "이 글의 라벨을 사람이 바꿉니다", "", api_name="/create_post")
    flipped = "normal" if post["label"] == "ad" else "ad"
    updated = client.predict(token, "post", post["id"], flipped, api_name="/override_label")
    assert updated["shown_label"] == flipped and updated["label"] == post["label"]
    assert updated["moderator_label"] == flipped
    metrics = requests.get(f"{board.url}/metrics", timeout=10).text
    assert f'board_moderator_overrides_total{{direction="{post["label"]}_to_{flipped}"}} 1.0' in metrics
    assert post["id"] not in [i["id"] for i in client.predict(token, api_name="/review_queue")]


def test_hidden_post_is_closed_to_readers_and_shown_to_moderators(client: Client, token: str) -> None:
    post = client.predict("숨길 글", "신고가 들어온 글", "", api_name="/create_post")
    assert client.predict(token, post["id"], api_name="/hide_post")["hidden"] is True
    listed = client.predict(1, False, "", api_name="/list_posts")
    assert post["id"] not in [p["id"] for p in listed["posts"]]
    assert client.predict(1, False, "신고가 들어온", api_name="/list_posts")["posts"] == []
    with pytest.raises(AppError, match="존재하지 않는 게시글"):
        client.predict(post["id"], api_name="/get_post")
    with pytest.raises(AppError, match="존재하지 않는 게시글"):
        client.predict(post["id"], "숨긴 글에 댓글", "", api_name="/add_comment")
    for bad_token in ("", "forged.token"):
        with pytest.raises(AppError, match="존재하지 않는 게시글"):
            client.predict(post["id"], bad_token, api_name="/get_post")
    seen = client.predict(post["id"], token, api_name="/get_post")
    assert seen["hidden"] is True and seen["comments"] == []


def test_export_is_training_data(client: Client, token: str, tmp_path) -> None:
    for title, label in (("내보내기 광고", "ad"), ("내보내기 일반", "normal")):
        post = client.predict(title, f"{title} 본문", "", api_name="/create_post")
        client.predict(token, "post", post["id"], label, api_name="/override_label")
    text = client.predict(token, api_name="/export_reviewed")
    path = tmp_path / "reviewed.csv"
    path.write_text(text, encoding="utf-8")
    all_rows = list(csv.DictReader(io.StringIO(text)))
    rows = {r["title"]: r for r in all_rows}
    assert rows["내보내기 광고"]["label"] == "1" and rows["내보내기 일반"]["label"] == "0"
    assert rows["내보내기 광고"]["model_version"] == "ad-classifier/1"
    posts = load_posts(path)  # the training data format: make train DATA=reviewed.csv accepts it
    assert len(posts) == len(all_rows)


def metric(board, line_start: str) -> float:
    for line in requests.get(f"{board.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(line_start):
            return float(line.split()[-1])
    return 0.0


def test_reports_lead_the_queue_and_decisions_flow_into_the_export(board, client: Client, token: str) -> None:
    post = client.predict("세 명이 신고한 글", "독자들이 광고라고 본 글", "", api_name="/create_post")
    comment = client.predict(post["id"], "신고된 댓글", "", api_name="/add_comment")
    for n in range(1, 4):
        reported = Client(board.url, verbose=False).predict("post", post["id"], api_name="/report_item")
        assert (reported["open_reports"], reported["under_review"]) == (n, n >= 3)
    client.predict("comment", comment["id"], api_name="/report_item")
    assert client.predict(post["id"], api_name="/get_post")["under_review"] is True
    queue = client.predict(token, api_name="/review_queue")
    assert (queue[0]["id"], queue[0]["open_reports"]) == (post["id"], 3)

    upheld, rejected = (
        metric(board, 'board_reports_decided_total{outcome="upheld"'),
        metric(board, 'board_reports_decided_total{outcome="rejected"'),
    )
    decided = client.predict(token, "post", post["id"], "ad", api_name="/override_label")
    assert (decided["open_reports"], decided["under_review"], decided["shown_label"]) == (0, False, "ad")
    dismissed = client.predict(token, "comment", comment["id"], api_name="/dismiss_reports")
    assert dismissed["open_reports"] == 0 and dismissed["moderator_label"] == dismissed["shown_label"]
    assert metric(board, 'board_reports_decided_total{outcome="upheld"') == upheld + 3
    assert metric(board, 'board_reports_decided_total{outcome="rejected"') == rejected + 1
    rows = {
        (r["kind"], r["id"]): r for r in csv.DictReader(io.StringIO(client.predict(token, api_name="/export_reviewed")))
    }
    assert rows[("post", str(post["id"]))]["label"] == "1" and rows[("post", str(post["id"]))]["reports"] == "3"
    assert rows[("comment", str(comment["id"]))]["reports"] == "1"


def test_reporting_a_hidden_post_is_refused(client: Client, token: str) -> None:
    post = client.predict("숨긴 뒤 신고", "숨겨진 글은 신고할 수 없습니다", "", api_name="/create_post")
    client.predict(token, post["id"], api_name="/hide_post")
    with pytest.raises(AppError, match="해당 글이나 댓글이 없습니다"):
        client.predict("post", post["id"], api_name="/report_item")
