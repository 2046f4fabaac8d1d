"""Users and ratings in PostgreSQL (PASSERELLE_DATABASE_URL), on the throwaway cluster: the same
functions as with the files, a table shared by every server, and a password kept out of messages."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from bot.feedback import add_comment, all_feedback, has_feedback, record_feedback
from bot.users import (DuplicateUserError, UnknownUserError, UsersFileError, add_user, authenticate, list_users,
                       remove_user, session_role, user_fingerprint, users_file_exists, users_location)
from kb.settings import Settings

pytestmark = pytest.mark.server

PASSWORD = "une phrase de passe assez longue"


def on(database_url: str, store: Path) -> Settings:
    """Settings of one app server: its own store folder, the shared database."""
    return Settings.from_env({}, store=store, database_url=database_url)


def test_users_live_in_the_table_not_in_the_store(database_url, tmp_path) -> None:
    settings = on(database_url, tmp_path / "a")
    assert not users_file_exists(settings) and list_users(settings) == []
    add_user(settings, "awa", PASSWORD, "official")
    add_user(settings, "moussa", PASSWORD + "!", "staff")
    assert users_file_exists(settings)
    assert not (tmp_path / "a" / "users.json").exists()
    other = on(database_url, tmp_path / "b")  # a second server, another empty folder
    assert [(u.name, u.role) for u in list_users(other)] == [("awa", "official"), ("moussa", "staff")]
    assert authenticate(other, "awa", PASSWORD) == "official"
    assert authenticate(other, "awa", PASSWORD + "x") is None
    assert authenticate(other, "nobody", PASSWORD) is None
    assert session_role(other, "moussa") == ("staff", "moussa")
    with pytest.raises(DuplicateUserError, match="user 'awa' already exists \\(role official\\)"):
        add_user(other, "awa", "another long pass phrase", "reader")
    remove_user(other, "moussa")
    with pytest.raises(UnknownUserError, match="no user named 'moussa' \\(users: awa\\)"):
        remove_user(settings, "moussa")
    assert session_role(settings, "moussa") == ("reader", "moussa")
    assert "users table of postgresql://passerelle:***@127.0.0.1" in users_location(settings)


def test_fingerprint_comes_from_the_shared_table(database_url, tmp_path) -> None:
    one, two = on(database_url, tmp_path / "a"), on(database_url, tmp_path / "b")
    add_user(one, "awa", PASSWORD, "staff")
    before = user_fingerprint(two, "awa")
    assert before is not None and before == user_fingerprint(one, "awa")
    remove_user(one, "awa")
    assert user_fingerprint(two, "awa") is None
    add_user(one, "awa", PASSWORD, "staff")  # same password, new salt: a new fingerprint
    again = user_fingerprint(two, "awa")
    assert again is not None and again != before


def test_two_servers_adding_and_removing_at_once_lose_nobody(database_url, tmp_path) -> None:
    servers = [on(database_url, tmp_path / name) for name in ("a", "b")]
    add_user(servers[0], "old0", PASSWORD, "reader")
    add_user(servers[0], "old1", PASSWORD, "reader")
    errors: list[Exception] = []
    wins: list[str] = []

    def work(index: int) -> None:
        settings = servers[index]
        try:
            for n in range(4):
                add_user(settings, f"s{index}u{n}", PASSWORD, "reader")
            remove_user(settings, f"old{index}")
            add_user(settings, "contested", PASSWORD, "staff")  # one of the two must be refused
            wins.append(str(index))
        except DuplicateUserError:
            pass
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(wins) == 1
    expected = sorted([f"s{i}u{n}" for i in (0, 1) for n in range(4)] + ["contested"])
    assert sorted(u.name for u in list_users(servers[1])) == expected


def test_feedback_from_two_servers_lands_in_one_table(database_url, tmp_path) -> None:
    one, two = on(database_url, tmp_path / "a"), on(database_url, tmp_path / "b")
    answer = {"answer": "Trois ans. [1]", "sources": [{"n": 1, "title": "Protocole", "quote": "trois ans"}]}
    assert not has_feedback(one)
    first = record_feedback(one, question="Durée ?", answer=answer, role="staff", rating="up")
    second = record_feedback(two, question="Qui ?", answer=answer, role="reader", rating="down")
    add_comment(two, first, "clair")
    rows = all_feedback(one)
    assert [(r["id"], r["question"], r["rating"], r["comment"]) for r in rows] == [
        (first, "Durée ?", "up", "clair"), (second, "Qui ?", "down", "")]
    assert '"quote": "trois ans"' in rows[0]["sources"]
    assert not (tmp_path / "a" / "feedback.sqlite3").exists() and not (tmp_path / "b" / "feedback.sqlite3").exists()


def test_the_schema_has_a_version_row(database_url, tmp_path) -> None:
    import psycopg

    settings = on(database_url, tmp_path / "a")
    add_user(settings, "awa", PASSWORD, "reader")
    record_feedback(settings, question="q", answer={"answer": "a", "sources": []}, role="reader", rating="up")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT component, version FROM schema_versions ORDER BY component").fetchall()
    assert rows == [("feedback", 1), ("users", 1)]


def test_a_wrong_password_never_shows_in_messages_or_logs(postgres_url, tmp_path, caplog) -> None:
    from kb.postgres import close_pools

    secret = "Wr0ng-S3cret-Pass"
    server, database = postgres_url.rsplit("/", 1)
    user_part, host_part = server.split("@")
    url = f"{user_part.rsplit(':', 1)[0]}:{secret}@{host_part}/{database}"
    settings = on(url, tmp_path / "a")
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(UsersFileError) as caught:
            add_user(settings, "awa", PASSWORD, "reader")
        assert authenticate(settings, "awa", PASSWORD) is None  # logs the refusal
    finally:
        close_pools()
    message = str(caught.value)
    assert "password authentication failed" in message and "postgresql://passerelle:***@" in message
    assert secret not in message
    assert caplog.records and secret not in caplog.text
