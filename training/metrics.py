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


def best_threshold(labels: list[int], scores: list[float]) -> float:
    """The ad-score threshold that maximises macro-F1 (ties -> closest to 0.5)."""
    candidates = sorted({0.5, *np.round(np.asarray(scores, dtype=float), 4).tolist()})
    y = np.asarray(labels, dtype=int)
    s = np.asarray(scores, dtype=float)

    def quality(t: float) -> tuple[float, float]:
        macro = skm.f1_score(y, (s >= t).astype(int), average="macro", zero_division=0)
        return (round(float(macro), 6), -abs(t - 0.5))

    return float(max(candidates, key=quality))
