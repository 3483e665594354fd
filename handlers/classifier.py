"""The one inference path: a trained classifier bundle on disk -> ad scores for posts.

Training evaluates with it, the MLflow pyfunc wraps it and the TorchServe handler serves it, so
all three see the same cleaning, tokenization, truncation and threshold.

A bundle is a folder holding a Hugging Face sequence-classification model, its tokenizer and
`classifier.json` (see `BundleMeta`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification

from handlers.text import PREPROCESSING_VERSION, model_text
from handlers.tokenization import load_tokenizer

BUNDLE_META_FILE = "classifier.json"
AD, NORMAL = "ad", "normal"


@dataclass(frozen=True)
class BundleMeta:
    """What a bundle needs besides weights and tokenizer; written by training, read by serving."""

    threshold: float = 0.5
    """Ad score at or above which a post is labelled an ad."""
    max_length: int = 256
    """Tokens per post after truncation (special tokens included)."""
    preprocessing_version: str = PREPROCESSING_VERSION
    backbone: str = "unknown"
    model_name: str = "ad-classifier"
    model_version: str = "0"
    """Registry version; set when the bundle is exported for serving."""
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, bundle_dir: Path) -> BundleMeta:
        data = json.loads((bundle_dir / BUNDLE_META_FILE).read_text(encoding="utf-8"))
        return cls(**data)

    def write(self, bundle_dir: Path) -> None:
        (bundle_dir / BUNDLE_META_FILE).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


@dataclass(frozen=True)
class ScoredBatch:
    scores: list[float]
    """Ad probability per text, in input order."""
    tokens: int
    """Real (non-padding) tokens the model read, special tokens included."""


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    threshold: float


class AdClassifier:
    """Scores posts with a bundle; length-sorted micro-batches, padded to the longest in each."""

    def __init__(self, bundle_dir: str | Path, device: str | torch.device = "cpu", micro_batch: int = 16):
        self.bundle_dir = Path(bundle_dir)
        self.meta = BundleMeta.read(self.bundle_dir)
        if self.meta.preprocessing_version != PREPROCESSING_VERSION:
            raise ValueError(
                f"bundle was trained with preprocessing v{self.meta.preprocessing_version}, "
                f"this code applies v{PREPROCESSING_VERSION}; retrain or export a matching version"
            )
        self.device = torch.device(device)
        self.micro_batch = micro_batch
        self.tokenizer = load_tokenizer(self.bundle_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(self.bundle_dir)
        self.model.to(self.device).eval()

    @property
    def model_id(self) -> str:
        return f"{self.meta.model_name}/{self.meta.model_version}"

    def encode(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Tokenize cleaned texts, padded to the longest, truncated at meta.max_length."""
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.meta.max_length, return_tensors="pt"
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    @torch.inference_mode()
    def score_batch(self, texts: list[str]) -> ScoredBatch:
        """Ad probability for each already-cleaned text (see handlers.text.model_text)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        scores = [0.0] * len(texts)
        tokens = 0
        for start in range(0, len(order), self.micro_batch):
            chunk = order[start : start + self.micro_batch]
            encoded = self.encode([texts[i] for i in chunk])
            tokens += int(encoded["attention_mask"].sum())
            logits = self.model(**encoded).logits.float()
            for i, score in zip(chunk, torch.softmax(logits, dim=-1)[:, 1].tolist(), strict=True):
                scores[i] = score
        return ScoredBatch(scores, tokens)

    def score_texts(self, texts: list[str]) -> list[float]:
        return self.score_batch(texts).scores

    def label(self, score: float) -> str:
        return AD if score >= self.meta.threshold else NORMAL

    def predict_posts(self, posts: list[tuple[str | None, str]]) -> list[Prediction]:
        """Clean (title, body) pairs and classify them; raises on empty or oversized input."""
        scores = self.score_texts([model_text(title, body) for title, body in posts])
        return [Prediction(self.label(s), s, self.meta.threshold) for s in scores]
