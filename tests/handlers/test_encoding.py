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


MIXED = [
    model_text("", t) for t in ("짧은 글", "특가 세일 문의 주세요 010-1234-5678 " * 5, LONG, "산책", "오늘 날씨 " * 40)
]


def _scores_traced_and_eager(bundle: Path, precision: str) -> tuple[AdClassifier, list[list[float]], list[list[float]]]:
    """Scores of MIXED alone, in one padded pass and in CPU micro-batches, traced and eager."""
    with_trace = AdClassifier(bundle, precision=precision)
    without = AdClassifier(bundle, precision=precision, torchscript=False)
    traced, eager = [], []
    for micro, slack in ((16, 100.0), (16, 0.1), (1, 0.0)):
        for classifier, out in ((with_trace, traced), (without, eager)):
            classifier.micro_batch, classifier.padding_slack = micro, slack
            out.append(classifier.score_texts(MIXED))
    return with_trace, traced, eager


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_torchscript_trace_scores_like_the_eager_model(tiny_bundle: Path, precision: str) -> None:
    """The served CPU path (a TorchScript trace) gives the eager model's scores, whatever the padding."""
    classifier, traced, eager = _scores_traced_and_eager(tiny_bundle, precision)
    assert classifier.torchscript
    for got, want in zip(traced, eager, strict=True):
        assert got == pytest.approx(want, abs=1e-6)
    if precision == "fp32":  # int8 quantizes activations with one scale per batch: mates move scores a little
        assert traced[0] == pytest.approx(traced[2], abs=1e-5)  # padded together == one at a time (mask kept)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_torchscript_trace_of_the_default_backbone(e5_backbone: Path, tmp_path: Path, precision: str) -> None:
    """The default backbone's architecture (XLM-RoBERTa) traces, and scores like the eager model,
    up to posts cut at the bundle's max length."""
    from benchmarks.serving import e5_bundle

    bundle = e5_bundle(tmp_path / "bundle", random_from=e5_backbone)
    classifier, traced, eager = _scores_traced_and_eager(bundle, precision)
    assert classifier.torchscript
    assert len(classifier.tokenizer(LONG)["input_ids"]) > classifier.meta.max_length
    assert max(eager[0]) - min(eager[0]) > 1e-3, "scores must depend on the post for the comparison to mean anything"
    for got, want in zip(traced, eager, strict=True):
        assert got == pytest.approx(want, abs=1e-6)
    if precision == "fp32":  # int8 quantizes activations with one scale per batch: mates move scores a little
        assert traced[0] == pytest.approx(traced[2], abs=1e-5)  # padded together == one at a time (mask kept)


def test_a_trace_that_disagrees_or_fails_falls_back_to_the_eager_model(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    eager = AdClassifier(tiny_bundle, torchscript=False).score_texts(MIXED)

    class Wrong(torch.nn.Module):
        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return torch.zeros(input_ids.shape[0], 2)

    monkeypatch.setattr(torch.jit, "trace", lambda *args, **kwargs: Wrong())
    wrong = AdClassifier(tiny_bundle)
    assert not wrong.torchscript and "differs from the eager model" in caplog.text
    assert wrong.score_texts(MIXED) == pytest.approx(eager, abs=1e-6)

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(torch.jit, "trace", broken)
    failed = AdClassifier(tiny_bundle)
    assert not failed.torchscript and "unsupported operator" in caplog.text
    assert failed.score_texts(MIXED) == pytest.approx(eager, abs=1e-6)
