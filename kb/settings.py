"""One frozen settings object, built once from `PASSERELLE_*` variables and CLI flags.

This is the only module that reads the environment. Everything else receives a
`Settings` instance explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "multilingual-e5-small"
PRECISIONS = ("auto", "fp32", "bf16")
# Passerelle is sovereign and offline: no hub look-ups, no telemetry.
OFFLINE_DEFAULTS = (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("HF_HUB_DISABLE_TELEMETRY", "1"),
    ("GRADIO_ANALYTICS_ENABLED", "False"),
    ("ANONYMIZED_TELEMETRY", "False"),
    ("TOKENIZERS_PARALLELISM", "false"),
)


def offline_environment() -> None:
    """Set the offline, no-telemetry environment variables of `OFFLINE_DEFAULTS` in this process.

    Every entry point calls this first, before transformers, huggingface_hub, chromadb or gradio
    are imported (they read these variables at import time). A variable the operator already set
    keeps its value.
    """
    for name, value in OFFLINE_DEFAULTS:
        os.environ.setdefault(name, value)


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    """Configuration of one Passerelle process.

    Every field maps to an environment variable `PASSERELLE_<FIELD>` (upper case);
    CLI flags override them through `Settings.from_env(**overrides)`.
    """

    store: Path = Path("data")
    """Folder of the knowledge base: the catalog (SQLite) and, when embedded, Chroma."""
    corpus: Path = Path("corpus")
    """Folder ingested when no path is given."""
    embedding_model: str = str(DEFAULT_MODEL_DIR)
    """Sentence-transformers model name or folder used for dense vectors."""
    embedding_precision: str = "auto"
    """auto (bf16 where the CPU supports it natively), fp32 or bf16."""
    embedding_batch_size: int = 32
    """Passages embedded per batch during ingestion."""
    chroma_host: str | None = None
    """Chroma server host; when unset, Chroma is embedded under `store`."""
    chroma_port: int = 8000
    """Chroma server port, used with `chroma_host`."""
    chroma_token: str | None = dataclass_field(default=None, repr=False)  # out of repr: a secret
    """Token sent to the Chroma server (its token authentication); unset: no token."""
    chroma_timeout_s: float = 10.0
    """Seconds a request to the Chroma server may take (to connect, or between two bytes of its
    reply) before it counts as unreachable: a server that hangs fails the answer cleanly."""
    database_url: str | None = dataclass_field(default=None, repr=False)  # out of repr: it holds a password
    """postgresql://user:password@host:port/db of a shared catalog (documents, passages, users,
    feedback); unset: SQLite files under `store`, nothing to install."""
    collection: str = "passerelle"
    """Name of the Chroma collection."""
    chunk_size: int = 1000
    """Target chunk length in characters."""
    chunk_overlap: int = 150
    """Characters (whole sentences) repeated at the start of the next chunk."""
    max_file_mb: float = 20.0
    """Files larger than this are reported and skipped."""
    ocr_languages: str = "fra+eng"
    """Tesseract languages scanned PDF pages are read in (installed tessdata names joined by +)."""
    ocr_min_confidence: float = 50.0
    """Mean word confidence (0-100) a page read by OCR needs to be indexed; under it the page is
    reported and left out."""
    ocr_max_seconds: float = 900.0
    """Seconds one file may spend on OCR in a run; past them the file is reported and the next run
    goes on from the pages already read (kept under the store's ocr-cache/)."""
    host: str = "127.0.0.1"
    """Address the web app listens on."""
    port: int = 7860
    """Port the web app listens on."""
    log_level: str = "INFO"
    """Logging level of the command-line tools."""
    allow_upload: bool = False
    """Let the web app's documents tab ingest uploaded files (without logins: anyone on the page)."""
    reader: bool = True
    """The trained reader and the calibrator choose the quotes and the outcome; 0 brings back the
    previous sentence scorer (an escape hatch for one release, see README)."""
    reader_cache: bool = True
    """The reader remembers the logits of the last 4,096 (question, unit) pairs it read, so a
    question asked again on unchanged documents is not read again; 0 reads every time."""
    reader_first: int = 8
    """The reader reads the answer units this many at a time, best-preranked first, and stops
    once one is clearly an answer (`AnswerConfig.reader_clear`); 0 reads all of them at once.
    Not 4: it saves CPU, but the calibrator, judging from the few units read, then answers
    near misses it declines when it sees all 8 (README, *What to expect*)."""
    answer_threads: int = 0
    """CPU threads one answer's models use when it runs alone (0: every CPU this process may use);
    answers running at once share them, at least one thread each (`bot.answering.cores`)."""
    llm_url: str | None = None
    """OpenAI-compatible endpoint (…/v1) of the deployment's LLM server; unset: quoted answers only."""
    llm_model: str = "default"
    """Model name sent to the LLM server (llama.cpp serves its one model whatever the name)."""
    llm_timeout_s: float = 60.0
    """Seconds the LLM server has to finish an answer before the quoted answer is given instead."""
    login_free_failures: int = 5
    """Wrong passwords a user name may give before each further try waits (1 s, 2 s, 4 s...);
    a client address may give four times as many, over all names."""
    login_lockout_s: float = 900.0
    """The longest wait between two tries once throttled, and how long failures are remembered."""
    export_keep_s: float = 600.0
    """Seconds a CSV export stays on the server (it is also removed when the app stops)."""
    warm_start: bool = True
    """The web app loads its models and indexes as it starts (0: at the first question)."""
    ingest_nice: int = 10
    """`python -m ingest` lowers its CPU priority by this much (0-19, the `nice` scale), so that an
    app server on the same machine answers at full speed while it runs (0: no change)."""

    def __post_init__(self) -> None:
        if self.embedding_precision not in PRECISIONS:
            raise SettingsError(
                f"PASSERELLE_EMBEDDING_PRECISION={self.embedding_precision!r}: "
                f"choose one of {', '.join(PRECISIONS)}"
            )
        if self.reader_first < 0:
            raise SettingsError("PASSERELLE_READER_FIRST must be 0 (read every unit at once) or more")
        if self.answer_threads < 0:
            raise SettingsError("PASSERELLE_ANSWER_THREADS must be 0 (every CPU) or more")
        if not 0 <= self.ingest_nice <= 19:
            raise SettingsError("PASSERELLE_INGEST_NICE must be between 0 (no change) and 19 (lowest priority)")
        if self.chunk_size < 200:
            raise SettingsError("PASSERELLE_CHUNK_SIZE must be at least 200 characters")
        if not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise SettingsError(
                "PASSERELLE_CHUNK_OVERLAP must be at least 0 and less than half of PASSERELLE_CHUNK_SIZE"
            )
        if self.max_file_mb <= 0:
            raise SettingsError("PASSERELLE_MAX_FILE_MB must be positive")
        if self.embedding_batch_size < 1:
            raise SettingsError("PASSERELLE_EMBEDDING_BATCH_SIZE must be at least 1")
        self._check_addresses()
        if self.llm_timeout_s <= 0 or self.chroma_timeout_s <= 0:
            raise SettingsError("PASSERELLE_LLM_TIMEOUT_S and PASSERELLE_CHROMA_TIMEOUT_S must be positive")
        if self.login_free_failures < 1 or self.login_lockout_s <= 0:
            raise SettingsError("PASSERELLE_LOGIN_FREE_FAILURES must be at least 1 and "
                                "PASSERELLE_LOGIN_LOCKOUT_S positive")
        if self.export_keep_s <= 0:
            raise SettingsError("PASSERELLE_EXPORT_KEEP_S must be positive")
        self._check_ranges()

    def _check_ranges(self) -> None:
        """The ports and OCR limits (apart: __post_init__ stays under the complexity limit)."""
        for name in ("chroma_port", "port"):
            if not 0 < getattr(self, name) < 65536:
                raise SettingsError(f"PASSERELLE_{name.upper()} must be a port number (1-65535)")
        if not 0 <= self.ocr_min_confidence <= 100 or self.ocr_max_seconds <= 0:
            raise SettingsError("PASSERELLE_OCR_MIN_CONFIDENCE must be between 0 and 100 and "
                                "PASSERELLE_OCR_MAX_SECONDS positive")

    def _check_addresses(self) -> None:
        """The servers' addresses: an http(s) LLM endpoint, a postgresql:// database."""
        if self.llm_url is not None and not self.llm_url.startswith(("http://", "https://")):
            raise SettingsError(f"PASSERELLE_LLM_URL={self.llm_url!r}: give an http(s) address ending in /v1")
        if self.database_url is not None and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError(f"PASSERELLE_DATABASE_URL must start with postgresql:// (got {self.database_url.split(':')[0]}:…)")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from `env` (default: the process environment), then `overrides`.

        Overrides whose value is None are ignored, so CLI flags left unset fall back
        to the environment and then to the defaults.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(f"PASSERELLE_{field.name.upper()}")
            if raw is not None and raw.strip() != "":
                values[field.name] = _convert(field.name, field.type, raw.strip())
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
        for name in ("store", "corpus"):
            if name in values:
                values[name] = Path(values[name])
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> "Settings":
        """A copy with some fields replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def uses_database_server(self) -> bool:
        """True when the catalog, users and feedback live in PostgreSQL rather than under `store`."""
        return bool(self.database_url)

    @property
    def uses_chroma_server(self) -> bool:
        """True when vectors live in a Chroma server rather than under `store`."""
        return bool(self.chroma_host)


def _convert(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    if kind.startswith("bool"):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"PASSERELLE_{name.upper()}={raw!r}: use 1 or 0")
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        raise SettingsError(f"PASSERELLE_{name.upper()}={raw!r} is not a number") from None
    return raw
