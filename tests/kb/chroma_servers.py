"""A real Chroma server with token authentication (`python -m kb.chroma_server`) for tests:
started on a free loopback port, killed with SIGKILL and started again on the same port and
folder, as an operator's restart would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from kb.settings import Settings
from tests.conftest import PROJECT_ROOT, free_port, wait_for_port


class TokenServer:
    """One `python -m kb.chroma_server` over `path`, requiring `token`."""

    def __init__(self, path: Path, token: str) -> None:
        self.path, self.token, self.port = path, token, free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> "TokenServer":
        """Start the server and wait until it listens."""
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_CHROMA_TOKEN": self.token}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kb.chroma_server", "--path", str(self.path), "--port", str(self.port)],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, 60)
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut of the Chroma machine."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)

    def settings(self, store: Path, token: str | None = "same", **overrides) -> Settings:
        """Passerelle settings pointing at this server (with its token unless told otherwise)."""
        env = {"PASSERELLE_CHROMA_HOST": "127.0.0.1", "PASSERELLE_CHROMA_PORT": str(self.port)}
        if token is not None:
            env["PASSERELLE_CHROMA_TOKEN"] = self.token if token == "same" else token
        return Settings.from_env(env, store=store, **overrides)

    def env(self) -> dict[str, str]:
        """The PASSERELLE_* variables a child process needs to use this server."""
        return {"PASSERELLE_CHROMA_HOST": "127.0.0.1", "PASSERELLE_CHROMA_PORT": str(self.port),
                "PASSERELLE_CHROMA_TOKEN": self.token}
