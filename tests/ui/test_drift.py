"""Drift gauges: PSI arithmetic, and the monitor over a real board database."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.drift import SCORE_BINS, distribution, psi, score_histogram
from ui.db import make_engine, make_sessions, migrate
from ui.drift import DriftMonitor, Reference
from ui.metrics import BoardMetrics
from ui.repository import BoardRepository

CALM = [0.05, 0.1, 0.15, 0.2, 0.3, 0.7, 0.8, 0.9, 0.95, 0.12]


def test_psi_is_zero_for_the_same_shape_and_large_for_a_shift() -> None:
    reference = score_histogram(CALM * 10)
    assert psi(reference, score_histogram(CALM * 3)) == pytest.approx(0.0, abs=1e-9)
    shifted = score_histogram([0.45, 0.5, 0.55, 0.6] * 20)
    assert psi(reference, shifted) > 0.25


def test_psi_refuses_mismatched_or_empty_histograms() -> None:
    with pytest.raises(ValueError, match="bins"):
        psi([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="non-empty"):
        psi([0] * 10, [1] * 10)


def test_histogram_includes_both_ends_and_distribution_records_the_ad_ratio() -> None:
    assert score_histogram([0.0, 1.0, 0.5]) == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    doc = distribution([0.1, 0.6, 0.9, 0.2], threshold=0.5)
    assert doc["bins"] == SCORE_BINS and sum(doc["counts"]) == doc["size"] == 4
    assert doc["predicted_ad_ratio"] == 0.5


@pytest.fixture
def repo(tmp_path: Path) -> BoardRepository:
    engine = make_engine(f"sqlite:///{tmp_path / 'drift.sqlite3'}")
    migrate(engine)
    return BoardRepository(make_sessions(engine))


def classify(repo: BoardRepository, scores: list[float], model: str, threshold: float = 0.5) -> None:
    for i, score in enumerate(scores):
        post = repo.add_post("a", f"t{i}", "b")
        repo.record_result(post, "ad" if score >= threshold else "normal", score, model, threshold)


def test_monitor_compares_the_model_in_service_with_its_own_reference(repo: BoardRepository) -> None:
    calls: list[str] = []

    def load(version: str) -> Reference | None:
        calls.append(version)
        doc = distribution(CALM * 10, 0.5)
        return Reference(doc["counts"], doc["predicted_ad_ratio"], run_id=f"run-{version}")

    monitor = DriftMonitor(repo, load, window=50, low_confidence_margin=0.1)
    assert monitor.read() is None
    classify(repo, CALM * 2, "ad-classifier/1")
    calm = monitor.read()
    assert (calm.model, calm.items) == ("ad-classifier/1", 20)
    assert calm.psi == pytest.approx(0.0, abs=1e-9) and calm.low_confidence_ratio == 0.0
    assert calm.reference_ad_ratio == pytest.approx(0.4)

    classify(repo, [0.45, 0.55, 0.5, 0.58] * 5, "ad-classifier/2")  # a new version, unsure of everything
    drifted = monitor.read()
    assert (drifted.model, drifted.items) == ("ad-classifier/2", 20)
    assert drifted.psi > 0.25 and drifted.low_confidence_ratio == 1.0

    monitor.read()
    assert calls == ["1", "2"], "references are cached per version"
    monitor.refresh()
    monitor.read()
    assert calls == ["1", "2", "2"]


def test_without_a_reference_only_the_low_confidence_share_is_exported(repo: BoardRepository) -> None:
    def broken(version: str) -> Reference | None:
        raise ConnectionError("registry unreachable")

    classify(repo, [0.45, 0.9, 0.1, 0.52], "ad-classifier/7")
    reading = DriftMonitor(repo, broken).read()
    assert reading.psi is None and reading.reference_ad_ratio is None
    assert reading.low_confidence_ratio == 0.5

    metrics = BoardMetrics()
    metrics.record_drift(reading)
    exported = {m.name: m.samples for m in metrics.registry.collect()}
    assert exported["board_low_confidence_ratio"][0].labels == {"model": "ad-classifier/7"}
    assert exported["board_score_psi"] == []
