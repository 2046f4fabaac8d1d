"""`python -m ingest`, killed by SIGKILL at a chosen write point (a test helper, not product code).

    python -m tests.ingest.crash_runner EVENT [ingest arguments...]

Every write to the store is a numbered operation: a commit of the catalog (SQLite) or a
write to Chroma (upsert, delete, modify, delete_collection). Operation i has two events,
2*i ("just before") and 2*i+1 ("just after"); when the event counter reaches EVENT the
process sends itself SIGKILL, so nothing is flushed, closed or cleaned up: the same
as `kill -9` or a power cut between two writes. EVENT -1 never kills; with
CRASH_RUNNER_LOG=FILE each operation is appended to FILE as it happens, so a test can
count the write points of a run. With CRASH_RUNNER_DELAY_MS=D the kill comes D ms
after event EVENT, i.e. in the middle of the operation that follows it. Production code is untouched: the hooks wrap
`sqlite3.connect` (catalog file only) and chromadb's Collection methods from outside.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import os
import signal
import sqlite3
import sys
import threading

_state = {"event": 0, "target": -1, "log": None, "delay": 0.0}


def _point(label: str) -> None:
    if _state["log"]:
        with open(_state["log"], "a", encoding="utf-8") as handle:
            handle.write(f"{_state['event']} {label}\n")
    if _state["event"] == _state["target"]:
        if _state["delay"]:  # die while the operation that follows is running
            threading.Timer(_state["delay"], os.kill, (os.getpid(), signal.SIGKILL)).start()
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    _state["event"] += 1


def _around(label: str, call):
    _point(f"before {label}")
    result = call()
    _point(f"after {label}")
    return result


class _CatalogConnection(sqlite3.Connection):
    """A catalog connection whose commits are write points."""

    def commit(self) -> None:
        _around("catalog commit", super().commit)

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            return super().__exit__(kind, value, traceback)
        return _around("catalog commit", lambda: super(_CatalogConnection, self).__exit__(None, None, None))


def install(target: int, log_file: str | None, delay: float = 0.0) -> None:
    """Number the write points of this process and kill it at event `target` (+ `delay` s)."""
    _state.update(target=target, log=log_file, delay=delay)
    real_connect = sqlite3.connect

    def connect(database, *args, **kwargs):
        if str(database).endswith("catalog.sqlite3"):
            kwargs["factory"] = _CatalogConnection
        return real_connect(database, *args, **kwargs)

    sqlite3.connect = connect

    from chromadb.api.models.Collection import Collection

    for name in ("upsert", "add", "delete", "modify"):
        method = getattr(Collection, name)

        def wrapped(self, *args, _method=method, _name=name, **kwargs):
            return _around(f"chroma {_name}", lambda: _method(self, *args, **kwargs))

        setattr(Collection, name, wrapped)

    from chromadb.api.client import Client

    delete_collection = Client.delete_collection
    Client.delete_collection = lambda self, *a, **k: _around(
        "chroma delete_collection", lambda: delete_collection(self, *a, **k))


def main() -> int:
    target = int(sys.argv[1])
    install(target, os.environ.get("CRASH_RUNNER_LOG"), float(os.environ.get("CRASH_RUNNER_DELAY_MS", "0")) / 1000)
    from ingest.__main__ import main as ingest_main

    return ingest_main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
