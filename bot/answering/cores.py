"""CPU threads for the models of an answer: every core for an answer running alone, a share of
them for answers running at once.

An answer alone on a quiet server embeds the question and reads its units with all the cores
this process may use (one user's wait); answers running at once (a busy morning) get one share
each, at least one thread, because more threads than cores make every answer wait longer
(measured by `bench/load.py`: about a second more per answer with two threads each on two
cores). Torch's thread count belongs to each OS thread (OpenMP), so the thread of each request
sets its own: when the answer starts and again before each batch the reader reads, so that an
answer started alone gives back a core as soon as a second one starts.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator

from kb.settings import Settings


class CoreShare:
    """The cores that the answers running at once share; thread-safe."""

    def __init__(self, cores: int) -> None:
        if cores < 1:
            raise ValueError(f"an answer needs at least one core, not {cores}")
        self.cores = cores
        self._running = 0
        self._lock = threading.Lock()

    @contextmanager
    def running(self) -> Iterator[None]:
        """Count one more answer running for the duration of the block, and give the calling
        thread its share of the cores."""
        with self._lock:
            self._running += 1
        try:
            self.apply()
            yield
        finally:
            with self._lock:
                self._running -= 1

    @property
    def answers_running(self) -> int:
        """How many answers are inside `running` now."""
        with self._lock:
            return self._running

    def threads(self) -> int:
        """Threads one answer may use now: the cores divided among the answers running, at least 1."""
        return max(1, self.cores // max(1, self.answers_running))

    def apply(self) -> int:
        """Set the calling thread's torch threads to its share now (only when it changes: torch
        then clears its compiled kernels' cache); returns the share."""
        import torch

        threads = self.threads()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return threads


def available_cores() -> int:
    """The CPUs this process may run on (its affinity, e.g. a container's limit), else all of them."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_shares: dict[int, CoreShare] = {}
_shares_lock = threading.Lock()


def core_share(settings: Settings) -> CoreShare:
    """The process-wide share of `settings.answer_threads` cores (0: every available core)."""
    cores = settings.answer_threads or available_cores()
    with _shares_lock:
        share = _shares.get(cores)
        if share is None:
            share = _shares[cores] = CoreShare(cores)
        return share
