"""Findings "login freezes the server and has no throttle" and "log forging", through a real server."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.security.conftest import bare_server

pytestmark = [pytest.mark.server, pytest.mark.timeout(180, func_only=True)]

PASSWORD = "une phrase de passe assez longue"
OTHER_PASSWORD = "another long pass phrase"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    users = {"cible": (PASSWORD, "staff"), "autre": (OTHER_PASSWORD, "reader")}
    with bare_server(tmp_path_factory.mktemp("logins"), users) as running:
        yield running


def _login(url: str, name: str, password: str) -> int:
    with httpx.Client(base_url=url, timeout=60) as client:
        return client.post("/login", data={"username": name, "password": password}).status_code


def _page_seconds(url: str) -> float:
    started = time.perf_counter()
    assert httpx.get(url + "/", timeout=60).status_code == 200
    return time.perf_counter() - started


def test_a_login_name_cannot_forge_a_log_line(server) -> None:
    forged = "intrus\nINFO bot.users user added name=intrus role=admin"
    assert _login(server.url, forged, "wrong password, long enough") == 400
    time.sleep(0.5)
    lines = server.log.read_text().splitlines()
    assert not any(line.startswith("INFO bot.users user added") for line in lines), lines[-5:]
    assert any("name=intrus\\nINFO" in line for line in lines), "the attempt is logged on one line, escaped"


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def test_parallel_wrong_logins_do_not_freeze_the_server(tmp_path) -> None:
    users = {"cible": (PASSWORD, "staff")}
    # No throttle within the burst: all forty passwords are hashed (~4 s of scrypt), so a check
    # on the event loop would hold every page asked meanwhile.
    with bare_server(tmp_path, users, PASSERELLE_LOGIN_FREE_FAILURES="100") as running:
        baseline = _median([_page_seconds(running.url) for _ in range(7)])
        with ThreadPoolExecutor(max_workers=40) as pool:
            attempts = [pool.submit(_login, running.url, "cible", f"wrong password number {n}")
                        for n in range(40)]
            time.sleep(0.2)  # the logins have arrived
            during = []
            while not all(a.done() for a in attempts) and len(during) < 15:
                during.append(_page_seconds(running.url))
            codes = [a.result() for a in attempts]
    assert codes == [400] * 40
    assert len(during) >= 3, "the burst ended before pages could be asked during it"
    # The median page during the burst within twice the usual (a lone slow page on a shared
    # 2-core machine is noise; a blocked loop slows them all). Below 0.1 s it is noise too.
    assert _median(during) <= 2 * max(baseline, 0.1), (baseline, during)


def test_the_password_is_hashed_off_the_event_loop(monkeypatch) -> None:
    import asyncio
    import threading

    from bot import logins
    from bot.logins import LoginThrottle, login_check
    from kb.settings import Settings

    threads: list[threading.Thread] = []

    def slow_authenticate(settings, name, password):
        threads.append(threading.current_thread())
        time.sleep(0.3)
        return None

    async def scenario() -> int:
        ticks = 0
        check = login_check(Settings.from_env({}), LoginThrottle(free=5, lockout_s=900))
        task = asyncio.ensure_future(check("awa", "wrong password, long enough"))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.01)
        assert await task is False
        return ticks

    monkeypatch.setattr(logins, "authenticate", slow_authenticate)
    ticks = asyncio.run(scenario())
    assert threads and threads[0] is not threading.main_thread(), "hashed on the event loop's thread"
    assert ticks >= 5, "the event loop stood still while the password was checked"


def test_the_throttle_engages(server) -> None:
    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(lambda n: _login(server.url, "cible", f"wrong password number {n}"), range(10)))
    assert codes == [400] * 10
    started = time.perf_counter()
    assert _login(server.url, "cible", PASSWORD) == 400, "throttled: even the right password waits"
    assert time.perf_counter() - started < 1, "a throttled try is refused without hashing"
    assert "login refused name=cible address=127.0.0.1 reason=throttled" in server.log.read_text()
    assert _login(server.url, "autre", OTHER_PASSWORD) == 200, "another name from the same address may log in"


def test_one_address_trying_many_names_is_throttled(server) -> None:
    for n in range(16):
        assert _login(server.url, f"visiteur{n}", "wrong password, long enough") == 400
    assert _login(server.url, "autre", OTHER_PASSWORD) == 400, "the address has failed too often"


def test_delays_grow_then_failures_are_forgotten() -> None:
    from bot.logins import LoginThrottle

    now = [1000.0]
    throttle = LoginThrottle(free=5, lockout_s=900, clock=lambda: now[0])
    for _ in range(5):
        assert throttle.wait_s("awa", "10.0.0.1") == 0
        throttle.record("awa", "10.0.0.1", ok=False)
    assert throttle.wait_s("awa", "10.0.0.2") == 1, "per name, whatever the address"
    throttle.record("awa", "10.0.0.1", ok=False)
    assert throttle.wait_s("awa", None) == 2
    for _ in range(20):
        throttle.record("awa", "10.0.0.1", ok=False)
    assert throttle.wait_s("awa", None) == 900, "at most the lockout window"
    assert throttle.wait_s("moussa", "10.0.0.1") > 0, "the address failed 26 times (free: 20)"
    assert throttle.wait_s("moussa", "10.0.0.3") == 0
    now[0] += 901
    throttle.record("awa", "10.0.0.1", ok=False)
    assert throttle.wait_s("awa", None) == 0, "failures older than the window are forgotten"
    throttle.record("awa", "10.0.0.1", ok=True)
    assert throttle.wait_s("awa", None) == 0
