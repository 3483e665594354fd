"""Bad input through the board's API and straight to TorchServe: each case has its expected outcome.

Afterwards the TorchServe worker is the same process (none died), a good request still succeeds,
and a post stored before the barrage is unchanged.
"""

from __future__ import annotations

import json

import pytest
import requests
from gradio_client import Client

from serving import torchserve
from stack.settings import MODEL_NAME

pytestmark = pytest.mark.slow

MB = 1024 * 1024
STORED = "stored"
BOARD_CASES = [
    # (case id, title, body, expected: STORED or a fragment of the Korean error message)
    ("empty title", "", "본문", "제목을 입력"),
    ("empty body", "제목", "", "본문을 입력"),
    ("whitespace title", "   \t ", "본문", "제목을 입력"),
    ("whitespace body", "제목", " \n\t ", "본문을 입력"),
    ("zero-width only body", "제목", "\u200b\u200b", STORED),
    ("1 MB body", "제목", "가" * MB, "5,000자 이하"),
    ("title over 100", "가" * 101, "본문", "100자 이하"),
    ("body at the limit", "제목", "나" * 5000, STORED),
    ("NUL and controls", "제목\x00", "본문\x00\x01\x07 끝", STORED),
    ("only control characters", "제목", "\x00\x01\x02", "본문을 입력"),
    ("emoji only", "😀😀😀", "🎉🔥💯", STORED),
    ("right-to-left", "مرحبا بالعالم", "שלום עולם وهذا نص عربي", STORED),
    ("mixed bidi override", "\u202e제목", "\u202e거꾸로 \u202c본문", STORED),
    ("long single token", "토큰", "가" * 4900, STORED),
    ("long latin token", "token", "a" * 4900, STORED),
    ("script injection", "<script>alert(1)</script>", "<script>document.cookie</script>", STORED),
    ("html injection", "<img src=x onerror=alert(1)>", "<iframe src=javascript:alert(1)>", STORED),
    ("markdown injection", "**굵게** [링크](javascript:alert(1))", "# 제목\n![x](http://evil)", STORED),
    ("sql injection title", "'; DROP TABLE posts; --", "본문", STORED),
    ("sql injection body", "제목", "1' OR '1'='1'; DELETE FROM comments; --", STORED),
    ("format strings", "%s%s%n{0}{}", "${jndi:ldap://x} {{7*7}}", STORED),
    ("surrogate-free astral", "𝕳𝖊𝖑𝖑𝖔", "𠜎𠜱𠝹 古い漢字", STORED),
]

TS_CASES = [
    # (case id, body bytes, content type, expected status)
    ("malformed json", b'{"title": "x", "body": ', "application/json", 400),
    ("json array of posts", json.dumps([{"body": f"글 {i}"} for i in range(300)]).encode(), "application/json", 400),
    ("wrong body type", b'{"body": 12345}', "application/json", 400),
    ("wrong title type", b'{"title": ["a"], "body": "b"}', "application/json", 400),
    ("json null", b"null", "application/json", 400),
    ("invalid utf-8", b"\xff\xfe\xfd invalid", "text/plain", 400),
    ("invalid utf-8 in json", b'{"body": "\xff\xfe"}', "application/json", 400),
    ("empty body", b"", "text/plain", 422),
    ("whitespace only", "   \u200b ".encode(), "text/plain", 422),
    ("1 MB body", ("가" * MB).encode(), "text/plain", 413),
    ("json as a form", json.dumps({"body": "정상 글"}).encode(), "application/x-www-form-urlencoded", 400),
    ("form without body field", b"title=only&author=x", "application/x-www-form-urlencoded", 415),
    (
        "form with title/body fields",
        "title=제목&body=폼으로 보낸 글".encode(),
        "application/x-www-form-urlencoded",
        200,
    ),
    ("xml", b"<post><body>x</body></post>", "application/xml", 200),
]


@pytest.fixture(scope="module")
def canary(client: Client) -> dict:
    return client.predict("변하면 안 되는 글", "공격 전에 저장된 글입니다", "지킴이", api_name="/create_post")


@pytest.mark.parametrize(("case", "title", "body", "expected"), BOARD_CASES, ids=[c[0] for c in BOARD_CASES])
def test_board_handles_bad_input(client: Client, canary: dict, case: str, title: str, body: str, expected: str) -> None:
    if expected == STORED:
        post = client.predict(title, body, "", api_name="/create_post")
        assert post["status"] in {"classified", "failed"}, case
        stored = client.predict(post["id"], api_name="/get_post")
        assert "\x00" not in stored["body"] and stored["body"].strip()
    else:
        with pytest.raises(Exception, match=expected):
            client.predict(title, body, "", api_name="/create_post")


@pytest.fixture(scope="module")
def worker_pid(live_torchserve) -> int:
    keys = torchserve.Keys.read(live_torchserve.key_file)
    return torchserve.describe(live_torchserve, keys)[0]["workers"][0]["pid"]


@pytest.mark.parametrize(("case", "payload", "content_type", "status"), TS_CASES, ids=[c[0] for c in TS_CASES])
def test_torchserve_answers_bad_input_with_4xx(
    live_torchserve, worker_pid: int, case: str, payload: bytes, content_type: str, status: int
) -> None:
    keys = torchserve.Keys.read(live_torchserve.key_file)
    response = requests.post(
        f"{live_torchserve.inference_url}/predictions/{MODEL_NAME}",
        data=payload,
        headers={"Authorization": f"Bearer {keys.inference}", "Content-Type": content_type},
        timeout=60,
    )
    assert response.status_code == status, (case, response.text[:300])
    if status >= 400:
        assert response.json()["error"]


def test_nothing_died_and_nothing_stored_was_harmed(
    live_torchserve, worker_pid: int, client: Client, canary: dict
) -> None:
    keys = torchserve.Keys.read(live_torchserve.key_file)
    workers = torchserve.describe(live_torchserve, keys)[0]["workers"]
    assert [w["pid"] for w in workers] == [worker_pid] and workers[0]["status"] == "READY"
    ok = requests.post(
        f"{live_torchserve.inference_url}/predictions/{MODEL_NAME}",
        json={"body": "정상 글"},
        headers={"Authorization": f"Bearer {keys.inference}"},
        timeout=30,
    )
    assert ok.status_code == 200
    again = client.predict(canary["id"], api_name="/get_post")
    assert (again["title"], again["body"], again["author"]) == (canary["title"], canary["body"], canary["author"])
