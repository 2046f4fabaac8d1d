"""Settings come from PASSERELLE_* variables, CLI overrides win, bad values say what to fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb.settings import OFFLINE_DEFAULTS, PROJECT_ROOT, Settings, SettingsError, offline_environment


def test_defaults_env_and_overrides() -> None:
    assert Settings.from_env({}).store == Path("data")
    env = {"PASSERELLE_STORE": "/srv/kb", "PASSERELLE_CHROMA_HOST": "10.0.0.5", "PASSERELLE_CHROMA_PORT": "9000"}
    settings = Settings.from_env(env)
    assert settings.store == Path("/srv/kb") and settings.uses_chroma_server and settings.chroma_port == 9000
    assert Settings.from_env(env, store=Path("here"), chroma_host=None).store == Path("here")
    with pytest.raises(Exception):
        settings.store = Path("x")  # frozen


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PASSERELLE_CHROMA_PORT": "http"}, "PASSERELLE_CHROMA_PORT='http' is not a number"),
        ({"PASSERELLE_EMBEDDING_PRECISION": "int4"}, "choose one of auto, fp32, bf16"),
        ({"PASSERELLE_CHUNK_OVERLAP": "900"}, "less than half of PASSERELLE_CHUNK_SIZE"),
        ({"PASSERELLE_PORT": "70000"}, "PASSERELLE_PORT must be a port number"),
        ({"PASSERELLE_LLM_URL": "localhost:8080"}, "PASSERELLE_LLM_URL='localhost:8080': give an http(s) address"),
        ({"PASSERELLE_LLM_TIMEOUT_S": "0"}, "PASSERELLE_LLM_TIMEOUT_S and PASSERELLE_CHROMA_TIMEOUT_S must be positive"),
        ({"PASSERELLE_CHROMA_TIMEOUT_S": "-1"}, "PASSERELLE_CHROMA_TIMEOUT_S must be positive"),
        ({"PASSERELLE_CHROMA_TIMEOUT_S": "later"}, "PASSERELLE_CHROMA_TIMEOUT_S='later' is not a number"),
        ({"PASSERELLE_LLM_TIMEOUT_S": "soon"}, "PASSERELLE_LLM_TIMEOUT_S='soon' is not a number"),
    ],
)
def test_invalid_values_name_the_variable(env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env(env)
    assert message in str(excinfo.value)


def test_importing_kb_leaves_the_environment_alone() -> None:
    # A fresh interpreter without the offline variables (this one has them from conftest).
    env = {k: v for k, v in os.environ.items() if k not in dict(OFFLINE_DEFAULTS)}
    script = (
        "import os; before = dict(os.environ)\n"
        "import kb, kb.settings, kb.schema, kb.text, kb.catalog, kb.store, kb.embeddings, kb.search_filter\n"
        "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_offline_environment_sets_defaults_without_overriding(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, _ in OFFLINE_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # an operator's explicit choice
    offline_environment()
    assert os.environ["HF_HUB_OFFLINE"] == "0"
    for name, value in OFFLINE_DEFAULTS[1:]:
        assert os.environ[name] == value
    assert ("HF_HUB_OFFLINE", "1") in OFFLINE_DEFAULTS
