"""The shared preprocessing: cleaning rules as parametrized cases."""

import pytest

from handlers.text import (
    MAX_INPUT_CHARS,
    PHONE_TOKEN,
    URL_TOKEN,
    EmptyTextError,
    TextTooLongError,
    clean,
    model_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  안녕하세요   반가워요 ", "안녕하세요 반가워요"),
        ("줄\n바꿈\t탭", "줄 바꿈 탭"),
        ("ㅋㅋㅋㅋㅋㅋㅋ 웃겨", "ㅋㅋㅋ 웃겨"),
        ("대박!!!!!!!", "대박!!!"),
        ("문의 010-1234-5678 주세요", f"문의 {PHONE_TOKEN} 주세요"),
        ("문의 01012345678", f"문의 {PHONE_TOKEN}"),
        ("대표번호 1588-0000", f"대표번호 {PHONE_TOKEN}"),
        ("링크 https://example.com/event?a=1 클릭", f"링크 {URL_TOKEN} 클릭"),
        ("www.example.kr 방문", f"{URL_TOKEN} 방문"),
        ("shop.example.co.kr 에서", f"{URL_TOKEN} 에서"),
        ("메일 ad@example.com 으로", "메일 이메일 으로"),
        ("제로\u200b폭\ufeff문자", "제로폭문자"),
        ("NUL\x00문자", "nul문자"),  # Latin is lowercased
        ("가격은 15,000원", "가격은 15,000원"),
        ("\u1100\u1161", "가"),  # NFC composes conjoining jamo
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("카.톡 문의", "카톡 문의"),
        ("문 의 주세요", "문의 주세요"),
        ("상.담.가.능", "상담가능"),
        ("카💕톡 상담", "카톡 상담"),
        ("특가★ 카톡", "특가 카톡"),
        ("ＤＭ ０１０-１２３４-５６７８", f"dm {PHONE_TOKEN}"),
        ("kаkао", "kakao"),  # Cyrillic а and о
        ("공일공 일이삼사 오육칠팔 로 연락", f"{PHONE_TOKEN} 로 연락"),
        ("0 1 0 1 2 3 4 5 6 7 8", PHONE_TOKEN),
        ("ㅋr톡 ㄱㄱ", "카톡 ㄱㄱ"),
        ("ㅋㅏㅌㅗㄱ", "카톡"),
        ("카\u200d톡", "카톡"),
        ("ㅋㅋㅋ ㅠㅠ", "ㅋㅋㅋ ㅠㅠ"),
        ("0.5kg 12000원 2000개", "0.5kg 12000원 2000개"),
        ("\ud800 hello", "hello"),
    ],
)
def test_clean_undoes_filter_evasion(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_model_text_joins_title_and_body() -> None:
    assert model_text("제목", "본문") == "제목 | 본문"
    assert model_text(None, "본문만") == "본문만"
    assert model_text("   ", "본문만") == "본문만"


@pytest.mark.parametrize("body", ["", "   ", "\u200b\u200b", "\x00\x01"])
def test_empty_after_cleaning_is_refused(body: str) -> None:
    with pytest.raises(EmptyTextError):
        model_text("", body)


def test_absurd_length_is_refused() -> None:
    with pytest.raises(TextTooLongError):
        model_text("", "가" * (MAX_INPUT_CHARS + 1))


def test_clean_is_idempotent() -> None:
    raw = "★특가★ 010-0000-1234 https://example.com ㅋㅋㅋㅋㅋ"
    assert clean(clean(raw)) == clean(raw)
