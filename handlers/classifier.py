"""The one inference path: a trained classifier bundle on disk -> ad scores for posts.

Training evaluates with it, the MLflow pyfunc wraps it and the TorchServe handler serves it, so
all three see the same cleaning, tokenization, truncation and threshold.

A bundle is a folder holding a Hugging Face sequence-classification model, its tokenizer and
`classifier.json` (see `BundleMeta`).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, BatchEncoding

from handlers.evidence import Evidence, lexical_evidence
from handlers.lexical import blend, lexical_scores, load_lexical
from handlers.text import PREPROCESSING_VERSION, model_text
from handlers.tokenization import load_tokenizer

BUNDLE_META_FILE = "classifier.json"
AD, NORMAL = "ad", "normal"
TRUNCATIONS = ("head", "head_tail")
PRECISIONS = ("fp32", "int8")
"""What a bundle may ask for on CPU; on CUDA the model always runs in half precision (fp16)."""
HEAD_SHARE = 0.5
"""Share of the token budget `head_tail` truncation keeps from the start of a long post."""
TRACE_TOLERANCE = 1e-4
"""Largest logit difference between the traced and the eager model that the load-time check accepts."""

log = logging.getLogger(__name__)


def encode_texts(tokenizer, texts: list[str], max_length: int, truncation: str = "head") -> BatchEncoding:
    """Tokenize cleaned texts for the model, padded to the longest in the batch (never to a fixed size).

    Training, evaluation and serving all encode through here (serving via `token_ids` + `pad_ids`).
    """
    return pad_ids(tokenizer, token_ids(tokenizer, texts, max_length, truncation))


def token_ids(tokenizer, texts: list[str], max_length: int, truncation: str = "head") -> list[list[int]]:
    """Token ids per text, special tokens included, cut to max_length; no padding.

    `head` keeps the start of a long post; `head_tail` keeps HEAD_SHARE of the budget from the start
    and the rest from the end.
    """
    if truncation == "head":
        return tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    if truncation != "head_tail":
        raise ValueError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
    prefix, suffix = _special_frame(tokenizer)
    budget = max_length - len(prefix) - len(suffix)
    head = int(budget * HEAD_SHARE)
    ids = []
    # The whole post is tokenized on purpose (it is cut below): verbose=False silences the
    # tokenizer's "longer than the maximum" warning, which does not apply here.
    for pieces in tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]:
        if len(pieces) > budget:
            pieces = pieces[:head] + pieces[len(pieces) - (budget - head) :]
        ids.append(prefix + pieces + suffix)
    return ids


def pad_ids(tokenizer, ids: list[list[int]]) -> BatchEncoding:
    """Pad token id lists to the longest of them, with an attention mask, as tensors."""
    return tokenizer.pad({"input_ids": ids}, padding=True, return_tensors="pt", return_attention_mask=True)


def plan_micro_batches(lengths: list[int], max_size: int, padding_slack: float) -> list[list[int]]:
    """Group texts (by index) into forward passes that waste little compute on padding.

    Texts are taken shortest first; a text joins the current group while the group stays within
    `max_size` texts and its padded size (texts x longest) stays within (1 + padding_slack) times
    its real tokens. On a CPU one post already fills the matrix units, so padding costs more than
    batching gains (slack ~0.1); on a GPU batching pays, so a larger slack suits it.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = []
    real = 0
    for i in order:
        group = groups[-1] if groups else None
        if (
            group
            and len(group) < max_size
            and (len(group) + 1) * lengths[i] <= (1 + padding_slack) * (real + lengths[i])
        ):
            group.append(i)
            real += lengths[i]
        else:
            groups.append([i])
            real = lengths[i]
    return groups


def _special_frame(tokenizer) -> tuple[list[int], list[int]]:
    """The special ids a tokenizer puts before and after one sequence (e.g. [CLS] / [SEP], <s> / </s>)."""
    bare = tokenizer("가", add_special_tokens=False)["input_ids"]
    framed = tokenizer("가")["input_ids"]
    for start in range(len(framed) - len(bare) + 1):
        if framed[start : start + len(bare)] == bare:
            return framed[:start], framed[start + len(bare) :]
    raise ValueError("cannot locate the text between the tokenizer's special tokens")


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantization of the Linear layers (CPU only).

    torch.ao.quantization is deprecated upstream but still ships with the pinned torch 2.13; its
    deprecation warning is silenced here, where its use is deliberate.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class _Logits(torch.nn.Module):
    """(input_ids, attention_mask) -> logits: the model with a tensor-only signature, for tracing."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


Forward = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(input_ids, attention_mask) -> logits."""


def eager_forward(model: torch.nn.Module) -> Forward:
    return lambda input_ids, attention_mask: model(input_ids=input_ids, attention_mask=attention_mask).logits


def traced_forward(model: torch.nn.Module, tokenizer) -> Forward | None:
    """The model as a TorchScript trace (CPU): the same operations without the Python overhead of
    the module tree, which on a CPU costs ~5-15 ms per forward pass of a 12-layer encoder.

    Traced on a padded batch, so the trace keeps the attention-mask path (the path that is right for
    any batch; a trace of an unpadded batch could drop the mask). Checked against the eager model
    at load, on the tracing batch and on a longer unpadded one: any logit more than TRACE_TOLERANCE
    apart, or a failing trace, returns None and the caller keeps the eager model (logged).
    torch.jit.trace is deprecated upstream but ships with the pinned torch; its deprecation and
    tracer warnings are silenced here, where the load-time check stands in for them.
    """
    texts = ["가 나", "가 나 다 라 마 바 사 아 자 차 카 타 파 하"]
    example = pad_ids(tokenizer, token_ids(tokenizer, texts, 64))
    ids, mask = example["input_ids"], example["attention_mask"]
    longer = pad_ids(tokenizer, token_ids(tokenizer, [" ".join(texts * 4)], 64))
    checks = [(ids, mask), (longer["input_ids"], longer["attention_mask"])]
    eager = eager_forward(model)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(_Logits(model).eval(), (ids, mask), check_trace=False)
            gap = max(float((traced(*batch) - eager(*batch)).abs().max()) for batch in checks)
    except Exception as exc:  # any tracing failure means: serve eagerly
        log.warning("TorchScript trace failed (%s); running the eager model", exc)
        return None
    if gap > TRACE_TOLERANCE:
        log.warning("TorchScript trace differs from the eager model (%.2g); running the eager model", gap)
        return None
    return traced


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
    truncation: str = "head"
    """How a post longer than max_length is cut: `head` keeps the start, `head_tail` keeps
    HEAD_SHARE of the budget from the start and the rest from the end."""
    cpu_precision: str = "fp32"
    """What serving runs on CPU: `fp32`, or `int8` (dynamic quantization of the Linear layers), set
    at export when the version's evaluation showed int8 within 1 macro-F1 point of fp32."""
    lexical_weight: float = 0.0
    """Share of the ad score that comes from the bundle's lexical component (handlers.lexical);
    0 means the transformer alone and no lexical file."""
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


@torch.inference_mode()
def model_scores(
    forward: Forward,
    tokenizer,
    texts: list[str],
    meta: BundleMeta,
    micro_batch: int = 16,
    padding_slack: float = 0.1,
    device: torch.device | str = "cpu",
) -> ScoredBatch:
    """A transformer's ad probability for each already-cleaned text: the one scoring loop.

    Serving (AdClassifier) and training's per-epoch dev scores both run it: the texts are tokenized
    once with the bundle's max_length and truncation, then run in padding-aware micro-batches
    (plan_micro_batches).
    """
    ids = token_ids(tokenizer, texts, meta.max_length, meta.truncation)
    scores = [0.0] * len(texts)
    for group in plan_micro_batches([len(x) for x in ids], micro_batch, padding_slack):
        encoded = pad_ids(tokenizer, [ids[i] for i in group])
        logits = forward(encoded["input_ids"].to(device), encoded["attention_mask"].to(device)).float()
        for i, score in zip(group, torch.softmax(logits, dim=-1)[:, 1].tolist(), strict=True):
            scores[i] = score
    return ScoredBatch(scores, sum(len(x) for x in ids))


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    threshold: float


class AdClassifier:
    """Scores posts with a bundle in padding-aware micro-batches (see plan_micro_batches)."""

    def __init__(
        self,
        bundle_dir: str | Path,
        device: str | torch.device = "cpu",
        micro_batch: int = 16,
        padding_slack: float = 0.1,
        precision: str | None = None,
        truncation: str | None = None,
        torchscript: bool = True,
    ):
        """`precision` / `truncation` override the bundle's cpu_precision / truncation (evaluation).

        `torchscript`: on CPU, run a TorchScript trace of the model (traced_forward; scores equal the
        eager model's within TRACE_TOLERANCE on the logits). On CUDA the model runs eagerly.
        """
        self.bundle_dir = Path(bundle_dir)
        meta = BundleMeta.read(self.bundle_dir)
        self.meta = replace(
            meta, cpu_precision=precision or meta.cpu_precision, truncation=truncation or meta.truncation
        )
        if self.meta.cpu_precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.meta.cpu_precision!r}")
        if self.meta.preprocessing_version != PREPROCESSING_VERSION:
            raise ValueError(
                f"bundle was trained with preprocessing v{self.meta.preprocessing_version}, "
                f"this code applies v{PREPROCESSING_VERSION}; retrain or export a matching version"
            )
        self.device = torch.device(device)
        self.micro_batch = micro_batch
        self.padding_slack = padding_slack
        self.tokenizer = load_tokenizer(self.bundle_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(self.bundle_dir)
        self.model.to(self.device).eval()
        self.precision = "fp32"
        if self.device.type == "cuda":
            self.model.half()
            self.precision = "fp16"
        elif self.meta.cpu_precision == "int8":
            self.model = quantize_int8(self.model)
            self.precision = "int8"
        self.lexical = load_lexical(self.bundle_dir) if self.meta.lexical_weight > 0 else None
        traced = traced_forward(self.model, self.tokenizer) if torchscript and self.device.type == "cpu" else None
        self.torchscript = traced is not None
        self.forward: Forward = traced or eager_forward(self.model)

    @property
    def model_id(self) -> str:
        return f"{self.meta.model_name}/{self.meta.model_version}"

    def score_batch(self, texts: list[str]) -> ScoredBatch:
        """Ad score for each already-cleaned text (see handlers.text.model_text).

        The transformer's probability, blended with the lexical component's when the bundle has one.
        """
        if not texts:
            return ScoredBatch([], 0)
        return self.with_lexical(texts, self.model_scores(texts))

    def with_lexical(self, texts: list[str], scored: ScoredBatch) -> ScoredBatch:
        """Blend the lexical component into the transformer's scores of the same texts, if the bundle has one."""
        if self.lexical is None:
            return scored
        lexical = lexical_scores(self.lexical, texts)
        return ScoredBatch(blend(scored.scores, lexical, self.meta.lexical_weight).tolist(), scored.tokens)

    def model_scores(self, texts: list[str]) -> ScoredBatch:
        """The transformer's ad probability for each already-cleaned text, without any blend."""
        return model_scores(
            self.forward, self.tokenizer, texts, self.meta, self.micro_batch, self.padding_slack, self.device
        )

    def score_texts(self, texts: list[str]) -> list[float]:
        return self.score_batch(texts).scores

    def evidence(self, text: str, top: int = 5) -> list[Evidence]:
        """The n-grams of a cleaned text that pushed its ad score up (none without a lexical component)."""
        return lexical_evidence(self.lexical, text, top) if self.lexical is not None else []

    def label(self, score: float) -> str:
        return AD if score >= self.meta.threshold else NORMAL

    def predict_posts(self, posts: list[tuple[str | None, str]]) -> list[Prediction]:
        """Clean (title, body) pairs and classify them; raises on empty or oversized input."""
        scores = self.score_texts([model_text(title, body) for title, body in posts])
        return [Prediction(self.label(s), s, self.meta.threshold) for s in scores]
