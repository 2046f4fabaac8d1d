"""Users file: scrypt hashes (never clear passwords), atomic 0600 writes, clear errors, the CLI."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot import users
from bot.__main__ import main
from bot.users import (
    BadNameError,
    DuplicateUserError,
    EmptyPasswordError,
    UnknownRoleError,
    UnknownUserError,
    UsersFileError,
    add_user,
    authenticate,
    authenticator,
    list_users,
    remove_user,
    user_role,
    users_file_exists,
    users_path,
)
from kb.settings import Settings
from tests.conftest import PROJECT_ROOT

PASSWORD = "Teranga-2026 mot de passe"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({}, store=tmp_path / "store")


def test_no_file_means_no_users(settings: Settings) -> None:
    assert not users_file_exists(settings)
    assert list_users(settings) == []
    assert authenticate(settings, "awa", PASSWORD) is None
    assert not users_path(settings).exists(), "reading must not create the file"


def test_add_then_authenticate_gives_the_role(settings: Settings) -> None:
    add_user(settings, "awa.diop", PASSWORD, "official")
    add_user(settings, "ilham@asan.az", "autre secret partagé", "staff")
    assert users_file_exists(settings)
    assert authenticate(settings, "awa.diop", PASSWORD) == "official"
    assert authenticate(settings, "ilham@asan.az", "autre secret partagé") == "staff"
    assert authenticate(settings, "awa.diop", PASSWORD + " ") is None
    assert authenticate(settings, "awa.diop", "autre secret partagé") is None
    assert authenticate(settings, "nobody", PASSWORD) is None
    assert authenticate(settings, "Awa.Diop", PASSWORD) is None, "names are case-sensitive"
    assert [(u.name, u.role) for u in list_users(settings)] == [("awa.diop", "official"), ("ilham@asan.az", "staff")]
    assert user_role(settings, "ilham@asan.az") == "staff" and user_role(settings, "nobody") is None
    check = authenticator(settings)
    assert check("awa.diop", PASSWORD) is True and check("awa.diop", "x") is False


def test_file_holds_salted_scrypt_hashes_never_the_password(settings: Settings) -> None:
    add_user(settings, "awa", PASSWORD, "official")
    add_user(settings, "moussa", PASSWORD, "reader")  # same password, another salt
    raw = users_path(settings).read_bytes()
    for form in (PASSWORD.encode(), PASSWORD.encode("utf-16-le"), base64.b64encode(PASSWORD.encode()),
                 PASSWORD.encode().hex().encode()):
        assert form not in raw
    entries = json.loads(raw)["users"]
    hashes = [entries[name]["password"] for name in ("awa", "moussa")]
    assert all(h.startswith("scrypt$32768$8$1$") for h in hashes)
    assert hashes[0] != hashes[1], "each user gets its own salt"
    assert len({h.split("$")[4] for h in hashes}) == 2


def test_file_mode_is_0600_and_no_temporary_file_is_left(settings: Settings) -> None:
    add_user(settings, "awa", PASSWORD, "official")
    remove_user(settings, "awa")
    add_user(settings, "moussa", PASSWORD, "staff")
    assert stat.S_IMODE(users_path(settings).stat().st_mode) == 0o600
    assert sorted(p.name for p in users_path(settings).parent.iterdir()) == [".users.lock", "users.json"]


@pytest.mark.parametrize(
    ("name", "password", "role", "error", "text"),
    [
        ("awa", PASSWORD, "boss", UnknownRoleError, "unknown role 'boss': choose one of reader, staff, official, admin"),
        ("", PASSWORD, "staff", BadNameError, "bad user name ''"),
        ("../etc", PASSWORD, "staff", BadNameError, "bad user name '../etc'"),
        ("awa diop", PASSWORD, "staff", BadNameError, "letters, digits"),
        ("x" * 65, PASSWORD, "staff", BadNameError, "1 to 64"),
        ("awa", "", "staff", EmptyPasswordError, "the password is empty"),
        ("awa", "   ", "staff", EmptyPasswordError, "the password is empty"),
        ("awa", "x" * 1025, "staff", users.UserError, "longer than 1024 characters"),
    ],
)
def test_bad_input_is_refused_with_a_message(settings: Settings, name, password, role, error, text) -> None:
    with pytest.raises(error, match=None) as caught:
        add_user(settings, name, password, role)
    assert text in str(caught.value)
    assert not users_file_exists(settings)


def test_duplicate_and_unknown_users(settings: Settings) -> None:
    add_user(settings, "awa", PASSWORD, "official")
    with pytest.raises(DuplicateUserError, match="user 'awa' already exists .role official.; remove it first"):
        add_user(settings, "awa", "another long phrase", "reader")
    assert authenticate(settings, "awa", PASSWORD) == "official", "a refused add changes nothing"
    with pytest.raises(UnknownUserError, match=r"no user named 'zed' \(users: awa\)"):
        remove_user(settings, "zed")
    remove_user(settings, "awa")
    assert authenticate(settings, "awa", PASSWORD) is None
    assert users_file_exists(settings) and list_users(settings) == []


def test_damaged_file_is_reported_and_refuses_logins(settings: Settings) -> None:
    add_user(settings, "awa", PASSWORD, "official")
    users_path(settings).write_text('{"users": {"awa": {"role": "god", "password": "x"}}}')
    with pytest.raises(UsersFileError, match="is damaged; restore it from a backup"):
        list_users(settings)
    assert authenticate(settings, "awa", PASSWORD) is None
    users_path(settings).write_text("not json")
    with pytest.raises(UsersFileError, match="is damaged"):
        add_user(settings, "moussa", PASSWORD, "staff")


def test_unknown_name_costs_one_hash_too(settings: Settings, monkeypatch) -> None:
    add_user(settings, "awa", PASSWORD, "official")
    calls = []
    real = users._scrypt
    monkeypatch.setattr(users, "_scrypt", lambda *a: calls.append(a[2]) or real(*a))
    authenticate(settings, "nobody", PASSWORD)
    authenticate(settings, "awa", "wrong")
    assert calls == [users.SCRYPT_N, users.SCRYPT_N]


def test_concurrent_adds_all_land(settings: Settings) -> None:
    threads = [threading.Thread(target=add_user, args=(settings, f"user{i}", PASSWORD, "reader")) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [u.name for u in list_users(settings)] == [f"user{i}" for i in range(6)]


# ----- CLI ---------------------------------------------------------------------------
def run_cli(args: list[str], settings: Settings, capsys, monkeypatch, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["users", *args, "--store", str(settings.store)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_add_list_remove(settings: Settings, capsys, monkeypatch) -> None:
    code, out, err = run_cli(["add", "awa", "--role", "official"], settings, capsys, monkeypatch, PASSWORD + "\n")
    assert code == 0, err
    assert out.strip() == f"added awa (official) to {users_path(settings)}"
    assert authenticate(settings, "awa", PASSWORD) == "official", "the newline is not part of the password"
    code, out, _ = run_cli(["add", "moussa", "--role", "staff", "--password-stdin"], settings, capsys, monkeypatch,
                           "phrase assez longue\n")
    assert code == 0
    code, out, _ = run_cli(["list"], settings, capsys, monkeypatch)
    assert code == 0 and out.splitlines() == ["awa     official", "moussa  staff"]
    code, out, _ = run_cli(["remove", "awa"], settings, capsys, monkeypatch)
    assert code == 0 and out.startswith("removed awa from ")
    code, out, _ = run_cli(["remove", "moussa"], settings, capsys, monkeypatch)
    assert "no users left: the web chat refuses every login" in out


def test_cli_list_without_file(settings: Settings, capsys, monkeypatch) -> None:
    code, out, _ = run_cli(["list"], settings, capsys, monkeypatch)
    assert code == 0 and "no users file" in out and "single local reader" in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "awa", "--role", "staff"], "\n", "error: the password is empty"),
        (["add", "a/b", "--role", "staff"], "x\n", "error: bad user name 'a/b'"),
        (["add", "taken", "--role", "staff"], "x\n", "error: user 'taken' already exists"),
        (["remove", "zed"], "", "error: no user named 'zed' (users: taken)"),
    ],
)
def test_cli_errors_exit_1_with_a_message(settings, capsys, monkeypatch, args, stdin, message) -> None:
    add_user(settings, "taken", PASSWORD, "reader")
    code, out, err = run_cli(args, settings, capsys, monkeypatch, stdin)
    assert code == 1 and out == ""
    assert err.strip().startswith(message), err


def test_cli_unknown_role_is_an_argparse_error(settings, capsys, monkeypatch) -> None:
    with pytest.raises(SystemExit) as caught:
        run_cli(["add", "awa", "--role", "boss"], settings, capsys, monkeypatch, "x\n")
    assert caught.value.code == 2
    assert "invalid choice: 'boss'" in capsys.readouterr().err


def test_cli_asks_twice_at_a_terminal(settings, capsys, monkeypatch) -> None:
    import getpass

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["first long phrase", "second long phrase"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(sys, "stdin", Terminal(""))
    code = main(["users", "add", "awa", "--role", "staff", "--store", str(settings.store)])
    assert code == 1 and "the two passwords differ: nothing changed" in capsys.readouterr().err
    assert not users_file_exists(settings)
    answers = iter(["the same long phrase", "the same long phrase"])
    assert main(["users", "add", "awa", "--role", "staff", "--store", str(settings.store)]) == 0
    assert authenticate(settings, "awa", "the same long phrase") == "staff"


def test_cli_as_a_real_process(settings: Settings) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": str(settings.store)}
    run = lambda *args, stdin="": subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", "users", *args], input=stdin, env=env, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=60)
    added = run("add", "awa", "--role", "admin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert run("list").stdout.split() == ["awa", "admin"]
    assert authenticate(settings, "awa", PASSWORD) == "admin"
    helped = run("--help")
    assert "users.json" in helped.stdout and "never in clear" in helped.stdout


def test_session_role_without_and_with_logins(tmp_path) -> None:
    from bot.users import add_user, remove_user, session_role
    from kb.settings import Settings

    settings = Settings.from_env({}, store=tmp_path / "store")
    assert session_role(settings, None) == ("reader", None)
    assert session_role(settings, "awa") == ("reader", None), "no users file: nobody is logged in"
    add_user(settings, "awa", "un mot de passe solide", "official")
    assert session_role(settings, "awa") == ("official", "awa")
    remove_user(settings, "awa")
    assert session_role(settings, "awa") == ("reader", "awa")
