"""Training recipes for real data (`make train-real`): few careful labels plus many weak ones.

The development data (`../shared/data`, never committed) holds careful labels (`gold_train.csv`,
`gold_dev.csv`) and ~27k weak, hashtag-derived labels (`ads_weak.csv`, about 67% agreement with
careful reading). Recipes, as compared in the issue note:

- `clean`: fine-tune on the careful labels only (20% of them held out for early stopping and the
  threshold).
- `confident-weak` (default): the same plus the weak posts whose hashtag label a TF-IDF model
  fitted on the careful labels confirms with at least CONFIDENCE (a confident-learning style
  filter), at WEAK_WEIGHT. gold_dev.csv is never read for training.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from training.baseline import fit_tfidf_baseline
from training.data import load_posts
from training.train import TrainConfig

log = logging.getLogger(__name__)

RECIPES = ("clean", "confident-weak")
DEFAULT_RECIPE = "confident-weak"
CONFIDENCE = 0.9
WEAK_WEIGHT = 0.5


def confident_weak_subset(shared: Path, out: Path, confidence: float = CONFIDENCE) -> Path:
    """Write the weak posts a careful-label TF-IDF model agrees with (text,label), held-out texts excluded."""
    careful = load_posts(shared / "gold_train.csv")
    held_out = set(pd.read_csv(shared / "gold_train.csv").text) | set(pd.read_csv(shared / "gold_dev.csv").text)
    weak = pd.read_csv(shared / "ads_weak.csv")
    weak = weak[~weak.text.isin(held_out)]
    log.info("scoring %d weak posts with a TF-IDF model fitted on %d careful labels", len(weak), len(careful))
    out.parent.mkdir(parents=True, exist_ok=True)
    candidates = out.parent / "weak_candidates.csv"
    weak[["text", "label"]].to_csv(candidates, index=False)
    weak_posts = load_posts(candidates)  # cleaned exactly as training cleans
    probability = fit_tfidf_baseline(careful).predict_proba(weak_posts.texts)[:, 1]
    y = np.asarray(weak_posts.labels)
    keep = ((y == 1) & (probability >= confidence)) | ((y == 0) & (probability <= 1 - confidence))
    pd.DataFrame({"text": np.asarray(weak_posts.texts)[keep], "label": y[keep]}).to_csv(out, index=False)
    log.info("kept %d of %d weak posts (ad ratio %.2f) -> %s", keep.sum(), len(y), y[keep].mean(), out)
    return out


def recipe_config(recipe: str, shared: Path, cache: Path, **overrides) -> TrainConfig:
    """The TrainConfig of a named recipe on the development data in `shared`."""
    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {RECIPES}, got {recipe!r}")
    missing = [n for n in ("gold_train.csv", "gold_dev.csv", "ads_weak.csv") if not (shared / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{shared} lacks {', '.join(missing)} (the development data is not committed)")
    data = [str(shared / "gold_train.csv")]
    if recipe == "confident-weak":
        subset = confident_weak_subset(shared, cache / "recipes" / "weak_confident.csv")
        data.append(f"{subset}:{WEAK_WEIGHT}")
    return TrainConfig(data=data, run_name=f"recipe-{recipe}", **overrides)
