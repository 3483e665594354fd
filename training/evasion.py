"""A deterministic filter-evasion generator: rewrites ads the way caught advertisers disguise them.

`evade(text, seed)` applies two to four tricks to one raw post; evaluation loads a CSV with its
ads rewritten this way and its normal posts untouched (`training.data.load_posts(path,
rewrite_ads=...)`), so that clean and evaded macro-F1 on the same CSV measure what the disguise
costs. The tricks, each applied where the text allows:
  - spacing or dotting the syllables of contact and sales words (카.톡, 문 의, 상·담);
  - emoji or symbols between those syllables (카💕톡);
  - zero-width joiners and spaces inside words;
  - fullwidth digits and Latin (０１０, ＤＭ), Cyrillic look-alike letters (kаkао);
  - phone numbers with their digits spaced apart or spelled in Hangul (공일공 일이삼사 ...);
  - jamo typed apart or a Latin letter for a vowel (ㅋㅏ톡, ㅋr톡).
The same seed and text always give the same rewrite. It works on raw posts (before
handlers.text.clean), like a spammer does.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable

KEYWORDS = (
    "카톡", "카카오톡", "오픈채팅", "문의", "상담", "주문", "구매", "할인", "예약", "연락", "텔레그램", "디엠",
    "특가", "무료", "배송", "공구", "수익", "부업", "입금", "이벤트", "협찬", "광고", "가격", "링크", "프로필",
    "쿠폰", "체험단", "판매", "신청", "가입", "혜택", "정품", "최저가",
)  # fmt: skip
"""Words whose spelling advertisers disguise first."""
EMOJI = "💕✨🔥🌸💰🎁👉⭐❤️🍀"
SEPARATORS = (".", " ", "·", "-", "_", "*", " . ")
FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "k": "к", "A": "А", "E": "Е"}
CYRILLIC |= {"O": "О", "P": "Р", "C": "С", "K": "К", "M": "М", "T": "Т", "H": "Н", "B": "В"}
HANGUL_DIGITS = "공일이삼사오육칠팔구"
CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
JUNGSEONG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
JONGSEONG = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
LATIN_FOR_VOWEL = {"ㅏ": "r", "ㅣ": "l"}
PHONE = re.compile(r"(?<!\d)0\d{1,2}[-. ]?\d{3,4}[-. ]?\d{4}(?!\d)")
Trick = Callable[[str, random.Random], str]


def _keywords_in(text: str) -> list[str]:
    return [word for word in KEYWORDS if word in text]


def _rewrite_keywords(text: str, rng: random.Random, rewrite: Callable[[str, random.Random], str]) -> str:
    words = _keywords_in(text)
    if not words:  # no sales word: disguise the longest Hangul word instead
        words = sorted(re.findall(r"[가-힣]{2,}", text), key=len)[-1:]
    for word in words:
        text = text.replace(word, rewrite(word, rng))
    return text


def spaced_syllables(text: str, rng: random.Random) -> str:
    return _rewrite_keywords(text, rng, lambda w, r: r.choice(SEPARATORS).join(w))


def wedged_emoji(text: str, rng: random.Random) -> str:
    return _rewrite_keywords(text, rng, lambda w, r: "".join(c + r.choice(EMOJI) for c in w[:-1]) + w[-1])


def zero_width(text: str, rng: random.Random) -> str:
    return _rewrite_keywords(text, rng, lambda w, r: r.choice(("\u200d", "\u200b", "\u2060")).join(w))


def fullwidth(text: str, rng: random.Random) -> str:
    return "".join(FULLWIDTH.get(c, c) if c.isascii() and c.isalnum() else c for c in text)


def cyrillic(text: str, rng: random.Random) -> str:
    return "".join(CYRILLIC.get(c, c) for c in text)


def _spell_phone(match: re.Match[str], rng: random.Random) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if rng.random() < 0.5:
        return " ".join(digits)
    groups = (digits[:3], digits[3:-4], digits[-4:])
    return " ".join("".join(HANGUL_DIGITS[int(d)] for d in group) for group in groups)


def phone_disguise(text: str, rng: random.Random) -> str:
    return PHONE.sub(lambda m: _spell_phone(m, rng), text)


def _split_syllable(syllable: str, rng: random.Random) -> str:
    code = ord(syllable) - 0xAC00
    if not 0 <= code < 11172:
        return syllable
    initial, vowel, final = CHOSEONG[code // 588], JUNGSEONG[(code % 588) // 28], JONGSEONG[code % 28].strip()
    if final == "" and vowel in LATIN_FOR_VOWEL and rng.random() < 0.5:
        return initial + LATIN_FOR_VOWEL[vowel]
    return initial + vowel + final


def jamo_apart(text: str, rng: random.Random) -> str:
    return _rewrite_keywords(text, rng, lambda w, r: _split_syllable(w[0], r) + w[1:])


TRICKS: dict[str, Trick] = {
    "spaced_syllables": spaced_syllables,
    "wedged_emoji": wedged_emoji,
    "zero_width": zero_width,
    "fullwidth": fullwidth,
    "cyrillic": cyrillic,
    "phone_disguise": phone_disguise,
    "jamo_apart": jamo_apart,
}


def _rng(text: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}\n{text}".encode("utf-8", "surrogatepass")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def evade(text: str, seed: int = 0) -> str:
    """The post disguised by two to four tricks, chosen and applied deterministically."""
    rng = _rng(text, seed)
    names = rng.sample(sorted(TRICKS), rng.randint(2, 4))
    for name in sorted(names, key=list(TRICKS).index):
        text = TRICKS[name](text, rng)
    return text
