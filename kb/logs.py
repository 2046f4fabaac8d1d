"""Logging set-up shared by the command-line tools and the web app."""

from __future__ import annotations

import logging
import re
import sys

# Libraries that narrate every model load or HTTP call at INFO level.
_CHATTY = ("sentence_transformers", "httpx", "chromadb", "urllib3", "transformers")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def loggable(text: object, limit: int = 200) -> str:
    """`text` (a user name, a question) safe to write in one log line: control characters
    escaped (a name holding a newline cannot forge a second line), at most `limit` characters."""
    value = str(text)
    shown = _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), value[:limit])
    return shown + ("…" if len(value) > limit else "")


class OneLineFormatter(logging.Formatter):
    """Each record is one line: control characters in the message are escaped (tracebacks,
    appended after the message, keep their lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 — logging's name
        return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"),
                            super().formatMessage(record))


def configure_logging(level: str | int = "INFO") -> None:
    """Log `key=value` lines to stderr at `level`; chatty libraries only warn."""
    if isinstance(level, str):
        level = getattr(logging, level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter("%(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
