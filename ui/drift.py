"""Drift of the model in service: live ad scores against the reference distribution logged in MLflow.

The reference of a model version is the `score_distribution.json` of its latest evaluation run
(`make eval` tags the version with `last_evaluation_run`), or else of the training run that produced
it (its dev set). The board compares the scores of its newest classified items, by the model version
that labelled them, with that reference (population stability index) and exports the share of
low-confidence predictions (score within a margin of the threshold).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stack.drift import REFERENCE_ARTIFACT, SCORE_BINS, psi, score_histogram
from stack.settings import MODEL_NAME, Settings
from ui.repository import BoardRepository, ClassifiedRecord

log = logging.getLogger(__name__)

REFERENCE_TTL_S = 600.0
"""How long a looked-up reference (or its absence) is reused; a new `make eval` shows up after this."""


@dataclass(frozen=True)
class Reference:
    counts: list[int]
    predicted_ad_ratio: float | None
    run_id: str


@dataclass(frozen=True)
class DriftReading:
    model: str
    items: int
    psi: float | None
    low_confidence_ratio: float
    reference_ad_ratio: float | None


ReferenceLoader = Callable[[str], Reference | None]
"""Model version (e.g. "3") -> its reference distribution, or None when it has none."""


def mlflow_reference_loader(cfg: Settings) -> ReferenceLoader:
    """Reads a version's reference from the MLflow registry the stack uses."""

    def load(version: str) -> Reference | None:
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=cfg.tracking_uri, registry_uri=cfg.tracking_uri)
        model_version = client.get_model_version(MODEL_NAME, version)
        for run_id in (model_version.tags.get("last_evaluation_run"), model_version.run_id):
            if not run_id:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    path = Path(client.download_artifacts(run_id, REFERENCE_ARTIFACT, tmp))
                except Exception as exc:  # MLflow raises several types for a missing artifact
                    log.info("run %s has no %s (%s)", run_id, REFERENCE_ARTIFACT, type(exc).__name__)
                    continue
                doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("bins") != SCORE_BINS:
                log.warning("reference of version %s uses other bins; ignored", version)
                return None
            return Reference(doc["counts"], doc.get("predicted_ad_ratio"), run_id)
        return None

    return load


class DriftMonitor:
    """Computes drift readings from the newest classified items; references are cached per version."""

    def __init__(
        self,
        repo: BoardRepository,
        load_reference: ReferenceLoader,
        window: int = 500,
        low_confidence_margin: float = 0.1,
    ):
        self.repo = repo
        self.load_reference = load_reference
        self.window = window
        self.margin = low_confidence_margin
        self._cache: dict[str, tuple[float, Reference | None]] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Forget cached references now (they also expire after REFERENCE_TTL_S)."""
        with self._lock:
            self._cache.clear()

    def reference(self, model: str) -> Reference | None:
        """Reference of a model string `name/version`, looked up at most once per REFERENCE_TTL_S."""
        with self._lock:
            cached = self._cache.get(model)
            if cached and time.monotonic() - cached[0] < REFERENCE_TTL_S:
                return cached[1]
            version = model.rpartition("/")[2]
            try:
                found = self.load_reference(version)
            except Exception as exc:
                log.warning("no drift reference for %s: %s", model, exc)
                found = None
            if found is None and model not in self._cache:
                log.warning("model %s has no reference score distribution; PSI not exported for it", model)
            self._cache[model] = (time.monotonic(), found)
            return found

    def read(self) -> DriftReading | None:
        """Reading for the model that labelled the newest item (the one in service), or None without items."""
        rows = self.repo.recent_classified(self.window)
        if not rows:
            return None
        model = rows[0].model_version
        current: list[ClassifiedRecord] = [row for row in rows if row.model_version == model]
        low = sum(abs(row.score - row.threshold) < self.margin for row in current) / len(current)
        reference = self.reference(model)
        value = None
        if reference is not None and sum(reference.counts) > 0:
            value = psi(reference.counts, score_histogram([row.score for row in current]))
        return DriftReading(
            model, len(current), value, low, reference.predicted_ad_ratio if reference is not None else None
        )
