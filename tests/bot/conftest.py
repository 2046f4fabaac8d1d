"""Fixtures of the bot tests: a database of its own on the throwaway PostgreSQL cluster."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """The URL of a new empty database on the session's cluster, dropped after the test (so each
    test starts with no tables)."""
    import psycopg

    from kb.postgres import close_pools

    server, _ = postgres_url.rsplit("/", 1)
    name = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield f"{server}/{name}"
    close_pools()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
