"""Property-based tests (hypothesis) for the preprocessing and the handler's request parsing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.payload import BadRequest, ParsedPost, parse_payload, read_request
from handlers.text import MAX_INPUT_CHARS, EmptyTextError, TextTooLongError, clean, model_text

any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
unicode_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
"""Any code point, lone UTF-16 surrogates included (what a JSON "\\ud800" escape decodes to)."""
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=8,
)


@given(any_text)
def test_clean_is_idempotent_and_tidy(text: str) -> None:
    once = clean(text)
    assert clean(once) == once
    assert once == once.strip() and "  " not in once
    assert not any(ch in once for ch in "\x00\u200b\ufeff")


@given(st.one_of(st.none(), any_text), any_text)
def test_model_text_never_crashes_unexpectedly(title: str | None, body: str) -> None:
    try:
        text = model_text(title, body)
    except (EmptyTextError, TextTooLongError):
        return
    assert text and len(text) <= MAX_INPUT_CHARS + len(" | ")


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_parse_or_get_a_4xx(raw: bytes) -> None:
    try:
        post = parse_payload({"body": raw})
    except BadRequest as exc:
        assert 400 <= exc.status < 500 and exc.message
        return
    assert post.text


@given(json_values)
def test_arbitrary_json_parses_or_gets_a_4xx(value) -> None:
    for row in ({"body": value}, {"body": json.dumps(value).encode()}):
        try:
            post = parse_payload(row)
        except BadRequest as exc:
            assert 400 <= exc.status < 500 and exc.message
            continue
        assert post.text


@given(any_text.filter(lambda s: s.strip()), any_text)
def test_valid_posts_keep_their_text(body: str, title: str) -> None:
    try:
        expected = model_text(title, body)
    except (EmptyTextError, TextTooLongError):
        return
    assert parse_payload({"body": {"title": title, "body": body}}).text == expected


@given(unicode_text)
def test_clean_of_any_unicode_is_valid_utf8_and_idempotent(text: str) -> None:
    once = clean(text)
    once.encode("utf-8")
    assert clean(once) == once


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.none(), unicode_text), unicode_text)
def test_any_unicode_request_is_a_post_or_its_own_4xx(title: str | None, body: str) -> None:
    item = read_request({"body": {"title": title, "body": body}})
    if isinstance(item, BadRequest):
        assert 400 <= item.status < 500 and item.message
        return
    assert isinstance(item, ParsedPost) and item.text.encode("utf-8")
