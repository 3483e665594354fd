"""The team-written corpus `make run` trains on: its format, its composition, no templated rows."""

from __future__ import annotations

import pytest

from training.seed_corpus import (
    CASES,
    NEAR_DUPLICATE_COSINE,
    PREFIX_SYLLABLES,
    format_problems,
    load_corpus,
    near_duplicates,
)


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_format_and_labels_follow_the_cases(corpus) -> None:
    assert format_problems(corpus) == []


def test_every_labeling_case_is_present_in_size(corpus) -> None:
    counts = corpus.groupby("case").size()
    assert set(counts.index) == set(CASES)
    assert counts.min() >= 40, counts.sort_values().head()
    kinds = corpus["kind"].value_counts()
    assert kinds["post"] >= 3000 and kinds["comment"] >= 1000
    ad_share = corpus[corpus["kind"] == "post"]["label"].astype(int).mean()
    assert 0.4 <= ad_share <= 0.6


def test_lengths_vary_like_real_posts(corpus) -> None:
    lengths = (corpus["title"] + corpus["body"]).str.len()[corpus["kind"] == "post"]
    assert (lengths < 40).mean() >= 0.05 and (lengths >= 450).mean() >= 0.05 and lengths.max() >= 1000


def test_no_two_rows_share_a_template(corpus) -> None:
    """Near-duplicates: char 3-5-gram TF-IDF cosine >= NEAR_DUPLICATE_COSINE or the same first
    PREFIX_SYLLABLES Hangul syllables."""
    pairs = near_duplicates(corpus)
    shown = [(corpus.iloc[i]["body"][:40], corpus.iloc[j]["body"][:40], round(c, 2)) for i, j, c in pairs[:5]]
    assert not pairs, (
        f"{len(pairs)} pairs at cosine >= {NEAR_DUPLICATE_COSINE} or {PREFIX_SYLLABLES}-syllable prefix: {shown}"
    )
