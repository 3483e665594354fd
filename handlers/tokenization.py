"""KoBERT's tokenizer for transformers 5, and a loader that picks it for saved KoBERT directories.

KoBERT (``skt/kobert-base-v1``) pairs a SentencePiece model (8,000 pieces, ``nmt_nfkc``) with a
gluonnlp vocabulary of 8,002 tokens: ids 0-4 are ``[UNK] [PAD] [CLS] [SEP] [MASK]`` and the rest are
the SentencePiece pieces in sorted order (SentencePiece's own ``<unk> <s> </s>`` are left out). The
SentencePiece ids therefore do not match the model's ids; pieces are mapped by their string, and a
piece the vocabulary lacks becomes ``[UNK]``. Inputs are framed BERT-style: ``[CLS] a [SEP]`` or
``[CLS] a [SEP] b [SEP]`` with token type ids 0 for the first segment and 1 for the second.

This module is packaged into the TorchServe model archive, so it imports only the standard library,
sentencepiece and transformers, and does nothing at import time.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

import sentencepiece as spm
from transformers import AutoTokenizer, PreTrainedTokenizer, PreTrainedTokenizerBase

__all__ = ["KOBERT_SPECIAL_TOKENS", "VOCAB_FILES_NAMES", "KoBertTokenizer", "load_tokenizer", "read_vocab"]

# File names used by save_pretrained. They must not contain "tokenizer.model": transformers 5 scans a
# folder without tokenizer.json for that name and would reroute ``vocab_file`` to it.
VOCAB_FILES_NAMES = {"sp_model_file": "kobert_spiece.model", "vocab_file": "kobert_vocab.json"}

# KoBERT's special tokens, in vocabulary order (ids 0-4).
KOBERT_SPECIAL_TOKENS = ("[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]")

SPIECE_UNDERLINE = "▁"


def read_vocab(path: str | os.PathLike[str]) -> list[str]:
    """Read a vocabulary as a list indexed by id.

    Accepts KoBERT's gluonnlp JSON (``idx_to_token`` and/or ``token_to_idx``) or plain text with one
    token per line (line number = id).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() != ".json" and not text.lstrip().startswith("{"):
        return text.rstrip("\n").split("\n") if text.strip() else []
    data = json.loads(text)
    if not isinstance(data, dict) or not ({"idx_to_token", "token_to_idx"} & data.keys()):
        raise ValueError(f"{path}: expected a KoBERT vocabulary with 'idx_to_token' or 'token_to_idx'")
    idx_to_token = data.get("idx_to_token")
    token_to_idx = data.get("token_to_idx")
    if idx_to_token is None:
        idx_to_token = [None] * len(token_to_idx)
        for token, index in token_to_idx.items():
            if not 0 <= index < len(idx_to_token) or idx_to_token[index] is not None:
                raise ValueError(f"{path}: token_to_idx ids are not a permutation of 0..{len(token_to_idx) - 1}")
            idx_to_token[index] = token
    elif token_to_idx is not None and any(token_to_idx.get(token) != index for index, token in enumerate(idx_to_token)):
        raise ValueError(f"{path}: idx_to_token and token_to_idx disagree")
    return list(idx_to_token)


class KoBertTokenizer(PreTrainedTokenizer):
    """KoBERT tokenizer: SentencePiece pieces mapped by string onto KoBERT's 8,002-token vocabulary.

    Args:
        sp_model_file: KoBERT's SentencePiece model (``tokenizer_78b3253a26.model``).
        vocab_file: KoBERT's vocabulary, gluonnlp JSON (``kobertvocab_*.json``) or one token per line.
        sp_model_kwargs: passed to ``sentencepiece.SentencePieceProcessor`` (e.g. subword sampling).
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names: ClassVar[list[str]] = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(
        self,
        sp_model_file: str | os.PathLike[str],
        vocab_file: str | os.PathLike[str],
        unk_token: str = "[UNK]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        sep_token: str = "[SEP]",
        mask_token: str = "[MASK]",
        sp_model_kwargs: dict[str, Any] | None = None,
        model_max_length: int = 512,
        **kwargs: Any,
    ) -> None:
        self.sp_model_file = str(sp_model_file)
        self.vocab_file = str(vocab_file)
        self.sp_model_kwargs = dict(sp_model_kwargs or {})
        self.sp_model = spm.SentencePieceProcessor(**self.sp_model_kwargs)
        self.sp_model.Load(self.sp_model_file)
        self.idx_to_token = read_vocab(self.vocab_file)
        self.token_to_idx = {token: index for index, token in enumerate(self.idx_to_token)}
        if len(self.token_to_idx) != len(self.idx_to_token):
            raise ValueError(f"{self.vocab_file}: duplicate tokens in the vocabulary")
        for token in (unk_token, pad_token, cls_token, sep_token, mask_token):
            if str(token) not in self.token_to_idx:
                raise ValueError(f"{self.vocab_file}: special token {token!s} is not in the vocabulary")
        self._unk_index = self.token_to_idx[str(unk_token)]
        # from_pretrained passes these loader flags to __init__; keep them out of the saved config.
        kwargs.pop("is_local", None)
        kwargs.pop("local_files_only", None)
        super().__init__(
            unk_token=unk_token,
            pad_token=pad_token,
            cls_token=cls_token,
            sep_token=sep_token,
            mask_token=mask_token,
            sp_model_kwargs=self.sp_model_kwargs,
            model_max_length=model_max_length,
            token_type_ids_pattern="bert_style",
            special_tokens_pattern="cls_sep",
            **kwargs,
        )

    # --- vocabulary -------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary (8,002 for KoBERT), without added tokens."""
        return len(self.idx_to_token)

    def get_vocab(self) -> dict[str, int]:
        """Token → id for the base vocabulary plus any added tokens."""
        vocab = dict(self.token_to_idx)
        vocab.update(self._added_tokens_encoder)
        return vocab

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        """Split text into SentencePiece pieces (the model applies NFKC normalization itself)."""
        return self.sp_model.encode(text, out_type=str)

    def _convert_token_to_id(self, token: str) -> int:
        """Piece → KoBERT id by string; pieces outside the vocabulary map to ``[UNK]``."""
        return self.token_to_idx.get(token, self._unk_index)

    def _convert_id_to_token(self, index: int) -> str:
        """KoBERT id → token; out-of-range ids map to ``[UNK]``."""
        if 0 <= index < len(self.idx_to_token):
            return self.idx_to_token[index]
        return str(self.unk_token)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Join pieces back into text (``▁`` marks a word start); special tokens stay space-separated."""
        special = set(self.all_special_tokens)
        parts: list[str] = []
        pieces: list[str] = []

        def flush() -> None:
            text = "".join(pieces).replace(SPIECE_UNDERLINE, " ").strip()
            if text:
                parts.append(text)
            pieces.clear()

        for token in tokens:
            if token in special:
                flush()
                parts.append(token)
            else:
                pieces.append(token)
        flush()
        return " ".join(parts)

    # --- BERT framing -------------------------------------------------------------------------

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """``[CLS] a [SEP]`` or ``[CLS] a [SEP] b [SEP]``."""
        cls, sep = [self.cls_token_id], [self.sep_token_id]
        if token_ids_1 is None:
            return cls + list(token_ids_0) + sep
        return cls + list(token_ids_0) + sep + list(token_ids_1) + sep

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """0 over ``[CLS] a [SEP]``, 1 over ``b [SEP]``."""
        first = [0] * (len(token_ids_0) + 2)
        if token_ids_1 is None:
            return first
        return first + [1] * (len(token_ids_1) + 1)

    def get_special_tokens_mask(
        self,
        token_ids_0: list[int],
        token_ids_1: list[int] | None = None,
        already_has_special_tokens: bool = False,
    ) -> list[int]:
        """1 where ``build_inputs_with_special_tokens`` puts a special token, 0 over text tokens."""
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, already_has_special_tokens=True)
        mask = [1] + [0] * len(token_ids_0) + [1]
        if token_ids_1 is not None:
            mask += [0] * len(token_ids_1) + [1]
        return mask

    # --- persistence --------------------------------------------------------------------------

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """Write the SentencePiece model and the vocabulary (KoBERT JSON format) into ``save_directory``."""
        if not os.path.isdir(save_directory):
            raise NotADirectoryError(f"Vocabulary path ({save_directory}) should be a directory")
        prefix = f"{filename_prefix}-" if filename_prefix else ""
        sp_out = Path(save_directory, prefix + VOCAB_FILES_NAMES["sp_model_file"])
        vocab_out = Path(save_directory, prefix + VOCAB_FILES_NAMES["vocab_file"])

        source = Path(self.sp_model_file)
        if source.is_file():
            if not sp_out.exists() or not sp_out.samefile(source):
                shutil.copyfile(source, sp_out)
        else:
            sp_out.write_bytes(self.sp_model.serialized_model_proto())

        vocab = {"idx_to_token": self.idx_to_token, "token_to_idx": self.token_to_idx}
        vocab_out.write_text(json.dumps(vocab, ensure_ascii=False) + "\n", encoding="utf-8")
        return str(sp_out), str(vocab_out)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the SentencePiece processor; keep its serialized model instead."""
        state = self.__dict__.copy()
        state["sp_model"] = None
        state["_sp_model_proto"] = self.sp_model.serialized_model_proto()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the SentencePiece processor from the serialized model."""
        proto = state.pop("_sp_model_proto")
        self.__dict__.update(state)
        self.sp_model = spm.SentencePieceProcessor(**self.sp_model_kwargs)
        self.sp_model.LoadFromSerializedProto(proto)


def load_tokenizer(directory: str | Path) -> PreTrainedTokenizerBase:
    """Load the tokenizer saved in ``directory``, offline.

    Uses ``KoBertTokenizer`` when ``tokenizer_config.json`` names it, else ``AutoTokenizer``. Never
    contacts the Hub and never needs ``trust_remote_code``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"Tokenizer directory not found: {directory}")
    config_path = directory / "tokenizer_config.json"
    tokenizer_class = None
    if config_path.is_file():
        tokenizer_class = json.loads(config_path.read_text(encoding="utf-8")).get("tokenizer_class")
    if tokenizer_class == KoBertTokenizer.__name__:
        return KoBertTokenizer.from_pretrained(str(directory), local_files_only=True)
    return AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
