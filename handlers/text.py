"""The one text preprocessing step shared by training, evaluation and the TorchServe handler.

`model_text(title, body)` returns the exact string the model sees. Everything that changes that
string must bump `PREPROCESSING_VERSION`, which is stored with every trained model so a model is
never served with a different cleaning than it was trained with.

Rules (in order):
1. Unicode NFC (Korean syllables composed; compatibility jamo such as ㅋㅋ are kept as typed).
2. Zero-width and control characters removed; every run of whitespace becomes one space.
3. URLs, e-mail addresses and phone numbers become the words 링크 / 이메일 / 전화번호, so the model
   learns "this post carries contact details" rather than memorising particular numbers.
4. Any character repeated more than three times is cut to three (ㅋㅋㅋㅋㅋㅋ -> ㅋㅋㅋ, !!!!!! -> !!!).
5. Title and body are joined with " | "; a post may have no title.
"""

from __future__ import annotations

import re
import unicodedata

PREPROCESSING_VERSION = "1"
TITLE_BODY_SEPARATOR = " | "
MAX_INPUT_CHARS = 20_000
"""Longest raw title+body accepted; longer input is refused rather than silently cut."""

URL_TOKEN = "링크"
EMAIL_TOKEN = "이메일"
PHONE_TOKEN = "전화번호"

_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|kr|co\.kr|io|me|ly|gl)(?:/\S*)?\b", re.I
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<!\d)(?:\+?82[-. ]?)?0\d{1,2}[-. )]?\d{3,4}[-. ]?\d{4}(?!\d)|(?<!\d)1[5-9]\d{2}-\d{4}(?!\d)")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
_REPEATS = re.compile(r"(.)\1{3,}")


class EmptyTextError(ValueError):
    """Raised when a post has no text left to classify after cleaning."""


class TextTooLongError(ValueError):
    """Raised when raw input exceeds MAX_INPUT_CHARS."""


def clean(text: str) -> str:
    """Normalise one piece of user text (a title, a body or a comment)."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _PHONE.sub(f" {PHONE_TOKEN} ", text)
    text = _REPEATS.sub(r"\1\1\1", text)
    return _WHITESPACE.sub(" ", text).strip()


def model_text(title: str | None, body: str) -> str:
    """The string the classifier sees for a post (or a comment, which has no title).

    Raises:
        TextTooLongError: the raw input is longer than MAX_INPUT_CHARS.
        EmptyTextError: nothing is left after cleaning.
    """
    title = title or ""
    if len(title) + len(body) > MAX_INPUT_CHARS:
        raise TextTooLongError(f"text is {len(title) + len(body)} characters; the limit is {MAX_INPUT_CHARS}")
    parts = [part for part in (clean(title), clean(body)) if part]
    if not parts:
        raise EmptyTextError("text is empty after cleaning")
    return TITLE_BODY_SEPARATOR.join(parts)
