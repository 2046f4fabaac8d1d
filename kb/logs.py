"""Logging set-up shared by the command-line tools and the web app."""

from __future__ import annotations

import logging
import sys

# Libraries that narrate every model load or HTTP call at INFO level.
_CHATTY = ("sentence_transformers", "httpx", "chromadb", "urllib3", "transformers")


def configure_logging(level: str | int = "INFO") -> None:
    """Log `key=value` lines to stderr at `level`; chatty libraries only warn."""
    if isinstance(level, str):
        level = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
