"""kb.postgres keeps the password of PASSERELLE_DATABASE_URL out of what it shows and logs."""

from __future__ import annotations

import logging

from kb.postgres import _FILTER, mask, password_of, shown
from kb.settings import Settings

URL = "postgresql://passerelle:p%40ss%2Fw0rd-Secret@db.example:5432/passerelle"


def test_the_password_is_masked_as_written_and_decoded() -> None:
    assert password_of(URL) == "p@ss/w0rd-Secret"
    assert shown(URL) == "postgresql://passerelle:***@db.example:5432/passerelle"
    text = f"failed for {URL} with password p@ss/w0rd-Secret"
    assert mask(text, URL) == "failed for postgresql://passerelle:***@db.example:5432/passerelle with password ***"
    assert password_of("postgresql://passerelle@db/passerelle") is None, "no password: it comes from PGPASSFILE"
    assert shown("postgresql://passerelle@db/passerelle") == "postgresql://passerelle@db/passerelle"


def test_psycopg_log_records_are_masked(monkeypatch) -> None:
    monkeypatch.setattr("kb.postgres._urls", {URL})
    record = logging.LogRecord("psycopg.pool", logging.WARNING, __file__, 1, "error connecting to %s: %s", (URL, "no"),
                               None)
    assert _FILTER.filter(record) and record.getMessage() == f"error connecting to {shown(URL)}: no"


def test_settings_repr_leaves_the_url_out() -> None:
    settings = Settings.from_env({"PASSERELLE_DATABASE_URL": URL})
    assert settings.database_url == URL and "Secret" not in repr(settings)
