"""Training recipes for real data (`make train-real`): few careful labels plus many weak ones.

The development data (`../shared/data`, never committed) holds careful labels (`gold_train.csv`,
`gold_dev.csv`) and ~27k weak, hashtag-derived labels (`ads_weak.csv`, about 67% agreement with
careful reading). Recipes:

- `clean`: fine-tune on the careful labels only (20% of them held out for early stopping and the
  threshold).
- `confident-weak`: the same plus the weak posts whose hashtag label a TF-IDF model
  fitted on the careful labels confirms with at least CONFIDENCE (a confident-learning style
  filter), at WEAK_WEIGHT.
- `tag-teacher` (default): the same plus weak posts relabeled by a teacher that reads the text *and* the
  collection hashtag (`source_tag`, known for weak posts only, never at serving time), fitted on the
  careful labels. The hashtag is a noisy label but a useful feature: it settles posts the text alone
  leaves open. Posts the teacher labels with at least CONFIDENCE are kept, with its label (not the
  hashtag's), at WEAK_WEIGHT; a random TEACHER_CAP of them spread evenly over the hashtags (the cap
  keeps a 2-core CPU epoch near 20 minutes). Measured on gold_dev (whose posts carry their hashtag
  too): 40% of posts get a confident teacher label, 97.4% of those labels agree with careful reading,
  against 87.4% for their hashtags (`python -m training teacher-check`).
- `teacher-then-clean`: two stages in one run: the tag-teacher's posts first (one epoch, full
  weight, no careful labels), then the careful labels alone, starting from those weights (weak-label
  pre-training, then clean fine-tuning).
gold_dev.csv is never read for training.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from handlers.lexical import balanced_logistic_regression
from handlers.text import EmptyTextError, TextTooLongError, model_text
from training.baseline import fit_tfidf_baseline, tfidf_features
from training.data import PostSet, parse_label

if TYPE_CHECKING:
    from training.train import TrainConfig

log = logging.getLogger(__name__)

RECIPES = ("clean", "confident-weak", "tag-teacher", "teacher-then-clean")
DEFAULT_RECIPE = "tag-teacher"
RECIPE_EPOCHS = {"confident-weak": 2, "tag-teacher": 2}
"""Epochs of the weak recipes unless told otherwise (their ~4,000 posts peak on dev by the second
epoch); the others keep the backbone's default with early stopping."""
CONFIDENCE = 0.9
WEAK_WEIGHT = 0.5
TEACHER_CAP = 3000
LEXICAL_BLEND = True
"""Recipes blend a lexical component into the transformer's score (training.blend) unless told not to."""


def cleaned_posts(path: Path, exclude: set[str] | None = None) -> pd.DataFrame:
    """A development CSV as text (cleaned exactly as training cleans it), label, source_tag and
    weak_label (the hashtag's label where the file has one, else None); rows whose raw text is in
    `exclude`, or that have no usable text, are dropped."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if exclude:
        frame = frame[~frame.text.isin(exclude)]
    if "source_tag" not in frame.columns:
        frame = frame.assign(source_tag="")
    weak = [parse_label(v) for v in frame.weak_label] if "weak_label" in frame.columns else [None] * len(frame)
    texts = []
    for text in frame.text:
        try:
            texts.append(model_text("", text))
        except (EmptyTextError, TextTooLongError):
            texts.append(None)
    frame = frame.assign(text=texts, label=[parse_label(v) for v in frame.label], weak_label=weak)
    return frame.dropna(subset=["text"])[["text", "label", "source_tag", "weak_label"]].reset_index(drop=True)


def _careful_and_weak(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """gold_train.csv, and ads_weak.csv without any text that is also in gold_train or gold_dev."""
    held_out = set(pd.read_csv(shared / "gold_train.csv").text) | set(pd.read_csv(shared / "gold_dev.csv").text)
    careful, weak = cleaned_posts(shared / "gold_train.csv"), cleaned_posts(shared / "ads_weak.csv", held_out)
    log.info("%d careful labels, %d weak posts outside gold_train and gold_dev", len(careful), len(weak))
    return careful, weak


def _as_postset(frame: pd.DataFrame, source: str) -> PostSet:
    return PostSet(frame.text.tolist(), frame.label.tolist(), [1.0] * len(frame), source, "")


def _write(frame: pd.DataFrame, out: Path, total: int) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    frame[["text", "label"]].to_csv(out, index=False)
    log.info("kept %d of %d weak posts (ad ratio %.2f) -> %s", len(frame), total, frame.label.mean(), out)
    return out


def confident_weak_subset(shared: Path, out: Path, confidence: float = CONFIDENCE) -> Path:
    """Write the weak posts a careful-label TF-IDF model agrees with (text,label), held-out texts excluded."""
    careful, weak = _careful_and_weak(shared)
    probability = fit_tfidf_baseline(_as_postset(careful, "gold_train")).predict_proba(weak.text.tolist())[:, 1]
    y = weak.label.to_numpy()
    keep = ((y == 1) & (probability >= confidence)) | ((y == 0) & (probability <= 1 - confidence))
    return _write(weak[keep], out, len(weak))


def fit_tag_teacher(careful: pd.DataFrame, seed: int = 13) -> Pipeline:
    """TF-IDF of the text plus the one-hot collection hashtag -> logistic regression."""
    features = ColumnTransformer(
        [("text", tfidf_features(), "text"), ("tag", OneHotEncoder(handle_unknown="ignore"), ["source_tag"])]
    )
    return make_pipeline(features, balanced_logistic_regression(seed)).fit(
        careful[["text", "source_tag"]], careful.label
    )


def tag_teacher_subset(
    shared: Path, out: Path, confidence: float = CONFIDENCE, cap: int = TEACHER_CAP, seed: int = 13
) -> Path:
    """Write weak posts relabeled by the hashtag-aware teacher (see the module docstring)."""
    careful, weak = _careful_and_weak(shared)
    teacher = fit_tag_teacher(careful, seed).predict_proba(weak[["text", "source_tag"]])[:, 1]
    confident = weak.assign(label=(teacher >= 0.5).astype(int))[np.maximum(teacher, 1 - teacher) >= confidence]
    per_tag = max(cap // max(confident.source_tag.nunique(), 1), 1)
    chosen = confident.sample(frac=1.0, random_state=seed).groupby("source_tag", sort=True).head(per_tag)
    log.info(
        "teacher: %d of %d weak posts confident; %d kept, %d of them relabeled against their hashtag",
        *(len(confident), len(weak), len(chosen), int((chosen.label != weak.label[chosen.index]).sum())),
    )
    return _write(chosen.sort_index(), out, len(weak))


@dataclass(frozen=True)
class TeacherCheck:
    """How the hashtag-aware teacher labels gold_dev posts (which carry their hashtag too)."""

    posts: int
    confident: int
    teacher_agreement: float
    """Share of confident posts whose teacher label matches the careful label."""
    hashtag_agreement: float
    """Share of the same posts whose hashtag label matches the careful label."""

    def summary(self, confidence: float) -> str:
        return (
            f"teacher (fitted on gold_train, text + hashtag) on gold_dev: {self.confident} of {self.posts} posts "
            f"confident at >= {confidence:g} ({self.confident / max(self.posts, 1):.0%}); on those, careful "
            f"labels agree with the teacher on {self.teacher_agreement:.1%} "
            f"and with the hashtag on {self.hashtag_agreement:.1%}"
        )


def check_confidence(confidence: float) -> None:
    """A weak-post filter keeps posts labeled with at least this probability: it must lie in [0.5, 1)."""
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence}")


def check_teacher(shared: Path, confidence: float = CONFIDENCE, seed: int = 13) -> TeacherCheck:
    """Measure the teacher's labels against careful reading on gold_dev (never used to fit it)."""
    check_confidence(confidence)
    careful, dev = cleaned_posts(shared / "gold_train.csv"), cleaned_posts(shared / "gold_dev.csv")
    if not (dev.source_tag != "").all() or dev.weak_label.isna().any():
        raise ValueError(f"{shared / 'gold_dev.csv'} needs a source_tag and a weak_label for every post")
    probability = fit_tag_teacher(careful, seed).predict_proba(dev[["text", "source_tag"]])[:, 1]
    confident = np.maximum(probability, 1 - probability) >= confidence
    truth = dev.label.to_numpy()[confident]
    hashtag = dev.weak_label.to_numpy()[confident]
    return TeacherCheck(
        posts=len(dev),
        confident=int(confident.sum()),
        teacher_agreement=float(((probability[confident] >= 0.5).astype(int) == truth).mean()),
        hashtag_agreement=float((hashtag == truth).mean()),
    )


def recipe_config(
    recipe: str,
    shared: Path,
    cache: Path,
    confidence: float = CONFIDENCE,
    cap: int = TEACHER_CAP,
    **overrides,
) -> TrainConfig:
    """The TrainConfig of a named recipe on the development data in `shared`.

    `confidence` is the weak-post filter of the weak recipes; `cap` bounds the teacher-labeled posts
    of `tag-teacher` and `teacher-then-clean`.
    """
    from training.train import TrainConfig  # torch; only when a recipe really trains

    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {RECIPES}, got {recipe!r}")
    check_confidence(confidence)
    if cap < 1:
        raise ValueError(f"the weak-post cap must be positive, got {cap}")
    missing = [n for n in ("gold_train.csv", "gold_dev.csv", "ads_weak.csv") if not (shared / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{shared} lacks {', '.join(missing)} (the development data is not committed)")
    data = [str(shared / "gold_train.csv")]
    if recipe == "confident-weak":
        subset = confident_weak_subset(shared, cache / "recipes" / "weak_confident.csv", confidence)
        data.append(f"{subset}:{WEAK_WEIGHT}")
    elif recipe == "tag-teacher":
        subset = tag_teacher_subset(shared, cache / "recipes" / "weak_teacher.csv", confidence, cap)
        data.append(f"{subset}:{WEAK_WEIGHT}")
    elif recipe == "teacher-then-clean":
        subset = tag_teacher_subset(shared, cache / "recipes" / "weak_teacher.csv", confidence, cap)
        overrides.setdefault("pretrain_data", [str(subset)])
    if overrides.get("epochs") is None and recipe in RECIPE_EPOCHS:
        overrides["epochs"] = RECIPE_EPOCHS[recipe]
    name = f"recipe-{recipe}" + (f"-c{confidence:g}" if recipe != "clean" else "")
    name += f"-cap{cap}" if recipe in ("tag-teacher", "teacher-then-clean") else ""
    name += f"-seed{overrides['seed']}" if overrides.get("seed", TrainConfig.seed) != TrainConfig.seed else ""
    name += f"-len{overrides['max_length']}" if overrides.get("max_length") else ""
    name += f"-{overrides['truncation']}" if overrides.get("truncation") else ""
    return TrainConfig(data=data, run_name=name, **overrides)
