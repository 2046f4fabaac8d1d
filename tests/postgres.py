"""A throwaway PostgreSQL cluster for the tests of the shared catalog (PASSERELLE_DATABASE_URL).

`initdb` in a temporary folder, `pg_ctl start` on a free loopback port with password
(scram-sha-256) authentication only, removed afterwards. Debian's PostgreSQL binaries live in
/usr/lib/postgresql/<version>/bin; `make test` installs the package. PostgreSQL refuses to run
as root, so under root (CI) the cluster belongs to the `postgres` user the package creates.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import free_port

USER = "passerelle"
# What `pg_ctl` needs to stop and start each running cluster again, by the port of its URL.
_RUNNING: dict[int, list[str]] = {}


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_cluster(root: Path, database: str = "passerelle") -> Iterator[str]:
    """Start a cluster under `root`; yield its postgresql:// URL (password in it) for `database`."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: run `make test` (it installs Debian's postgresql)")
    root.mkdir(parents=True, exist_ok=True)
    data, sockets = root / "pgdata", root / "sockets"
    sockets.mkdir(exist_ok=True)
    password = secrets.token_urlsafe(16)
    password_file = root / "pwfile"
    password_file.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        for path in (sockets, password_file):
            shutil.chown(path, "postgres")
    subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={password_file}",
                              "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"),
                              "-w", "start"]), check=True, capture_output=True)
    try:
        url = f"postgresql://{USER}:{password}@127.0.0.1:{port}"
        subprocess.run(["psql", f"{url}/postgres", "-qc", f"CREATE DATABASE {database}"], check=True,
                       capture_output=True)
        _RUNNING[port] = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log")]
        yield f"{url}/{database}"
    finally:
        _RUNNING.pop(port, None)
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _pg_ctl(url: str, *action: str) -> None:
    command = _RUNNING[int(url.rsplit(":", 1)[1].split("/")[0])]
    subprocess.run(_as_owner([*command, *action]), check=True, capture_output=True, timeout=120)


def stop_cluster(url: str) -> None:
    """Kill the cluster serving `url` the hard way (`pg_ctl stop -m immediate`: like a crash)."""
    _pg_ctl(url, "-m", "immediate", "stop")


def start_cluster(url: str) -> None:
    """Start the stopped cluster serving `url` again, on the same port, and wait until it answers."""
    _pg_ctl(url, "-w", "start")


def restart_cluster(url: str) -> None:
    """Restart the cluster serving `url` (`pg_ctl restart -m fast`: open sessions are cut)."""
    _pg_ctl(url, "-m", "fast", "-w", "restart")
