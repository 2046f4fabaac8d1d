"""pyproject.toml: its two commands point at functions that exist and answer --help."""

from __future__ import annotations

import importlib
import tomllib

import pytest

from tests.conftest import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("command", ["passerelle", "passerelle-ingest"])
def test_command_target_exists_and_answers_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    module, _, function = PYPROJECT["project"]["scripts"][command].partition(":")
    main = getattr(importlib.import_module(module), function)
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")


def test_packages_and_pins_come_from_the_repository() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
    assert PYPROJECT["project"]["dynamic"] == ["dependencies"] and "dependencies" not in PYPROJECT["project"]
    assert setuptools["packages"]["find"]["include"] == ["kb*", "ingest*", "bot*", "ui*"]
    assert setuptools["py-modules"] == ["app"]
    assert all((PROJECT_ROOT / package / "__init__.py").is_file() for package in ("kb", "ingest", "bot", "ui"))
