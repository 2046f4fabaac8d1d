"""Warm start: the models and indexes load while the web app starts, not at the first question.

Loading the embedding model, opening Chroma, building the reader and making the first
(slow) calls of each took 8–12 s, and used to fall on the first visitor's question.
`WarmStart.start` does it in a background thread as soon as the app starts; the page is
served meanwhile, and a question asked before the end waits for it (the chat says
"chargement…"). `on_ready` is called once everything is loaded and the server listens.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from bot.answering import warm_up
from bot.answering.generate import chat_model
from kb.settings import Settings
from kb.store import KnowledgeBase

log = logging.getLogger(__name__)


class WarmStart:
    """The loading of one app's models and indexes, and whether it is over."""

    def __init__(self, settings: Settings, store: KnowledgeBase) -> None:
        self.settings, self.store = settings, store
        self._done = threading.Event()
        self.seconds: float | None = None

    @property
    def ready(self) -> bool:
        """Is everything loaded (or was there nothing to load)?"""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything is loaded (at most `timeout` seconds); True when it is."""
        return self._done.wait(timeout)

    def start(self, on_ready: Callable[[float], None] | None = None) -> threading.Thread:
        """Load in a background thread; then call `on_ready(seconds spent loading)`."""
        thread = threading.Thread(target=self.run, args=(on_ready,), name="warm-start", daemon=True)
        thread.start()
        return thread

    def run(self, on_ready: Callable[[float], None] | None = None) -> None:
        """Load everything now (see `bot.answering.warm_up`); a failure is logged, never raised:
        the first question then loads what is missing, or says what is wrong."""
        started = time.perf_counter()
        try:
            if not self.settings.warm_start:
                log.info("warm start off (PASSERELLE_WARM_START=0): models load at the first question")
            elif self.store.exists and self.store.chunk_count() > 0:
                chat_model(self.settings)
                warm_up(self.store)
                log.info("warm start done seconds=%.1f", time.perf_counter() - started)
        except Exception:  # noqa: BLE001 — the app must still serve its pages
            log.exception("warm start failed: models will load at the first question")
        finally:
            self.seconds = time.perf_counter() - started
            self._done.set()
        if on_ready is not None:
            on_ready(self.seconds)


def wait_until_listening(host: str, port: int, seconds: float = 600.0) -> bool:
    """Wait until something accepts connections on `host`:`port` (0.0.0.0 is tried on the
    loopback address); False when `seconds` pass first."""
    address = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False
