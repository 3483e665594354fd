"""A flood from one client through gradio_client is refused with a Korean message and counted,
while another client keeps working: posts, comments, reports and moderator logins."""

from __future__ import annotations

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.helpers import ServedBoard, make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def limited(live_torchserve, tmp_path_factory):
    board_cfg, _ = make_settings(tmp_path_factory.mktemp("limited"))
    cfg = live_torchserve.model_copy(
        update={
            "board_port": board_cfg.board_port,
            "board_database_url": board_cfg.board_database_url,
            "limit_posts": "2/3600",
            "limit_comments": "2/3600",
            "limit_reports": "2/3600",
            "login_max_failures": 2,
            "login_lockout_s": 3600.0,
        }
    )
    with ServedBoard(cfg) as served:
        yield served


def refused(board: ServedBoard, action: str) -> float:
    for line in requests.get(f"{board.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(f'board_rate_limited_total{{action="{action}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_a_flood_of_posts_comments_and_reports_is_refused_for_that_client_only(limited: ServedBoard) -> None:
    flooder, other = Client(limited.url, verbose=False), Client(limited.url, verbose=False)
    posts = [flooder.predict(f"도배 {i}", "같은 사람이 계속 쓰는 글", "", api_name="/create_post") for i in range(2)]
    with pytest.raises(AppError, match=r"글을 너무 자주 쓰고 있습니다\. [0-9]+초 후에 다시 시도해 주세요\."):
        flooder.predict("도배 3", "거절되는 글", "", api_name="/create_post")
    target = posts[0]["id"]
    for i in range(2):
        flooder.predict(target, f"댓글 {i}", "", api_name="/add_comment")
    with pytest.raises(AppError, match="댓글을 너무 자주"):
        flooder.predict(target, "거절되는 댓글", "", api_name="/add_comment")
    for post in posts:
        flooder.predict("post", post["id"], api_name="/report_item")
    with pytest.raises(AppError, match="신고를 너무 자주"):
        flooder.predict("comment", 1, api_name="/report_item")

    assert other.predict("다른 사람 글", "이 사람은 막히지 않습니다", "", api_name="/create_post")["id"]
    assert other.predict(target, "다른 사람 댓글", "", api_name="/add_comment")["post_id"] == target
    assert other.predict("post", target, api_name="/report_item")["open_reports"] == 2
    assert [refused(limited, a) for a in ("post", "comment", "report")] == [1.0, 1.0, 1.0]
    titles = [p["title"] for p in other.predict(1, False, "도배", api_name="/list_posts")["posts"]]
    assert sorted(titles) == ["도배 0", "도배 1"]


def test_reporting_twice_or_a_missing_item_is_refused(limited: ServedBoard) -> None:
    reader = Client(limited.url, verbose=False)
    post = reader.predict("두 번 신고", "같은 독자가 두 번 신고합니다", "", api_name="/create_post")
    reader.predict("post", post["id"], "독자-1", api_name="/report_item")
    with pytest.raises(AppError, match="이미 신고하셨습니다"):
        reader.predict("post", post["id"], "독자-1", api_name="/report_item")
    for kind, item_id, message in (("post", 999999, "해당 글이나 댓글이 없습니다"), ("user", 1, r"글\(post\)")):
        with pytest.raises(AppError, match=message):
            Client(limited.url, verbose=False).predict(kind, item_id, api_name="/report_item")


def test_wrong_passwords_lock_that_client_out_not_the_moderator(limited: ServedBoard) -> None:
    guesser, moderator = Client(limited.url, verbose=False), Client(limited.url, verbose=False)
    creds = limited.board.moderation.sessions.credentials
    for _ in range(2):
        with pytest.raises(AppError, match="올바르지 않습니다"):
            guesser.predict(creds.username, "wrong", api_name="/moderator_login")
    with pytest.raises(AppError, match="로그인 실패가 너무 많아 잠시 잠겼습니다"):
        guesser.predict(creds.username, creds.password, api_name="/moderator_login")
    assert moderator.predict(creds.username, creds.password, api_name="/moderator_login")
    assert refused(limited, "login") == 1.0
