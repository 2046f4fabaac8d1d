"""Two real app servers over two empty store folders, one PostgreSQL: a user made with the real
`python -m bot users` CLI logs in on both, and removing it on one ends its session on the other."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import httpx
import pytest

from bot.feedback import all_feedback, record_feedback
from bot.users import authenticate
from kb.settings import Settings
from tests.conftest import PROJECT_ROOT
from tests.security.conftest import bare_server

pytestmark = [pytest.mark.server, pytest.mark.timeout(600, func_only=True)]

PASSWORD = "une phrase de passe assez longue"


def cli(args: list[str], database_url: str, store, stdin: str = "", **env_extra: str) -> subprocess.CompletedProcess:
    """`python -m bot ...` as an administrator runs it, the database named in the environment."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_DATABASE_URL": database_url, **env_extra}
    return subprocess.run([sys.executable, "-m", "bot", *args, "--store", str(store)], cwd=PROJECT_ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def signed_in(url: str, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    assert client.post("/login", data={"username": name, "password": password}).status_code == 200
    assert client.get("/config").status_code == 200, "the session reads the app"
    return client


def test_a_user_made_once_logs_in_on_two_servers_and_leaves_both(database_url, tmp_path) -> None:
    admin_store = tmp_path / "admin"
    added = cli(["users", "add", "awa", "--role", "official", "--password-stdin"], database_url, admin_store,
                PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added awa (official) to the users table of postgresql://passerelle:***@")
    assert cli(["users", "add", "ilham", "--role", "reader"], database_url, admin_store,
               "another long pass phrase\n").returncode == 0
    for name in ("one", "two"):
        (tmp_path / name / "store").mkdir(parents=True)
    with contextlib.ExitStack() as stack:
        one, two = (stack.enter_context(bare_server(tmp_path / name, PASSERELLE_DATABASE_URL=database_url))
                    for name in ("one", "two"))
        assert not (one.store / "users.json").exists() and not (two.store / "users.json").exists()
        on_one, on_two = signed_in(one.url, "awa", PASSWORD), signed_in(two.url, "awa", PASSWORD)
        ilham = signed_in(two.url, "ilham", "another long pass phrase")
        # Gradio keeps session tokens in each process: one server's cookie means nothing to the
        # other, which is why README asks for sticky sessions.
        assert httpx.get(two.url + "/config", cookies=on_one.cookies, timeout=60).status_code == 401
        wrong = httpx.post(two.url + "/login", data={"username": "awa", "password": PASSWORD + "x"}, timeout=60)
        assert wrong.status_code == 400

        # Ratings from both servers' settings land in one table.
        answer = {"answer": "Trois ans.", "sources": []}
        ids = [record_feedback(Settings.from_env({}, store=s.store, database_url=database_url), question=q,
                               answer=answer, role="official", rating="up") for s, q in ((one, "un ?"), (two, "deux ?"))]
        assert [(r["id"], r["question"]) for r in all_feedback(Settings.from_env({}, store=admin_store,
                                                                                 database_url=database_url))] == \
            [(ids[0], "un ?"), (ids[1], "deux ?")]
        exported = cli(["feedback", "--csv", "--lang", "en"], database_url, admin_store)
        assert exported.returncode == 0 and "un ?" in exported.stdout and "deux ?" in exported.stdout

        removed = cli(["users", "remove", "awa"], database_url, one.store)
        assert removed.returncode == 0, removed.stderr
        assert on_two.get("/config").status_code == 401, "removed through one, its session on two has ended"
        assert on_one.get("/config").status_code == 401
        assert ilham.get("/config").status_code == 200, "other users' sessions go on"
        assert "session ended name=awa reason=user-removed" in two.log.read_text()
        for client in (on_one, on_two, ilham):
            client.close()
    listed = cli(["users", "list"], database_url, admin_store)
    assert listed.stdout.split() == ["ilham", "reader"]
    secret = database_url.split("@")[0].rsplit(":", 1)[1]
    for output in (added.stdout, added.stderr, removed.stdout, listed.stdout, one.log.read_text(), two.log.read_text()):
        assert secret not in output


def test_the_cli_hides_the_password_when_the_database_refuses_it(postgres_url, tmp_path) -> None:
    secret = "Wr0ng-S3cret-Pass"
    head, tail = postgres_url.split("@")
    bad_url = f"{head.rsplit(':', 1)[0]}:{secret}@{tail}"
    run = cli(["users", "add", "awa", "--role", "staff"], bad_url, tmp_path, PASSWORD + "\n")
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("error: cannot use the users table of postgresql://passerelle:***@"), run.stderr
    assert "password authentication failed" in run.stderr and secret not in run.stderr


def test_the_password_may_come_from_a_pgpass_file(database_url, tmp_path) -> None:
    head, tail = database_url.split("@")
    user, password = head.removeprefix("postgresql://").split(":")
    host_port, database = tail.split("/")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{host_port}:{database}:{user}:{password}\n")
    passfile.chmod(0o600)
    bare_url = f"postgresql://{user}@{tail}"
    added = cli(["users", "add", "awa", "--role", "staff"], bare_url, tmp_path, PASSWORD + "\n", PGPASSFILE=str(passfile))
    assert added.returncode == 0, added.stderr
    assert authenticate(Settings.from_env({}, store=tmp_path, database_url=database_url), "awa", PASSWORD) == "staff"
    refused = cli(["users", "list"], bare_url, tmp_path, PGPASSFILE=str(tmp_path / "none"))
    assert refused.returncode == 1 and "no password supplied" in refused.stderr, refused.stderr


def test_two_processes_adding_and_removing_at_once_lose_nobody(database_url, tmp_path) -> None:
    script = """
import sys
from bot.users import DuplicateUserError, add_user, remove_user
from kb.settings import Settings
tag, url, store = sys.argv[1:]
settings = Settings.from_env({}, store=store, database_url=url)
for n in range(5):
    add_user(settings, f"{tag}{n}", "une phrase de passe assez longue", "reader")
remove_user(settings, f"{tag}0")
try:
    add_user(settings, "contested", "une phrase de passe assez longue", tag == "a" and "staff" or "reader")
    print("won")
except DuplicateUserError:
    print("lost")
"""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    runs = [subprocess.Popen([sys.executable, "-c", script, tag, database_url, str(tmp_path / tag)], cwd=PROJECT_ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for tag in ("a", "b")]
    outcomes = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outcomes]
    assert sorted(out.strip() for out, _ in outcomes) == ["lost", "won"]
    listed = cli(["users", "list"], database_url, tmp_path)
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == sorted(["contested"] + [f"{tag}{n}" for tag in "ab" for n in range(1, 5)])


def test_an_app_server_whose_database_refuses_it_stops_with_a_masked_message(postgres_url, tmp_path) -> None:
    secret = "Wr0ng-S3cret-Pass"
    head, tail = postgres_url.split("@")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": str(tmp_path / "store"),
           "PASSERELLE_DATABASE_URL": f"{head.rsplit(':', 1)[0]}:{secret}@{tail}"}
    run = subprocess.run([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-2000:]
    # The catalog or the users table, whichever the server opens first, names the database without it.
    assert ("cannot use the users table of postgresql://passerelle:***@" in output
            or "the PostgreSQL catalog at postgresql://127.0.0.1:" in output), output[-2000:]
    assert "password authentication failed" in output and "Traceback" not in output
    assert secret not in output
