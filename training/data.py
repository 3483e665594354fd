"""Labeled post CSVs -> cleaned texts, labels and weights.

A data path is one CSV or a folder of them, read in name order as one set. One format for the
seed set, a user's own data, exported moderator reviews and the development data: UTF-8 CSV with a header containing
  - `body` (or `text`): the post text (required);
  - `title`: optional;
  - `label`: 1/0, or ad/normal, or 광고/일반 (required);
  - `weight`: optional per-row sample weight (e.g. 1.0 for careful labels, 0.3 for weak ones);
  - `source_tag` (or `case`): optional group of the row, reported on its own by evaluation.
Other columns are ignored. Rows whose text is empty after cleaning are dropped (and counted).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from handlers.text import EmptyTextError, TextTooLongError, model_text

log = logging.getLogger(__name__)

_LABELS = {"1": 1, "0": 0, "ad": 1, "normal": 0, "광고": 1, "일반": 0, "true": 1, "false": 0}


class DataError(ValueError):
    """A CSV that does not follow the training data format."""


@dataclass(frozen=True)
class PostSet:
    """Cleaned posts ready for training or evaluation."""

    texts: list[str]
    labels: list[int]
    weights: list[float]
    source: str
    digest: str
    tags: list[str] = field(default_factory=list)
    """Each post's group (`source_tag` or `case` column), or empty when the CSV has none."""

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def ad_ratio(self) -> float:
        return sum(self.labels) / max(len(self.labels), 1)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"text": self.texts, "label": self.labels, "weight": self.weights})

    def subset(self, indices: list[int], source_suffix: str) -> PostSet:
        texts = [self.texts[i] for i in indices]
        return PostSet(
            texts=texts,
            labels=[self.labels[i] for i in indices],
            weights=[self.weights[i] for i in indices],
            source=f"{self.source}#{source_suffix}",
            digest=_digest(texts, [self.labels[i] for i in indices]),
            tags=[self.tags[i] for i in indices] if self.tags else [],
        )


def _digest(texts: list[str], labels: list[int]) -> str:
    sha = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        sha.update(f"{label}\t{text}\n".encode())
    return sha.hexdigest()[:16]


def parse_label(raw: object) -> int:
    key = str(raw).strip().lower()
    if key.endswith(".0"):
        key = key[:-2]
    if key not in _LABELS:
        raise DataError(f"unknown label {raw!r}; use 1/0, ad/normal or 광고/일반")
    return _LABELS[key]


def _is_ad(raw: object) -> bool:
    try:
        return parse_label(raw) == 1
    except DataError:
        return False


def csv_files(path: str | Path) -> list[Path]:
    """The CSVs a data path names: the file itself, or a folder's `*.csv` files in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise DataError(f"no .csv file in folder {path}")
        return files
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    return [path]


def load_posts(path: str | Path, rewrite_ads: Callable[[str], str] | None = None) -> PostSet:
    """Read and clean a labeled CSV, or every CSV of a folder in name order (see the module docstring).

    `rewrite_ads` changes the raw title and body of every ad before cleaning (the evasion
    evaluation, training.evasion); normal posts are read as they are.
    """
    files = csv_files(path)
    posts = _load_csv(files[0], rewrite_ads)
    if len(files) > 1:
        posts = replace(concat([posts, *(_load_csv(f, rewrite_ads) for f in files[1:])]), source=str(path))
    if len(set(posts.labels)) < 2:
        raise DataError(f"{path}: needs both ad and normal examples")
    return posts


def _load_csv(path: Path, rewrite_ads: Callable[[str], str] | None) -> PostSet:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    body_column = "body" if "body" in frame.columns else "text" if "text" in frame.columns else None
    if body_column is None or "label" not in frame.columns:
        raise DataError(f"{path}: needs columns 'body' (or 'text') and 'label'; found {list(frame.columns)}")
    titles = frame["title"] if "title" in frame.columns else [""] * len(frame)
    weights = frame["weight"] if "weight" in frame.columns else ["1"] * len(frame)
    tag_column = next((c for c in ("source_tag", "case") if c in frame.columns), None)
    tags = frame[tag_column] if tag_column else [""] * len(frame)
    texts, labels, kept_weights, kept_tags, dropped = [], [], [], [], 0
    for row, (title, body, label, weight, tag) in enumerate(
        zip(titles, frame[body_column], frame["label"], weights, tags, strict=True), start=2
    ):
        if rewrite_ads is not None and _is_ad(label):
            title, body = rewrite_ads(title), rewrite_ads(body)
        try:
            texts.append(model_text(title, body))
        except (EmptyTextError, TextTooLongError):
            dropped += 1
            continue
        kept_tags.append(tag)
        try:
            labels.append(parse_label(label))
            kept_weights.append(float(weight or 1.0))
        except (DataError, ValueError) as exc:
            raise DataError(f"{path}:{row}: {exc}") from exc
    if dropped:
        log.warning("%s: dropped %d rows with no usable text", path.name, dropped)
    return PostSet(texts, labels, kept_weights, str(path), _digest(texts, labels), kept_tags if tag_column else [])


def concat(parts: list[PostSet]) -> PostSet:
    texts = [t for p in parts for t in p.texts]
    labels = [label for p in parts for label in p.labels]
    tags = [t for p in parts for t in (p.tags or [""] * len(p))] if any(p.tags for p in parts) else []
    weights = [w for p in parts for w in p.weights]
    return PostSet(texts, labels, weights, "+".join(p.source for p in parts), _digest(texts, labels), tags)


def load_mixture(specs: list[str]) -> PostSet:
    """Several CSVs as one training set; `path:0.3` multiplies that file's row weights by 0.3.

    This is how careful labels and weak labels are mixed: e.g.
    `--data gold_train.csv --data ads_weak.csv:0.2`.
    """
    parts = []
    for spec in specs:
        path, sep, factor = spec.rpartition(":")
        if not sep or not _is_number(factor):
            path, factor = spec, "1"
        posts = load_posts(path)
        scale = float(factor)
        parts.append(replace(posts, weights=[w * scale for w in posts.weights]))
    return parts[0] if len(parts) == 1 else concat(parts)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def split_train_dev(posts: PostSet, dev_fraction: float, seed: int) -> tuple[PostSet, PostSet]:
    """Stratified split of one CSV into train and dev sets."""
    indices = list(range(len(posts)))
    train_idx, dev_idx = train_test_split(indices, test_size=dev_fraction, random_state=seed, stratify=posts.labels)
    return posts.subset(sorted(train_idx), "train"), posts.subset(sorted(dev_idx), "dev")
