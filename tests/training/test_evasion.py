"""The evasion generator: deterministic, each trick disguises, normal posts stay as they are."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from handlers.text import clean
from training.data import load_posts
from training.evasion import TRICKS, evade

AD = "오늘만 특가 할인! 카톡 문의 주세요 010-1234-5678 DM OK"


@pytest.mark.parametrize("name", sorted(TRICKS))
def test_each_trick_disguises_the_raw_text(name: str) -> None:
    assert TRICKS[name](AD, random.Random(1)) != AD


def test_evade_is_deterministic_and_seeded() -> None:
    assert evade(AD, 3) == evade(AD, 3)
    assert len({evade(AD, seed) for seed in range(8)}) > 1


@pytest.mark.parametrize(
    "name", ["zero_width", "fullwidth", "cyrillic", "phone_disguise", "jamo_apart", "wedged_emoji"]
)
def test_preprocessing_undoes_single_tricks(name: str) -> None:
    assert clean(TRICKS[name](AD, random.Random(2))) == clean(AD)


def test_only_ads_are_rewritten(tmp_path: Path) -> None:
    csv = tmp_path / "posts.csv"
    pd.DataFrame(
        {
            "title": ["특가 안내", "산책 일기"],
            "body": ["카톡 문의 010-1234-5678", "강아지랑 한강 다녀왔어요"],
            "label": [1, 0],
        }
    ).to_csv(csv, index=False)
    calls: list[str] = []

    def rewrite(text: str) -> str:
        calls.append(text)
        return "바뀐 " + text

    posts = load_posts(csv, rewrite_ads=rewrite)
    assert calls == ["특가 안내", "카톡 문의 010-1234-5678"]
    assert posts.texts[0].startswith("바뀐 특가") and posts.texts[1] == clean("산책 일기") + " | " + clean(
        "강아지랑 한강 다녀왔어요"
    )
