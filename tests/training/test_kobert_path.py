"""The KoBERT path end to end without weights: tokenize → one train step → save → load → same logits."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from handlers.tokenization import KoBertTokenizer, load_tokenizer

pytestmark = pytest.mark.slow  # trains a KoBERT-shaped model: not part of make test-fast

POSTS = [
    ("공구 오픈! 가격 문의는 DM 주세요", 1),
    ("내돈내산 운동화 후기, 발이 편해요 ㅎㅎ", 0),
    ("선착순 100명 1+1 이벤트 진행중입니다", 1),
    ("오늘 비가 와서 집에서 책 읽었어요.", 0),
]
MAX_LENGTH = 64


def kobert_config() -> BertConfig:
    """KoBERT-base's architecture (skt/kobert-base-v1) with a 2-way classification head."""
    return BertConfig(
        vocab_size=8002,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
        type_vocab_size=2,
        pad_token_id=1,
        num_labels=2,
    )


def test_kobert_train_step_save_load(kobert_files: tuple[Path, Path], tmp_path: Path) -> None:
    torch.manual_seed(0)
    tokenizer = KoBertTokenizer(*kobert_files)
    texts = [text for text, _ in POSTS]
    batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    labels = torch.tensor([label for _, label in POSTS])
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}
    assert batch["input_ids"].shape[1] <= MAX_LENGTH
    assert int(batch["input_ids"].max()) < 8002
    assert (batch["input_ids"][:, 0] == 2).all()
    assert (batch["input_ids"][batch["attention_mask"] == 0] == 1).all()

    model = BertForSequenceClassification(kobert_config())
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert model.config.vocab_size == len(tokenizer)

    # One optimizer step.
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    before = {
        "classifier": model.classifier.weight.detach().clone(),
        "embeddings": model.bert.embeddings.word_embeddings.weight.detach().clone(),
    }
    output = model(**batch, labels=labels)
    assert math.isfinite(output.loss.item())
    output.loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    assert not torch.equal(model.classifier.weight, before["classifier"])
    used = batch["input_ids"].unique()
    assert not torch.equal(model.bert.embeddings.word_embeddings.weight[used], before["embeddings"][used])

    # Save model and tokenizer together, load them back, compare logits.
    model.eval()
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (len(POSTS), 2) and torch.isfinite(logits).all()

    out_dir = tmp_path / "kobert-ads"
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)

    loaded_tokenizer = load_tokenizer(out_dir)
    assert isinstance(loaded_tokenizer, KoBertTokenizer)
    loaded_batch = loaded_tokenizer(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    for key, value in batch.items():
        assert torch.equal(loaded_batch[key], value), key

    loaded_model = BertForSequenceClassification.from_pretrained(out_dir)
    loaded_model.eval()
    with torch.no_grad():
        loaded_logits = loaded_model(**loaded_batch).logits
    assert torch.equal(loaded_logits, logits)
