"""`python -m ingest` yields the CPU to the app servers on the same machine (issue 25 item 4)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kb.settings import Settings, SettingsError
from tests.conftest import PROJECT_ROOT

PROBE = ("import os; from kb.settings import Settings; from ingest.__main__ import yield_cpu; "
         "yield_cpu(Settings.from_env()); print(os.nice(0))")


def _niceness_after(env_value: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "PASSERELLE_INGEST_NICE"}
    if env_value is not None:
        env["PASSERELLE_INGEST_NICE"] = env_value
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=PROJECT_ROOT, env=env, capture_output=True,
                         text=True, check=True, timeout=120)
    return int(out.stdout.split()[-1])


def test_an_ingestion_runs_at_a_lower_priority_unless_told_not_to() -> None:
    here = os.nice(0)
    assert _niceness_after(None) == min(19, here + 10)
    assert _niceness_after("3") == min(19, here + 3)
    assert _niceness_after("0") == here


def test_a_priority_off_the_nice_scale_is_refused_with_its_range() -> None:
    assert Settings.from_env({}).ingest_nice == 10
    with pytest.raises(SettingsError, match="PASSERELLE_INGEST_NICE must be between 0 .* and 19"):
        Settings.from_env({"PASSERELLE_INGEST_NICE": "20"})
    with pytest.raises(SettingsError, match="PASSERELLE_INGEST_NICE must be between 0"):
        Settings.from_env({"PASSERELLE_INGEST_NICE": "-5"})
