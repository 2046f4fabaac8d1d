"""Settings come from PASSERELLE_* variables, CLI overrides win, bad values say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.settings import Settings, SettingsError


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
        ({"PASSERELLE_LLM_TIMEOUT_S": "0"}, "PASSERELLE_LLM_TIMEOUT_S must be positive"),
        ({"PASSERELLE_LLM_TIMEOUT_S": "soon"}, "PASSERELLE_LLM_TIMEOUT_S='soon' is not a number"),
    ],
)
def test_invalid_values_name_the_variable(env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env(env)
    assert message in str(excinfo.value)
