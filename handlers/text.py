"""The one text preprocessing step shared by training, evaluation and the TorchServe handler.

`model_text(title, body)` returns the exact string the model sees. Everything that changes that
string must bump `PREPROCESSING_VERSION`, which is stored with every trained model so a model is
never served with a different cleaning than it was trained with.

Rules (in order):
1. Invisible characters go: zero-width and bidi marks, fillers, soft hyphens, control characters
   and lone UTF-16 surrogates (which no tokenizer accepts).
2. Look-alikes are undone (`unmask`): fullwidth and mathematical letters and digits (NFKC, except
   Hangul compatibility jamo, which NFKC would turn into conjoining jamo), Cyrillic and Greek
   letters that look Latin, Latin lowercased; then Unicode NFC.
3. Filter evasion is undone (`unmask`): jamo typed apart (ㅋㅏ톡, ㅋr톡), phone digits spaced
   apart or written in Hangul (공일공).
4. URLs, e-mail addresses and phone numbers become the words 링크 / 이메일 / 전화번호, so the model
   learns "this post carries contact details" rather than memorising particular numbers; then
   words split by wedged emoji or separators are joined (`join_split_words`: 카💕톡, 카.톡, 문 의).
5. Any character repeated more than three times is cut to three (ㅋㅋㅋㅋㅋㅋ -> ㅋㅋㅋ, !!!!!! -> !!!);
   every run of whitespace becomes one space.
6. Title and body are joined with " | "; a post may have no title.
"""

from __future__ import annotations

import re
import unicodedata

PREPROCESSING_VERSION = "2"
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
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\uffa0\ufeff"
    "\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)
_WHITESPACE = re.compile(r"\s+")
_REPEATS = re.compile(r"(.)\1{3,}")

_LOOK_ALIKES = str.maketrans(
    "авсдеһікјмнорѕтухьАВСЕНІЈКМНОРЅТХУαβεικνορτυχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
    "abcdehikjmhopstyxbABCEHIJKMHOPSTXYabeiknoptuxABEHIKMNOPTYX",
)
_HANGUL = "가-힣"
_SYMBOL_CATEGORIES = {"So", "Sk", "Co"}
_SPACED_SYLLABLES = re.compile(rf"(?<![{_HANGUL}])[{_HANGUL}](?:[ .·\-_*~/,|]+[{_HANGUL}](?![{_HANGUL}])){{1,}}")
_SEPARATORS = re.compile(r"[ .·\-_*~/,|]+")
_HANGUL_DIGITS = {"공": "0", "영": "0", "일": "1", "이": "2", "삼": "3", "사": "4", "오": "5", "육": "6", "륙": "6"}
_HANGUL_DIGITS |= {"칠": "7", "팔": "8", "구": "9"}
_HANGUL_NUMBER = re.compile(rf"[{''.join(_HANGUL_DIGITS)}](?:[ .\-]?[{''.join(_HANGUL_DIGITS)}]){{8,11}}")
_SPACED_DIGITS = re.compile(r"(?<!\d)(?:\+?82|0(?=[ .\-·]*[1-9]))(?:[ .\-·]*\d){8,10}(?!\d)")
_CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_JUNGSEONG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_JONGSEONG = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
_LATIN_VOWELS = {"r": "ㅏ", "l": "ㅣ", "t": "ㅓ", "h": "ㅐ"}
"""Latin letters typed for a vowel right after a consonant jamo (ㅋr톡 -> 카톡)."""
_JAMO_SYLLABLE = re.compile(
    rf"([{_CHOSEONG}])([{_JUNGSEONG}]|[rlth](?=[ㄱ-ㅣ가-힣]))([{_JONGSEONG.strip()}](?![{_JUNGSEONG}]))?"
)


class EmptyTextError(ValueError):
    """Raised when a post has no text left to classify after cleaning."""


class TextTooLongError(ValueError):
    """Raised when raw input exceeds MAX_INPUT_CHARS."""


def _fold_char(char: str) -> str:
    if "\u3130" <= char <= "\u318f" or "\uac00" <= char <= "\ud7a3" or char.isascii():
        return char
    return unicodedata.normalize("NFKC", char)


def _strip_wedged_symbols(text: str) -> str:
    """Drop emoji and symbols standing between two Hangul syllables (카💕톡 -> 카톡)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and (unicodedata.category(text[j]) in _SYMBOL_CATEGORIES or text[j] == " "):
            j += 1
        run = text[i:j]
        wedged = run.strip() and i > 0 and j < len(text) and _is_syllable(text[i - 1]) and _is_syllable(text[j])
        out.append((" " if " " in run else "") if wedged else run or text[i])
        i = max(j, i + 1)
    return "".join(out)


def _is_syllable(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _compose_jamo(match: re.Match[str]) -> str:
    initial, vowel, final = match.group(1), match.group(2), match.group(3) or ""
    vowel = _LATIN_VOWELS.get(vowel, vowel)
    code = 0xAC00 + (_CHOSEONG.index(initial) * 21 + _JUNGSEONG.index(vowel)) * 28 + _JONGSEONG.index(final or " ")
    return chr(code)


def _hangul_number(match: re.Match[str]) -> str:
    digits = "".join(_HANGUL_DIGITS.get(c, "") for c in match.group(0))
    return digits if digits.startswith("0") else match.group(0)


def unmask(text: str) -> str:
    """Undo look-alike characters, jamo typed apart and disguised phone digits (rules 2 and 3)."""
    text = "".join(_fold_char(c) for c in text).translate(_LOOK_ALIKES).lower()
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text))
    text = _JAMO_SYLLABLE.sub(_compose_jamo, text)
    text = _HANGUL_NUMBER.sub(_hangul_number, text)
    return _SPACED_DIGITS.sub(lambda m: re.sub(r"[^\d+]", "", m.group(0)), text)


def join_split_words(text: str) -> str:
    """Undo words split apart by emoji or separators (카💕톡, 카.톡, 문 의 -> 카톡, 카톡, 문의)."""
    text = _strip_wedged_symbols(text)
    return _SPACED_SYLLABLES.sub(lambda m: _SEPARATORS.sub("", m.group(0)), text)


def clean(text: str) -> str:
    """Normalise one piece of user text (a title, a body or a comment)."""
    text = _INVISIBLE.sub("", text)
    text = unmask(text)
    text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _PHONE.sub(f" {PHONE_TOKEN} ", text)
    text = join_split_words(text)
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
