"""Encoding and CPU precision of the one inference path, on a really trained tiny bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from handlers.classifier import AdClassifier, encode_texts, plan_micro_batches
from handlers.text import model_text

LONG = model_text("", "시작하는 문장입니다 " + "가운데 내용이 길게 이어집니다 " * 200 + "마지막 문의는 디엠 주세요")


@pytest.fixture(scope="module")
def classifier(tiny_bundle: Path) -> AdClassifier:
    return AdClassifier(tiny_bundle)


def test_head_truncation_keeps_the_start(classifier: AdClassifier) -> None:
    tok = classifier.tokenizer
    batch = encode_texts(tok, [LONG, "짧은 글"], 64, "head")
    assert batch["input_ids"].shape == (2, 64)
    full = tok(LONG, add_special_tokens=False)["input_ids"]
    assert batch["input_ids"][0, 1:63].tolist() == full[:62]


def test_head_tail_keeps_start_and_end_and_pads_to_the_longest(classifier: AdClassifier) -> None:
    tok = classifier.tokenizer
    batch = encode_texts(tok, [LONG, "짧은 글"], 64, "head_tail")
    full = tok(LONG, add_special_tokens=False)["input_ids"]
    ids = batch["input_ids"][0].tolist()
    assert len(ids) == 64 and ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert ids[1:32] == full[:31] and ids[32:63] == full[-31:]
    short = tok("짧은 글")["input_ids"]
    assert batch["attention_mask"][1].sum() == len(short) and batch["input_ids"][1, : len(short)].tolist() == short
    # Posts within the budget are encoded exactly as head truncation encodes them.
    same = encode_texts(tok, ["짧은 글", "조금 더 긴 글입니다"], 64, "head_tail")
    assert torch.equal(same["input_ids"], encode_texts(tok, ["짧은 글", "조금 더 긴 글입니다"], 64)["input_ids"])


def test_unknown_truncation_is_refused(classifier: AdClassifier) -> None:
    with pytest.raises(ValueError, match="truncation"):
        encode_texts(classifier.tokenizer, ["글"], 64, "middle")


def test_int8_quantizes_linear_layers_and_keeps_scores_close(tiny_bundle: Path, classifier: AdClassifier) -> None:
    int8 = AdClassifier(tiny_bundle, precision="int8")
    assert int8.precision == "int8" and classifier.precision == "fp32"
    quantized = [m for m in int8.model.modules() if "quantized" in type(m).__module__]
    assert quantized, "no Linear layer was quantized"
    texts = [model_text("", t) for t in ("오늘 산책 다녀왔어요", "특가 세일 문의 주세요 010-1234-5678", LONG)]
    fp32_scores, int8_scores = classifier.score_texts(texts), int8.score_texts(texts)
    assert max(abs(a - b) for a, b in zip(fp32_scores, int8_scores, strict=True)) < 0.05


def test_precision_must_be_known(tiny_bundle: Path) -> None:
    with pytest.raises(ValueError, match="precision"):
        AdClassifier(tiny_bundle, precision="fp8")


@pytest.mark.parametrize(
    ("lengths", "max_size", "slack", "expected"),
    [
        ([10, 10, 10], 16, 0.1, [[0, 1, 2]]),  # equal lengths: no padding, one pass
        ([100, 10, 105], 16, 0.1, [[1], [0, 2]]),  # 10 with 100 would be mostly padding
        ([50, 50, 50, 50, 50], 2, 0.1, [[0, 1], [2, 3], [4]]),  # at most max_size per pass
        ([10, 30, 20], 16, 0.0, [[0], [2], [1]]),  # no slack: only equal lengths share a pass
        ([10, 30, 20], 16, 10.0, [[0, 2, 1]]),  # large slack (GPU): one pass, shortest first
        ([], 16, 0.1, []),
    ],
)
def test_micro_batches_limit_padding(lengths, max_size, slack, expected) -> None:
    groups = plan_micro_batches(lengths, max_size, slack)
    assert groups == expected
    for group in groups:
        longest = max(lengths[i] for i in group)
        assert len(group) * longest <= (1 + slack) * sum(lengths[i] for i in group)


def test_scores_do_not_depend_on_batch_company(tiny_bundle: Path) -> None:
    """A post's score is the same alone, in a padded batch and in padding-aware micro-batches."""
    texts = [model_text("", t) for t in ("짧은 글", "특가 세일 문의 주세요 010-1234-5678 " * 5, LONG, "산책")]
    alone = [AdClassifier(tiny_bundle).score_texts([t])[0] for t in texts]
    for micro, slack in ((16, 100.0), (16, 0.1), (1, 0.0)):
        together = AdClassifier(tiny_bundle, micro_batch=micro, padding_slack=slack).score_batch(texts)
        assert together.scores == pytest.approx(alone, abs=1e-5)
        cut = AdClassifier(tiny_bundle)
        ids = cut.tokenizer(texts, truncation=True, max_length=cut.meta.max_length)["input_ids"]
        assert together.tokens == sum(len(x) for x in ids)
