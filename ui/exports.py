"""The app's temporary files: each browser session's CSV exports in a folder of its own,
removed a while after they are written and when the app stops."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


class ExportFolders:
    """Per-session export folders under one private temporary folder (mode 0700).

    A file is removed `keep_s` seconds after it was written (at the next export of any
    session, or by `sweep`), and everything by `remove_all` when the app stops.
    """

    def __init__(self, keep_s: float, clock=time.time) -> None:
        self.keep_s, self.clock = keep_s, clock
        self.root: Path | None = None
        self._folders: dict[str, Path] = {}
        self._lock = threading.Lock()

    def write(self, session: str | None, name: str, text: str) -> Path:
        """Write `text` (UTF-8) as `name` in the session's folder; returns its path."""
        self.sweep()
        with self._lock:
            if self.root is None:
                self.root = Path(tempfile.mkdtemp(prefix="passerelle-exports-"))
            folder = self._folders.get(session or "")
            if folder is None or not folder.is_dir():
                # A random name: a session's folder cannot be guessed from another's.
                folder = self._folders[session or ""] = Path(tempfile.mkdtemp(dir=self.root))
        path = folder / Path(name).name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        return path

    def sweep(self) -> int:
        """Remove the exports older than `keep_s` (and emptied folders); returns how many files went."""
        removed = 0
        cutoff = self.clock() - self.keep_s
        with self._lock:
            for session, folder in list(self._folders.items()):
                for path in list(folder.glob("*")) if folder.is_dir() else []:
                    try:
                        if path.stat().st_mtime < cutoff:
                            path.unlink()
                            removed += 1
                    except FileNotFoundError:
                        pass
                if not folder.is_dir() or not any(folder.iterdir()):
                    shutil.rmtree(folder, ignore_errors=True)
                    del self._folders[session]
        return removed

    def remove_all(self) -> None:
        """Remove every export and the root folder (the app is stopping)."""
        with self._lock:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                log.info("exports removed folder=%s", self.root)
            self.root, self._folders = None, {}
