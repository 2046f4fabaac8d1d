"""No outbound traffic: ingestion, a question and the web app all work in a network namespace
that has only loopback (`unshare -n`, root only; CI runs as root)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, PROJECT_ROOT, free_port

pytestmark = [pytest.mark.real_model, pytest.mark.server, pytest.mark.timeout(600)]

# Runs inside the namespace: loopback up, then each step as a real process; prints one JSON line.
DRIVER = r"""
import json, os, socket, subprocess, sys, time, urllib.request
python, store, port = sys.executable, sys.argv[1], int(sys.argv[2])
result = {}
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    result["outside"] = "reachable"
except OSError as exc:
    result["outside"] = f"unreachable: {exc}"
run = lambda *args: subprocess.run([python, *args], capture_output=True, text=True, timeout=300)
ingest = run("-m", "ingest", "docs", "--store", store, "--json", "--quiet")
result["ingest"] = [ingest.returncode, ingest.stdout, ingest.stderr[-1500:]]
ask = run("-m", "bot", "ask", "Où orienter une start-up intéressée par le programme ?", "--store", store, "--json", "--role", "staff")
result["ask"] = [ask.returncode, ask.stdout, ask.stderr[-1500:]]
env = {**os.environ, "PASSERELLE_STORE": store, "PASSERELLE_PORT": str(port)}
log = open("app.log", "w")
app = subprocess.Popen([python, os.path.join(os.environ["PROJECT_ROOT"], "app.py")], env=env, stdout=log,
                       stderr=subprocess.STDOUT)
try:
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                result["app"] = [response.status, response.read().decode("utf-8", "replace")[:200000]]
            break
        except OSError as exc:
            if app.poll() is not None or time.monotonic() > deadline:
                result["app"] = [None, f"{exc}; exit code {app.poll()}"]
                break
            time.sleep(0.5)
finally:
    app.terminate()
    app.wait(timeout=30)
print(json.dumps(result))
"""


def _unshare_problem() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create a network namespace (unshare -n); CI runs as root"
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (util-linux / iproute2)"
    probe = subprocess.run(["unshare", "-n", "--", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -n is not permitted here: {probe.stderr.strip()}"
    return None


def test_ingest_ask_and_serve_with_loopback_only(tmp_path: Path, real_model_path: Path) -> None:
    problem = _unshare_problem()
    if problem:
        pytest.skip(problem)
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS / "guides", docs)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSERELLE_", "HF_", "TRANSFORMERS_"))}
    env.update(PYTHONPATH=str(PROJECT_ROOT), PROJECT_ROOT=str(PROJECT_ROOT))
    done = subprocess.run(
        ["unshare", "-n", "--", sys.executable, "-c", DRIVER, str(tmp_path / "store"), str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outside"].startswith("unreachable"), "the namespace must have no route out"

    code, out, err = result["ingest"]
    assert code == 0, err
    report = json.loads(out)
    assert report["documents"]["added"] == 3 and report["documents"]["failed"] == 0

    code, out, err = result["ask"]
    assert code == 0, err
    reply = json.loads(out)
    assert reply["outcome"] in ("answered", "to_check") and "GovTech" in reply["answer"], reply["answer"]

    status, page = result["app"]
    log = (tmp_path / "app.log").read_text(errors="replace")
    assert status == 200, f"{page}\n{log[-3000:]}"
    assert "Passerelle" in page
    assert "Traceback" not in log, log[-3000:]
