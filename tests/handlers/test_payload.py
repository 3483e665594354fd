"""Request parsing for the TorchServe handler: every bad input is a BadRequest with a 4xx status."""

import json

import pytest

from handlers.payload import MAX_REQUEST_BYTES, BadRequest, parse_payload


def test_json_post() -> None:
    post = parse_payload({"body": json.dumps({"title": "제목", "body": "본문"}).encode()})
    assert (post.title, post.body, post.text) == ("제목", "본문", "제목 | 본문")


def test_decoded_json_from_torchserve() -> None:
    post = parse_payload({"body": {"title": None, "body": "본문"}})
    assert post.text == "본문"


def test_text_alias_and_plain_text() -> None:
    assert parse_payload({"data": {"text": "본문"}}).text == "본문"
    assert parse_payload({"data": "그냥 텍스트".encode()}).text == "그냥 텍스트"
    assert parse_payload({"data": "그냥 텍스트"}).text == "그냥 텍스트"


@pytest.mark.parametrize(
    ("row", "status", "fragment"),
    [
        ({}, 400, "empty request"),
        ({"title": "a", "body_field": "b"}, 415, "unsupported content type"),
        ({"body": b"{not json"}, 400, "invalid JSON"),
        ({"body": "{not json"}, 400, "invalid JSON"),
        ({"body": b"\xff\xfe\xfa"}, 400, "UTF-8"),
        ({"body": {"title": "x", "body": 3}}, 400, "'body'"),
        ({"body": {"title": 5, "body": "본문"}}, 400, "'title'"),
        ({"body": {"title": "x"}}, 400, "'body'"),
        ({"body": [{"body": "a"}, {"body": "b"}]}, 400, "one post per request"),
        ({"body": b'[{"body": "a"}]'}, 400, "one post per request"),
        ({"body": 42}, 400, "unsupported"),
        ({"body": {"body": "   "}}, 422, "empty"),
        ({"body": {"body": "가" * 30_000}}, 413, "limit"),
        ({"body": b"x" * (MAX_REQUEST_BYTES + 1)}, 413, "limit"),
    ],
)
def test_bad_requests(row: dict, status: int, fragment: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_payload(row)
    assert info.value.status == status
    assert fragment in info.value.message
