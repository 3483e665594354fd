"""Score-distribution arithmetic shared by evaluation (which logs the reference) and the board (which compares).

A distribution is a histogram of ad scores over fixed bins, stored as JSON
`{"bins": [...], "counts": [...], "predicted_ad_ratio": r}` (`score_distribution.json` in MLflow).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

SCORE_BINS: list[float] = [round(x, 1) for x in np.linspace(0, 1, 11)]
"""Ten equal-width bins over [0, 1]."""

REFERENCE_ARTIFACT = "score_distribution.json"
"""Artifact name of a run's score distribution (evaluation runs; training runs log their dev set's)."""

PSI_EPSILON = 1e-4
"""Floor for an empty bin's share, so PSI stays finite."""


def score_histogram(scores: Sequence[float], bins: Sequence[float] = SCORE_BINS) -> list[int]:
    counts, _ = np.histogram(np.clip(np.asarray(scores, dtype=float), bins[0], bins[-1]), bins=list(bins))
    return counts.astype(int).tolist()


def distribution(scores: Sequence[float], threshold: float) -> dict:
    """The JSON document logged as a model's reference distribution."""
    return {
        "bins": SCORE_BINS,
        "counts": score_histogram(scores),
        "predicted_ad_ratio": float(np.mean(np.asarray(scores) >= threshold)) if len(scores) else None,
        "size": len(scores),
    }


def psi(reference: Sequence[float], live: Sequence[float]) -> float:
    """Population stability index between two histograms over the same bins (counts or shares).

    Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift.
    """
    if len(reference) != len(live):
        raise ValueError(f"histograms differ in bins: {len(reference)} vs {len(live)}")
    ref_total, live_total = sum(reference), sum(live)
    if ref_total <= 0 or live_total <= 0:
        raise ValueError("PSI needs two non-empty histograms")
    total = 0.0
    for r, lv in zip(reference, live, strict=True):
        p = max(r / ref_total, PSI_EPSILON)
        q = max(lv / live_total, PSI_EPSILON)
        total += (q - p) * math.log(q / p)
    return total
