"""Training recipes for real data: the confident weak subset, the dev split and the threshold rule."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from handlers.text import model_text
from tests.helpers import SEED_DATA
from training.metrics import best_threshold
from training.recipes import check_teacher, confident_weak_subset, recipe_config, tag_teacher_subset


def seed_rows() -> tuple[list[str], list[int]]:
    with open(SEED_DATA, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [f"{r['title']} {r['body']}" for r in rows], [int(r["label"]) for r in rows]


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A stand-in for ../shared/data built from the seed set: careful labels, and weak labels
    that are right for most posts and flipped for every fifth; as in the real data, the weak label is
    the collection hashtag's (`source_tag`), which careful rows carry too."""
    texts, labels = seed_rows()
    folder = tmp_path / "shared"
    folder.mkdir()
    hashtag = [1 - y if i % 5 == 0 else y for i, y in enumerate(labels)]
    tags = [("광고", "홍보")[i % 2] if h else ("후기", "내돈내산")[i % 2] for i, h in enumerate(hashtag)]
    gold = pd.DataFrame({"text": texts, "label": labels, "weak_label": hashtag, "source_tag": tags})
    gold[:200].to_csv(folder / "gold_train.csv", index=False)
    gold[200:260].to_csv(folder / "gold_dev.csv", index=False)
    weak = pd.DataFrame({"text": texts, "label": hashtag, "source_tag": tags})[150:]
    weak.to_csv(folder / "ads_weak.csv", index=False)
    return folder


def test_confident_subset_excludes_careful_and_dev_texts_and_flipped_labels(shared: Path, tmp_path: Path) -> None:
    texts, labels = seed_rows()
    truth = {model_text("", t): y for t, y in zip(texts, labels, strict=True)}
    kept = pd.read_csv(confident_weak_subset(shared, tmp_path / "cache" / "weak.csv", confidence=0.6))
    assert len(kept) > 0
    assert not set(kept.text) & {model_text("", t) for t in texts[:260]}, "careful and dev posts are excluded"
    wrong_share = np.mean([truth[t] != y for t, y in zip(kept.text, kept.label, strict=True)])
    assert wrong_share < 0.2, "the filter keeps fewer flipped labels than the weak file's 20%"


def test_tag_teacher_relabels_weak_posts_better_than_their_hashtags(shared: Path, tmp_path: Path) -> None:
    texts, labels = seed_rows()
    truth = {model_text("", t): y for t, y in zip(texts, labels, strict=True)}
    weak = pd.read_csv(shared / "ads_weak.csv")
    out = tag_teacher_subset(shared, tmp_path / "cache" / "teacher.csv", confidence=0.6, cap=60)
    kept = pd.read_csv(out)
    assert 0 < len(kept) <= 60
    assert not set(kept.text) & {model_text("", t) for t in texts[:260]}, "careful and dev posts are excluded"
    hashtag = dict(zip((model_text("", t) for t in weak.text), weak.label, strict=True))
    wrong = np.mean([truth[t] != y for t, y in zip(kept.text, kept.label, strict=True)])
    wrong_hashtag = np.mean([truth[t] != hashtag[t] for t in kept.text])
    assert wrong < 0.2 and wrong <= wrong_hashtag, "the teacher's labels beat the hashtags on the posts it keeps"
    assert len(kept) < len(weak), "only confident posts are kept"


@pytest.mark.slow  # fits the recipes' filters on the seed set
def test_recipe_config_needs_the_development_data(tmp_path: Path, shared: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not committed"):
        recipe_config("clean", tmp_path / "nowhere", tmp_path)
    clean = recipe_config("clean", shared, tmp_path / "cache")
    assert clean.data == [str(shared / "gold_train.csv")] and clean.dev_data is None
    teacher = recipe_config("tag-teacher", shared, tmp_path / "cache")
    assert teacher.data[0] == str(shared / "gold_train.csv") and teacher.data[1].endswith("weak_teacher.csv:0.5")
    assert (teacher.epochs, clean.epochs) == (2, None), "weak recipes default to two epochs, clean to the backbone's"
    assert recipe_config("tag-teacher", shared, tmp_path / "cache", epochs=3).epochs == 3
    reseeded = recipe_config("tag-teacher", shared, tmp_path / "cache", seed=7)
    assert reseeded.seed == 7 and reseeded.run_name == "recipe-tag-teacher-c0.9-cap3000-seed7"
    assert teacher.run_name == "recipe-tag-teacher-c0.9-cap3000"
    longer = recipe_config("tag-teacher", shared, tmp_path / "cache", max_length=384, truncation="head_tail")
    assert (longer.max_length, longer.truncation) == (384, "head_tail")
    assert longer.run_name == "recipe-tag-teacher-c0.9-cap3000-len384-head_tail"
    assert recipe_config("tag-teacher", shared, tmp_path / "cache", lexical_blend=True).lexical_blend
    two_stage = recipe_config("teacher-then-clean", shared, tmp_path / "cache", cap=60)
    assert two_stage.data == [str(shared / "gold_train.csv")], "stage two reads the careful labels alone"
    assert two_stage.pretrain_data and two_stage.pretrain_data[0].endswith("weak_teacher.csv")
    assert two_stage.run_name == "recipe-teacher-then-clean-c0.9-cap60"
    with pytest.raises(ValueError, match="recipe"):
        recipe_config("everything", shared, tmp_path)
    with pytest.raises(ValueError, match="confidence"):
        recipe_config("tag-teacher", shared, tmp_path, confidence=1.2)


def test_threshold_ignores_a_lone_spike_of_a_small_dev_set() -> None:
    rng = np.random.default_rng(0)
    labels = [0] * 150 + [1] * 150
    scores = np.concatenate([rng.beta(2, 5, 150), rng.beta(5, 2, 150)])
    threshold = best_threshold(labels, scores.tolist())
    assert 0.35 <= threshold <= 0.65
    separable = best_threshold([0] * 50 + [1] * 50, list(np.linspace(0, 0.45, 50)) + list(np.linspace(0.55, 1, 50)))
    assert separable == 0.5


def test_teacher_check_measures_agreement_on_dev_posts_with_their_hashtags(shared: Path) -> None:
    check = check_teacher(shared, confidence=0.6)
    dev = pd.read_csv(shared / "gold_dev.csv")
    assert check.posts == len(dev) and 0 < check.confident <= check.posts
    assert check.teacher_agreement >= check.hashtag_agreement, "the teacher reads the text, the hashtag alone does not"
    assert "gold_dev" in check.summary(0.6)
    with pytest.raises(ValueError, match="confidence"):
        check_teacher(shared, confidence=1.0)
    pd.read_csv(shared / "gold_dev.csv").drop(columns="source_tag").to_csv(shared / "gold_dev.csv", index=False)
    with pytest.raises(ValueError, match="source_tag"):
        check_teacher(shared)
