"""Servers for the hostile-visitor tests: `python app.py` on 127.0.0.1 over a store of their own.

Most findings need no documents (logins, sessions, uploads): their server runs over an empty
store holding only a users file, and starts in seconds. Findings about answers use the
shared `app_server` (tests/conftest.py) over the ingested sample corpus.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

from tests.conftest import PROJECT_ROOT, free_port, stop, wait_for_port


@contextlib.contextmanager
def bare_server(root: Path, users: dict[str, tuple[str, str]] | None = None,
                **env_extra: str) -> Iterator[SimpleNamespace]:
    """`python app.py` over an empty store in `root` with `users` ({name: (password, role)});
    yields url, port, store, log path and the process."""
    from bot.users import add_user
    from kb.settings import Settings

    store = root / "store"
    settings = Settings.from_env({}, store=store)
    for name, (password, role) in (users or {}).items():
        add_user(settings, name, password, role)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": str(store),
           "PASSERELLE_PORT": str(port), "PASSERELLE_CORPUS": str(root / "corpus"), **env_extra}
    log_path = root / "app.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process, seconds=300)  # a busy shared machine starts it slowly
            yield SimpleNamespace(url=f"http://127.0.0.1:{port}", port=port, store=store, log=log_path,
                                  process=process, settings=settings)
        finally:
            stop(process)
