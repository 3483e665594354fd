"""The learning-curve command: subsets of the careful labels, scored on dev, logged to a real MLflow store."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from tests.helpers import SEED_DATA, make_settings
from training import backbones, learning_curve
from training.baseline import fit_tfidf_baseline
from training.data import load_posts
from training.metrics import score_predictions


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """gold_train.csv (200 posts) and gold_dev.csv (60) cut from the seed set."""
    seed = pd.read_csv(SEED_DATA, dtype=str, keep_default_na=False)
    frame = pd.DataFrame({"text": seed.title + " " + seed.body, "label": seed.label})
    folder = tmp_path / "shared"
    folder.mkdir()
    frame[:200].to_csv(folder / "gold_train.csv", index=False)
    frame[200:260].to_csv(folder / "gold_dev.csv", index=False)
    return folder


def test_default_sizes_end_with_every_label() -> None:
    assert learning_curve.default_sizes(1837) == [230, 459, 918, 1378, 1837]
    assert learning_curve.default_sizes(100) == [20, 25, 50, 75, 100]
    assert learning_curve.default_sizes(30) == [20, 22, 30]


def test_gain_per_doubling_spans_the_last_doubling() -> None:
    curve = learning_curve.Curve(sizes=[100, 230, 459, 918, 1378, 1837], repeats=1)
    for size, value in zip(curve.sizes, [0.70, 0.75, 0.80, 0.84, 0.90, 0.86], strict=True):
        curve.add("m", size, value)
    assert curve.gain_per_doubling("m") == pytest.approx((0.86 - 0.84) / np.log2(1837 / 918))


@pytest.mark.slow  # fits many models and logs to MLflow
def test_curve_points_match_the_baseline_and_land_in_mlflow(shared: Path, tmp_path: Path) -> None:
    cfg, _ = make_settings(tmp_path)
    curve, run_id = learning_curve.run(shared, cfg, sizes=[40, 100, 200], repeats=3, embeddings=False)

    assert curve.sizes == [40, 100, 200]
    assert [len(curve.points["tfidf"][s]) for s in curve.sizes] == [3, 3, 1], "the full set is drawn once"
    assert len(set(curve.points["tfidf"][40])) > 1, "repeats draw different subsets"
    train, dev = load_posts(shared / "gold_train.csv"), load_posts(shared / "gold_dev.csv")
    full = fit_tfidf_baseline(train).predict_proba(dev.texts)[:, 1].tolist()
    assert curve.mean("tfidf", 200) == pytest.approx(score_predictions(dev.labels, full, 0.5).macro_f1)
    expected_gain = (curve.mean("tfidf", 200) - curve.mean("tfidf", 100)) / 1.0
    assert curve.gain_per_doubling("tfidf") == pytest.approx(expected_gain)

    client = mlflow.MlflowClient(cfg.tracking_uri)
    run = client.get_run(run_id)
    assert run.data.tags["kind"] == "learning-curve"
    history = client.get_metric_history(run_id, "tfidf_macro_f1")
    assert sorted((m.step, round(m.value, 6)) for m in history) == [
        (s, round(curve.mean("tfidf", s), 6)) for s in curve.sizes
    ]
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"learning_curve.png", "learning_curve.md"} <= artifacts
    table = curve.table()
    assert "| 200 |" in table and "gain per doubling" in table


def test_sizes_outside_the_training_set_are_refused(shared: Path, tmp_path: Path) -> None:
    cfg, _ = make_settings(tmp_path)
    with pytest.raises(ValueError, match="sizes must lie between"):
        learning_curve.run(shared, cfg, sizes=[50, 500], repeats=1, embeddings=False)
    with pytest.raises(ValueError, match="at least two sizes"):
        learning_curve.run(shared, cfg, sizes=[50], repeats=1, embeddings=False)


def test_missing_careful_labels_get_a_clear_error(tmp_path: Path) -> None:
    cfg, _ = make_settings(tmp_path)
    with pytest.raises(ValueError, match="data file not found"):
        learning_curve.run(tmp_path / "nowhere", cfg, sizes=None, repeats=1, embeddings=False)


def test_frozen_backbone_embeddings_feed_the_curve(
    shared: Path, e5_backbone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backbones, "e5_dir", lambda: e5_backbone)
    texts = ["오늘 점심 뭐 먹을까요?", "🔥 초특가 세일 지금 바로 클릭 010-1234-5678", "오늘 점심 뭐 먹을까요?"]
    vectors = learning_curve.embed(texts)
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)
    assert float(vectors[0] @ vectors[1]) < 0.99, "different posts get different embeddings"

    train, dev = load_posts(shared / "gold_train.csv"), load_posts(shared / "gold_dev.csv")
    curve = learning_curve.learning_curve(train, dev, sizes=[100, 200], repeats=1)
    assert set(curve.points) == {"tfidf", "frozen", "average"}
    assert curve.mean("frozen", 200) > 0.6, "frozen e5 + logistic regression separates the seed set's ads"
