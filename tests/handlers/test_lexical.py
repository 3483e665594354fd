"""The lexical component: persistence, the blend in the one inference path, and its weight choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from handlers.classifier import AdClassifier, BundleMeta
from handlers.lexical import LEXICAL_FILE, lexical_pipeline, lexical_scores, load_lexical, save_lexical
from handlers.text import model_text
from tests.helpers import BLEND_WEIGHT, SEED_DATA
from training.blend import BLEND_WEIGHTS, fit_blend
from training.data import PostSet, load_posts, split_train_dev
from training.train import save_bundle

POSTS = [
    model_text("", t) for t in ("오늘 산책 다녀왔어요", "특가 세일 문의 주세요 010-1234-5678", "신상 입고 디엠 주세요")
]


@pytest.fixture(scope="module")
def seed_split() -> tuple[PostSet, PostSet]:
    return split_train_dev(load_posts(SEED_DATA), 0.2, 7)


@pytest.fixture(scope="module")
def fitted(seed_split):
    train, _ = seed_split
    return lexical_pipeline().fit(train.texts, train.labels)


def test_lexical_component_round_trips_through_skops(fitted, tmp_path: Path) -> None:
    save_lexical(fitted, tmp_path)
    loaded = load_lexical(tmp_path)
    assert np.allclose(lexical_scores(loaded, POSTS), lexical_scores(fitted, POSTS))
    assert (tmp_path / LEXICAL_FILE).stat().st_size < 8_000_000


def test_lexical_component_reads_ads(fitted, seed_split) -> None:
    _, dev = seed_split
    predicted = (lexical_scores(fitted, dev.texts) >= 0.5).astype(int)
    assert (predicted == np.asarray(dev.labels)).mean() >= 0.8


def test_classifier_blends_the_lexical_score(tiny_bundle: Path, blended_bundle: Path) -> None:
    alone, mixed = AdClassifier(tiny_bundle), AdClassifier(blended_bundle)
    assert alone.lexical is None and mixed.lexical is not None
    lexical = lexical_scores(load_lexical(blended_bundle), POSTS)
    expected = (1 - BLEND_WEIGHT) * np.asarray(alone.score_texts(POSTS)) + BLEND_WEIGHT * lexical
    scored = mixed.score_batch(POSTS)
    assert scored.scores == pytest.approx(expected.tolist(), abs=1e-6)
    assert scored.tokens == alone.score_batch(POSTS).tokens
    assert mixed.model_scores(POSTS).scores == pytest.approx(alone.score_texts(POSTS), abs=1e-6)
    assert mixed.score_batch([]).scores == []


def test_a_blending_bundle_without_its_file_is_refused(blended_bundle: Path, tmp_path: Path) -> None:
    import shutil

    folder = shutil.copytree(blended_bundle, tmp_path / "bundle")
    (folder / LEXICAL_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=LEXICAL_FILE):
        AdClassifier(folder)


def test_save_bundle_keeps_weight_and_component_together(tiny_bundle: Path, fitted, tmp_path: Path) -> None:
    from training import backbones

    built = backbones.Built(AdClassifier(tiny_bundle).model, AdClassifier(tiny_bundle).tokenizer, None)
    with pytest.raises(ValueError, match="lexical"):
        save_bundle(built, BundleMeta(lexical_weight=0.2), tmp_path / "a")
    with pytest.raises(ValueError, match="lexical"):
        save_bundle(built, BundleMeta(), tmp_path / "b", fitted)
    folder = save_bundle(built, BundleMeta(lexical_weight=0.2), tmp_path / "c", fitted)
    assert (folder / LEXICAL_FILE).is_file() and BundleMeta.read(folder).lexical_weight == 0.2


def test_blend_weight_follows_the_better_scorer(seed_split) -> None:
    train, dev = seed_split
    labels = np.asarray(dev.labels, dtype=float)
    confident_and_right = (0.02 + 0.96 * labels).tolist()
    useless = [0.5] * len(dev)
    assert fit_blend(train, dev, confident_and_right).weight == 0.0
    leaning = fit_blend(train, dev, useless)
    assert leaning.weight == max(BLEND_WEIGHTS)
    assert leaning.dev_log_loss[leaning.weight] < leaning.dev_log_loss[0.0]
    assert len(leaning.dev_scores) == len(dev)


def test_evidence_reads_the_component_exactly(blended_bundle) -> None:
    """Each n-gram's push is its TF-IDF value times its coefficient, found through the same hashing."""
    import numpy as np

    from handlers.evidence import lexical_evidence
    from handlers.lexical import load_lexical
    from handlers.text import clean

    pipeline = load_lexical(blended_bundle)
    text = clean("오늘만 특가 할인 카톡 문의 주세요 010-1234-5678")
    found = lexical_evidence(pipeline, text, top=5)
    assert found and [e.weight for e in found] == sorted((e.weight for e in found), reverse=True)
    assert all(e.text in text and e.weight > 0 for e in found)
    hashing, tfidf, regression = (step for _, step in pipeline.steps)
    row = tfidf.transform(hashing.transform([text]))
    total = float(row.multiply(regression.coef_[0]).sum())
    assert total == pytest.approx(float(regression.decision_function(row)[0] - regression.intercept_[0]))
    assert np.isfinite(total)


def test_handler_explanations_carry_evidence(blended_bundle, tmp_path) -> None:
    import shutil

    from handlers.ad_handler import BUNDLE_DIR, AdHandler
    from tests.handlers.test_ad_handler import FakeContext

    shutil.copytree(blended_bundle, tmp_path / BUNDLE_DIR)
    context = FakeContext(tmp_path)
    handler = AdHandler()
    handler.initialize(context)
    context.headers["explain"] = "True"
    out = handler.handle(
        [{"body": {"title": "특가", "body": "카톡 문의 주세요 할인 이벤트"}}, {"body": b"{bad"}], context
    )
    assert out[0]["label"] in {"ad", "normal"} and isinstance(out[0]["evidence"], list) and out[0]["evidence"]
    assert {"text", "weight"} == set(out[0]["evidence"][0])
    assert out[1]["code"] == 400 and "evidence" not in out[1]
