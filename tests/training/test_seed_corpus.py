"""The team-written corpus `make run` trains on: its format, its composition, no templated rows."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from training.default_model import REAL_DEV
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


REAL_POSTS = [REAL_DEV.parent / name for name in ("gold_train.csv", "gold_dev.csv")]
REAL_POST_COSINE = 0.6
"""No written row may come this close to a real post (char 3-5-gram TF-IDF cosine; the closest
pair measured 0.40 when rounds 1-4 were written)."""


@pytest.mark.skipif(
    not all(path.is_file() for path in REAL_POSTS),
    reason="the real development posts (../shared/data/gold_*.csv) are not beside this checkout",
)
def test_no_row_comes_near_a_real_post(corpus) -> None:
    """The corpus is written, never copied or paraphrased from the real posts it may not ship."""
    real = pd.concat(pd.read_csv(path, dtype=str, keep_default_na=False) for path in REAL_POSTS)["text"].tolist()
    written = (corpus["title"] + "\n" + corpus["body"]).tolist()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit(written + real)
    similarity = vectorizer.transform(written) @ vectorizer.transform(real).T
    assert similarity.max() < REAL_POST_COSINE, similarity.max()


def test_a_problem_names_the_round_file_and_line(tmp_path) -> None:
    """The corpus is one CSV per round: a problem must say which file and line to fix."""
    header = "kind,case,title,body,label\n"
    (tmp_path / "r1.csv").write_text(header + "post,pets,,산책 다녀왔어요,0\n", encoding="utf-8")
    (tmp_path / "r2.csv").write_text(header + "post,pets,,우리 강아지,0\npost,pets,,간식 타임,1\n", encoding="utf-8")
    assert format_problems(load_corpus(tmp_path)) == ["r2.csv:3: case pets needs kind=post label=0"]
