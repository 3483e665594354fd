"""KoBertTokenizer against KoBERT's own SentencePiece model and vocabulary (from ../shared/kobert)."""

from __future__ import annotations

import json
import pickle
import socket
import unicodedata
from pathlib import Path

import pytest
import sentencepiece as spm

from handlers.tokenization import KoBertTokenizer, load_tokenizer

SENTENCES = [
    "한국어 모델을 공유합니다.",
    "오늘 새로 산 운동화 후기 남겨요. 발이 정말 편하고 가볍네요!",
    "공구 진행합니다~ 가격 문의는 DM 주세요 010-1234-5678",
    "협찬 아니고 내돈내산 솔직 후기입니다 ㅎㅎ #맛집 #서울",
    "1+1 이벤트 진행중!! 선착순 100명 한정, 지금 바로 구매하세요",
]
# The one public known answer: SKT's KoBERT README encodes this sentence with skt/kobert-base-v1.
README_SENTENCE = "한국어 모델을 공유합니다."
README_IDS = [2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]


@pytest.fixture(scope="module")
def sp(kobert_files: tuple[Path, Path]) -> spm.SentencePieceProcessor:
    """KoBERT's SentencePiece model, loaded directly (the independent reference)."""
    return spm.SentencePieceProcessor(model_file=str(kobert_files[0]))


@pytest.fixture(scope="module")
def token_to_idx(kobert_files: tuple[Path, Path]) -> dict[str, int]:
    """KoBERT's vocabulary as stored in the gluonnlp JSON."""
    return json.loads(kobert_files[1].read_text(encoding="utf-8"))["token_to_idx"]


@pytest.fixture(scope="module")
def tokenizer(kobert_files: tuple[Path, Path]) -> KoBertTokenizer:
    """KoBertTokenizer built from KoBERT's files."""
    model_path, vocab_path = kobert_files
    return KoBertTokenizer(model_path, vocab_path)


def expected_ids(text: str, sp: spm.SentencePieceProcessor, token_to_idx: dict[str, int]) -> list[int]:
    """``[CLS] pieces [SEP]`` computed with sentencepiece and the JSON vocabulary alone."""
    body = [token_to_idx.get(piece, token_to_idx["[UNK]"]) for piece in sp.encode(text, out_type=str)]
    return [token_to_idx["[CLS]"], *body, token_to_idx["[SEP]"]]


def test_vocab_size_and_special_ids(tokenizer: KoBertTokenizer) -> None:
    assert tokenizer.vocab_size == 8002
    assert len(tokenizer) == 8002
    assert len(tokenizer.get_vocab()) == 8002
    assert tokenizer.unk_token_id == 0
    assert tokenizer.pad_token_id == 1
    assert tokenizer.cls_token_id == 2
    assert tokenizer.sep_token_id == 3
    assert tokenizer.mask_token_id == 4
    assert tokenizer.convert_ids_to_tokens([0, 1, 2, 3, 4]) == ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]
    assert sorted(tokenizer.all_special_ids) == [0, 1, 2, 3, 4]


def test_known_answer_from_kobert_readme(tokenizer: KoBertTokenizer) -> None:
    assert tokenizer.encode(README_SENTENCE) == README_IDS


def test_cls_sep_framing(tokenizer: KoBertTokenizer) -> None:
    enc = tokenizer("광고 문의 주세요")
    ids = enc["input_ids"]
    assert ids[0] == 2 and ids[-1] == 3
    assert 2 not in ids[1:-1] and 3 not in ids[1:-1]
    assert enc["token_type_ids"] == [0] * len(ids)
    assert enc["attention_mask"] == [1] * len(ids)
    assert tokenizer.build_inputs_with_special_tokens([10, 11]) == [2, 10, 11, 3]
    assert tokenizer.get_special_tokens_mask([10, 11]) == [1, 0, 0, 1]
    assert tokenizer.encode("광고 문의 주세요", add_special_tokens=False) == ids[1:-1]


@pytest.mark.parametrize("text", SENTENCES)
def test_ids_match_sentencepiece_pieces_mapped_by_string(
    tokenizer: KoBertTokenizer, sp: spm.SentencePieceProcessor, token_to_idx: dict[str, int], text: str
) -> None:
    assert tokenizer.tokenize(text) == sp.encode(text, out_type=str)
    assert tokenizer.encode(text) == expected_ids(text, sp, token_to_idx)


def test_sentencepiece_ids_are_not_vocab_ids(sp: spm.SentencePieceProcessor, token_to_idx: dict[str, int]) -> None:
    """Guards the trap: SentencePiece's own ids (or ids + 5) are not KoBERT's ids."""
    pieces = sp.encode(README_SENTENCE, out_type=str)
    sp_ids = sp.encode(README_SENTENCE)
    vocab_ids = [token_to_idx[p] for p in pieces]
    assert vocab_ids != sp_ids
    assert vocab_ids != [i + 5 for i in sp_ids]


def test_unknown_pieces_map_to_unk(tokenizer: KoBertTokenizer, sp: spm.SentencePieceProcessor) -> None:
    # SentencePiece passes a character it does not know through as its own piece (sp id 0 = <unk>).
    pieces = sp.encode("좋아요 😀", out_type=str)
    assert "😀" in pieces and sp.piece_to_id("😀") == sp.unk_id()
    ids = tokenizer.encode("좋아요 😀", add_special_tokens=False)
    assert ids[pieces.index("😀")] == 0
    assert tokenizer.convert_tokens_to_ids("no-such-piece") == 0
    assert tokenizer.convert_tokens_to_ids(["<unk>", "<s>", "</s>"]) == [0, 0, 0]
    assert tokenizer.convert_ids_to_tokens(99_999) == "[UNK]"


def test_nfkc_normalization(tokenizer: KoBertTokenizer) -> None:
    """The SentencePiece model normalizes with NFKC: full-width forms encode like ASCII."""
    assert tokenizer.encode("ＤＭ 주세요") == tokenizer.encode("DM 주세요")
    # Compatibility jamo (ㄱ U+3131 ...) become conjoining jamo: "ㅎㅎ" decodes as "ᄒᄒ" (U+1112), and
    # a spelled-out "ㄱㅏ" composes into the syllable "가".
    assert tokenizer.encode("ㄱㅏ격 문의") == tokenizer.encode("가격 문의")
    assert tokenizer.decode(tokenizer.encode("ㅎㅎ"), skip_special_tokens=True) == "\u1112\u1112"


def test_pair_encoding_and_token_type_ids(tokenizer: KoBertTokenizer) -> None:
    a, b = "이 제품 어때요?", "정말 좋아요"
    ids_a = tokenizer.encode(a, add_special_tokens=False)
    ids_b = tokenizer.encode(b, add_special_tokens=False)
    enc = tokenizer(a, b, return_special_tokens_mask=True)
    assert enc["input_ids"] == [2, *ids_a, 3, *ids_b, 3]
    assert enc["token_type_ids"] == [0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1)
    assert enc["special_tokens_mask"] == [1] + [0] * len(ids_a) + [1] + [0] * len(ids_b) + [1]
    assert tokenizer.create_token_type_ids_from_sequences([7, 8], [9]) == [0, 0, 0, 0, 1, 1]


def test_padding_uses_pad_id_1(tokenizer: KoBertTokenizer) -> None:
    enc = tokenizer("안녕하세요", padding="max_length", max_length=12)
    n = len(tokenizer.encode("안녕하세요"))
    assert len(enc["input_ids"]) == 12
    assert enc["input_ids"][n:] == [1] * (12 - n)
    assert enc["attention_mask"] == [1] * n + [0] * (12 - n)
    assert enc["token_type_ids"][n:] == [0] * (12 - n)


def test_truncation(tokenizer: KoBertTokenizer) -> None:
    long_text = " ".join(SENTENCES * 5)
    full = tokenizer.encode(long_text)
    enc = tokenizer(long_text, truncation=True, max_length=16)
    assert len(enc["input_ids"]) == 16
    assert enc["input_ids"] == [*full[:15], 3]
    pair = tokenizer(long_text, long_text, truncation=True, max_length=20)
    assert len(pair["input_ids"]) == 20 and pair["input_ids"].count(3) == 2
    # Without max_length, truncation stops at KoBERT's 512 positions.
    assert len(tokenizer(long_text * 10, truncation=True)["input_ids"]) == 512


def test_batch_padding_pads_to_longest(tokenizer: KoBertTokenizer) -> None:
    lengths = [len(tokenizer.encode(t)) for t in SENTENCES]
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    assert tuple(batch["input_ids"].shape) == (len(SENTENCES), max(lengths))
    assert batch["attention_mask"].sum(dim=1).tolist() == lengths
    for row, n in zip(batch["input_ids"].tolist(), lengths, strict=True):
        assert row[n - 1] == 3 and row[n:] == [1] * (max(lengths) - n)


@pytest.mark.parametrize("text", SENTENCES)
def test_decode_round_trip(tokenizer: KoBertTokenizer, text: str) -> None:
    """Decoding restores the text up to SentencePiece's NFKC normalization."""
    ids = tokenizer.encode(text)
    normalized = unicodedata.normalize("NFKC", text)
    assert tokenizer.decode(ids, skip_special_tokens=True) == normalized
    assert tokenizer.decode(ids) == f"[CLS] {normalized} [SEP]"


def test_plain_vocab_txt_is_accepted(kobert_files: tuple[Path, Path], tmp_path: Path) -> None:
    model_path, vocab_path = kobert_files
    idx_to_token = json.loads(vocab_path.read_text(encoding="utf-8"))["idx_to_token"]
    vocab_txt = tmp_path / "vocab.txt"
    vocab_txt.write_text("\n".join(idx_to_token) + "\n", encoding="utf-8")
    from_txt = KoBertTokenizer(model_path, vocab_txt)
    assert from_txt.vocab_size == 8002
    assert from_txt.encode(README_SENTENCE) == README_IDS


def test_vocab_without_kobert_specials_is_rejected(kobert_files: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "vocab.txt"
    bad.write_text("<unk>\n<s>\n</s>\n▁한국\n", encoding="utf-8")
    with pytest.raises(ValueError, match="special token"):
        KoBertTokenizer(kobert_files[0], bad)


def test_pickle_round_trip(tokenizer: KoBertTokenizer) -> None:
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert [clone.encode(t) for t in SENTENCES] == [tokenizer.encode(t) for t in SENTENCES]


def test_save_and_load_round_trip_offline(
    tokenizer: KoBertTokenizer, token_to_idx: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokenizer.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "KoBertTokenizer"
    saved_vocab = json.loads((tmp_path / "kobert_vocab.json").read_text(encoding="utf-8"))
    assert saved_vocab["token_to_idx"] == token_to_idx

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tokenizer loading tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    for loaded in (load_tokenizer(tmp_path), KoBertTokenizer.from_pretrained(tmp_path)):
        assert isinstance(loaded, KoBertTokenizer)
        assert len(loaded) == 8002
        assert loaded.model_max_length == 512
        assert [loaded.encode(t) for t in SENTENCES] == [tokenizer.encode(t) for t in SENTENCES]
        pair = ("광고인가요?", "아니요 후기입니다")
        assert loaded(*pair) == tokenizer(*pair)
        assert loaded.decode(loaded.encode(SENTENCES[1]), skip_special_tokens=True) == SENTENCES[1]


def test_load_tokenizer_falls_back_to_auto(tmp_path: Path) -> None:
    """A directory saved by another tokenizer class loads through AutoTokenizer (no ../shared needed)."""
    from transformers import BertTokenizer

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]) + "\n")
    saved = tmp_path / "bert"
    BertTokenizer(str(vocab)).save_pretrained(saved)
    loaded = load_tokenizer(saved)
    assert not isinstance(loaded, KoBertTokenizer)
    assert loaded.encode("hello world") == [2, 5, 6, 3]


def test_load_tokenizer_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_tokenizer(tmp_path / "absent")
