"""Finding "uploads to Gradio's own endpoint are unbounded and never cleaned", through a real
server; and the app's own temporary files (CSV exports), which go too."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.conftest import stop
from tests.security.conftest import bare_server

pytestmark = pytest.mark.timeout(180, func_only=True)


@pytest.mark.server
def test_uploads_are_bounded_and_removed_when_the_server_stops(tmp_path) -> None:
    cache = tmp_path / "gradio-cache"
    with bare_server(tmp_path, PASSERELLE_MAX_FILE_MB="1", GRADIO_TEMP_DIR=str(cache)) as server:
        big = httpx.post(server.url + "/gradio_api/upload", files={"files": ("big.txt", b"x" * 2_000_000)},
                         timeout=60)
        assert big.status_code == 413, big.text
        small = httpx.post(server.url + "/gradio_api/upload", files={"files": ("small.txt", b"petit")}, timeout=60)
        assert small.status_code == 200, small.text
        kept = [path for path in cache.rglob("*") if path.is_file()]
        assert [p.read_bytes() for p in kept] == [b"petit"]
        stop(server.process)
    assert not [path for path in cache.rglob("*") if path.is_file()], "the upload is deleted at shutdown"


def test_exports_live_in_a_folder_per_session_and_go_after_a_while() -> None:
    from ui.exports import ExportFolders

    now = [1_000_000.0]
    exports = ExportFolders(keep_s=600, clock=lambda: now[0])
    first = exports.write("session-a", "feuille-de-route.csv", "a")
    second = exports.write("session-b", "../../feuille-de-route.csv", "b")
    assert first.parent != second.parent and first.parent.parent == second.parent.parent == exports.root
    assert second.name == "feuille-de-route.csv", "a name never leaves its folder"
    assert oct(first.stat().st_mode & 0o777) == "0o600" and oct(exports.root.stat().st_mode & 0o777) == "0o700"
    os.utime(first, (now[0] - 601, now[0] - 601))
    now[0] += 1
    assert exports.sweep() == 1 and not first.exists() and not first.parent.exists() and second.exists()
    exports.remove_all()
    assert not second.exists() and not second.parent.parent.exists()


def test_an_exports_cache_folder_belongs_to_the_sessions_that_wrote_it() -> None:
    import asyncio

    from gradio.processing_utils import hash_file

    from ui.exports import BROWSER_COOKIE, ExportFolders, ExportGuard, browser_session

    exports = ExportFolders(keep_s=600)
    mine = browser_session([(b"cookie", b"access-token-abc=t1; other=x")])
    path = exports.write(mine, "feuille-de-route.csv", "\ufeffÉchéance;Statut\n")
    folder = hash_file(path)
    assert exports.owners(folder) == {"login:t1"} and exports.owners("autre") is None
    assert browser_session([(b"cookie", f"{BROWSER_COOKIE}=b1".encode())]) == "browser:b1"

    async def served(cookie: bytes) -> tuple[int, list]:
        sent: list[dict] = []

        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": f"/gradio_api/file=/tmp/gradio/{hash_file(path)}/{path.name}",
                 "headers": [(b"cookie", cookie)] if cookie else []}
        await ExportGuard(app, exports)(scope, None, send)
        return sent[0]["status"], sent[0]["headers"]

    assert asyncio.run(served(b"access-token-abc=t1"))[0] == 200
    assert asyncio.run(served(b"access-token-abc=t2"))[0] == 403
    status, headers = asyncio.run(served(b""))
    assert status == 403 and not any(k == b"set-cookie" for k, _ in headers)
    exports.remove_all()
    assert exports.owners(folder) is None
