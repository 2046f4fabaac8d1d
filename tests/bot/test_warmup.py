"""The web app's warm start (bot.warmup): ready once loaded, whatever happens while loading."""

from __future__ import annotations

import logging
import socket
import sys
import threading

import pytest

from bot.warmup import WarmStart, wait_until_listening


def test_an_empty_store_is_ready_at_once(fake_kb) -> None:
    seconds: list[float] = []
    warm = WarmStart(fake_kb.settings, fake_kb)
    warm.start(on_ready=seconds.append).join(timeout=30)
    assert warm.ready and warm.wait(0) and len(seconds) == 1


def test_a_failure_while_loading_is_logged_and_the_app_still_gets_ready(fake_kb, monkeypatch,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    def broken(kb):
        raise OSError("disk unreadable")

    monkeypatch.setattr(sys.modules["bot.warmup"], "warm_up", broken)
    monkeypatch.setattr(type(fake_kb), "chunk_count", lambda self: 3)
    monkeypatch.setattr(type(fake_kb), "exists", property(lambda self: True))
    warm = WarmStart(fake_kb.settings, fake_kb)
    warm.run()
    assert warm.ready
    assert any("warm start failed" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_questions_wait_until_it_is_loaded(fake_kb, monkeypatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(sys.modules["bot.warmup"], "warm_up", lambda kb: release.wait(10))
    monkeypatch.setattr(type(fake_kb), "chunk_count", lambda self: 3)
    monkeypatch.setattr(type(fake_kb), "exists", property(lambda self: True))
    warm = WarmStart(fake_kb.settings, fake_kb)
    warm.start()
    assert not warm.wait(0.2) and not warm.ready
    release.set()
    assert warm.wait(10) and warm.ready


def test_wait_until_listening() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert wait_until_listening("0.0.0.0", server.getsockname()[1], seconds=5)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert not wait_until_listening("127.0.0.1", port, seconds=0.5)
