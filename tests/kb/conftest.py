"""Fixtures of the PostgreSQL catalog tests: a fresh database of the session cluster per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


def new_database(server_url: str) -> str:
    """Create an empty database on the cluster of `server_url`; its URL (same user and password)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


def drop_database(url: str) -> None:
    """Drop the database of `url` (its sessions are ended first)."""
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """An empty database of its own on the session's PostgreSQL cluster, dropped afterwards."""
    url = new_database(postgres_url)
    yield url
    drop_database(url)
