"""Fit a bundle's lexical component and choose its blend weight on the run's dev split.

The component (handlers.lexical) trains on the transformer's training posts, with their weights;
the weight is the one of BLEND_WEIGHTS whose blended dev scores have the lowest log loss, a proper
scoring rule that, unlike macro-F1 at a threshold, does not jump with a handful of dev posts. The
decision threshold is then tuned on the blended scores, as for a transformer alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline

from handlers.lexical import blend, lexical_pipeline, lexical_scores
from training.data import PostSet

log = logging.getLogger(__name__)

BLEND_WEIGHTS = tuple(round(w, 2) for w in np.arange(0.0, 0.81, 0.05))
"""Lexical shares tried; the transformer always keeps at least 20% of the score."""


@dataclass(frozen=True)
class LexicalBlend:
    pipeline: Pipeline
    weight: float
    dev_scores: list[float]
    """Blended ad scores of the dev posts, at `weight`."""
    dev_log_loss: dict[float, float]
    """Dev log loss at every weight tried."""


def fit_blend(train: PostSet, dev: PostSet, model_dev_scores: list[float], seed: int = 13) -> LexicalBlend:
    """Fit the lexical component on `train`; pick its weight by dev log loss against the transformer's scores."""
    pipeline = lexical_pipeline(seed).fit(train.texts, train.labels, logisticregression__sample_weight=train.weights)
    lexical = lexical_scores(pipeline, dev.texts)
    losses = {
        w: float(log_loss(dev.labels, np.clip(blend(model_dev_scores, lexical, w), 1e-6, 1 - 1e-6), labels=[0, 1]))
        for w in BLEND_WEIGHTS
    }
    weight = min(losses, key=lambda w: (round(losses[w], 6), w))
    log.info(
        "lexical blend: weight %.2f (dev log loss %.4f; transformer alone %.4f)", weight, losses[weight], losses[0.0]
    )
    return LexicalBlend(pipeline, weight, blend(model_dev_scores, lexical, weight).tolist(), losses)
