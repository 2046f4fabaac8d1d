"""Finding "any non-empty password is accepted when an admin creates a user": `python -m bot
users add` wants at least 12 characters, not the user name, and says so."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


def _add(store, name: str, password: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "users", "add", name, "--role", "staff", "--password-stdin",
                           "--store", str(store)], input=password + "\n", cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("name", "password", "text"), [
    ("awa", "court", "error: the password has 5 characters: choose one of at least 12"),
    ("awa.diop.senum", "AWA.DIOP.SENUM", "error: the password is the user name: choose another one"),
])
def test_weak_passwords_are_refused_with_a_message(tmp_path, name: str, password: str, text: str) -> None:
    run = _add(tmp_path / "store", name, password)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.strip().startswith(text), run.stderr
    assert not (tmp_path / "store" / "users.json").exists()


def test_a_long_phrase_is_accepted(tmp_path) -> None:
    run = _add(tmp_path / "store", "awa", "trois mots suffisent")
    assert run.returncode == 0, run.stderr
