"""The throwaway PostgreSQL cluster the shared-catalog tests run against."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.server


def test_the_cluster_answers_with_its_password_and_refuses_without(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("SELECT 1 + 1").fetchone() == (2,)
        assert connection.execute("SHOW server_encoding").fetchone() == ("UTF8",)
    wrong = postgres_url.replace("@", "x@", 1)  # the password with a character more
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)
