"""Classification metrics shared by training (dev set), evaluation and promotion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm


@dataclass(frozen=True)
class Scores:
    accuracy: float
    precision: float
    recall: float
    f1: float
    macro_f1: float
    roc_auc: float
    ece: float
    """Expected calibration error of the ad score (10 equal-width bins)."""
    confusion: list[list[int]]
    """[[tn, fp], [fn, tp]] with rows = true label (normal, ad)."""

    def as_metrics(self, prefix: str = "") -> dict[str, float]:
        names = ("accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc", "ece")
        return {f"{prefix}{name}": float(getattr(self, name)) for name in names}


def expected_calibration_error(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(labels[mask].mean() - scores[mask].mean())
    return float(error)


def score_predictions(labels: list[int], scores: list[float], threshold: float) -> Scores:
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    pred = (s >= threshold).astype(int)
    has_both = len(set(y.tolist())) == 2
    return Scores(
        accuracy=float(skm.accuracy_score(y, pred)),
        precision=float(skm.precision_score(y, pred, zero_division=0)),
        recall=float(skm.recall_score(y, pred, zero_division=0)),
        f1=float(skm.f1_score(y, pred, zero_division=0)),
        macro_f1=float(skm.f1_score(y, pred, average="macro", zero_division=0)),
        roc_auc=float(skm.roc_auc_score(y, s)) if has_both else float("nan"),
        ece=expected_calibration_error(y, s),
        confusion=skm.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
    )


THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
THRESHOLD_SMOOTHING = 5
"""Macro-F1 is averaged over ±5 grid steps (±0.05) before picking: a few hundred dev posts make the
raw maximum a noisy, often extreme, threshold."""


def best_threshold(labels: list[int], scores: list[float]) -> float:
    """The ad-score threshold on a 0.01 grid with the best locally averaged macro-F1 (ties -> closest to 0.5)."""
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)
    raw = np.array([skm.f1_score(y, (s >= t).astype(int), average="macro", zero_division=0) for t in THRESHOLD_GRID])
    k = THRESHOLD_SMOOTHING
    padded = np.pad(raw, k, mode="edge")
    smooth = np.convolve(padded, np.ones(2 * k + 1) / (2 * k + 1), mode="valid")
    best = max(range(len(THRESHOLD_GRID)), key=lambda i: (round(float(smooth[i]), 6), -abs(THRESHOLD_GRID[i] - 0.5)))
    return float(THRESHOLD_GRID[best])


INT8_TOLERANCE = 0.01
"""int8 serving is allowed when it loses at most this much macro-F1 against fp32 on validation data."""


def choose_cpu_precision(fp32: Scores, int8: Scores) -> str:
    """What serving runs on CPU: int8 when it stays within INT8_TOLERANCE macro-F1 of fp32."""
    return "int8" if fp32.macro_f1 - int8.macro_f1 <= INT8_TOLERANCE else "fp32"
