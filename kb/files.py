"""Files and folders of the store, readable by their owner only.

The catalog holds the text of restricted documents and the feedback holds users' questions:
another account on the same machine must not read them. Folders are created 0700 and files
0600 (the umask can only restrict further); SQLite gives its -wal and -shm files the mode of
the database they belong to. An existing file or folder keeps its mode (README: `chmod`).
"""

from __future__ import annotations

import os
from pathlib import Path


def private_folder(path: Path) -> Path:
    """Create `path` and its missing parents with mode 0700; returns it."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
    return path


def private_file(path: Path) -> Path:
    """Create an empty `path` with mode 0600 when it does not exist (its folder 0700); returns it."""
    path = Path(path)
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    return path
