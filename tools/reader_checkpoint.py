"""Checkpoints of a reader training run (`tools.train_reader`), so that a long run spans
several sessions.

One file, `checkpoint.pt` in the checkpoint folder (outside git: `bench-results/reader-training/`
by default), rewritten every `--checkpoint-every` steps and when a session stops (time budget,
`--session-steps`, Ctrl-C or SIGTERM): the trained parameters in fp32, the optimiser and the
scheduler, torch's random state (dropout), the step reached (the training lists are rebuilt
from the seed, so the step is the data position), the best dev figures so far with their
weights, and a fingerprint of the settings and lists: a checkpoint written with other
settings or data is refused rather than silently mixed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable

log = logging.getLogger("train_reader")

CHECKPOINT_FILE = "checkpoint.pt"
RESULT_DIR = "result"
# Settings that may change from one session to the next without changing what is trained.
SESSION_SETTINGS = frozenset({"minutes", "session_steps", "threads", "checkpoint_every", "checkpoint_dir", "fresh",
                              "out", "work", "refit_only", "corpus_store", "piaf", "split", "overlap_weight",
                              "eval_limit"})


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used; the message says what to do."""


def fingerprint(settings: dict[str, Any], lists: Iterable[Any]) -> str:
    """A digest of what a run trains on: its settings (session-only ones left out) and its lists."""
    digest = hashlib.sha256()
    kept = {k: (str(v) if isinstance(v, Path) else v) for k, v in sorted(settings.items()) if k not in SESSION_SETTINGS}
    digest.update(json.dumps(kept, sort_keys=True).encode())
    for item in lists:
        digest.update(repr(item).encode())
    return digest.hexdigest()[:24]


class Checkpoints:
    """The checkpoint file of one run in `folder`."""

    def __init__(self, folder: Path, run: str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / CHECKPOINT_FILE
        self.run = run

    def load(self) -> dict[str, Any] | None:
        """The saved state, None when there is none; CheckpointError when it belongs to another run."""
        import torch

        if not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a truncated or foreign file: say so, never a traceback
            raise CheckpointError(f"cannot read the checkpoint {self.path} ({exc}); pass --fresh to start over") from exc
        if state.get("run") != self.run:
            raise CheckpointError(
                f"the checkpoint {self.path} was written by a run with other settings or data "
                f"({state.get('run')} != {self.run}); run with the same settings to continue it, pass --fresh to "
                "start over, or give another --checkpoint-dir")
        return state

    def save(self, state: dict[str, Any]) -> None:
        """Write `state` atomically (a kill during the write leaves the previous checkpoint)."""
        import torch

        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        torch.save({**state, "run": self.run}, partial)
        os.replace(partial, self.path)
        log.info("checkpoint written at step %d: %s", state["step"], self.path)

    def clear(self) -> None:
        """Forget the saved state (--fresh)."""
        self.path.unlink(missing_ok=True)
