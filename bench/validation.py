"""What checking request bodies against the contract's models costs on the hot path, side by side.

Set Data (PUT .../variables/{name}) in process, twice: through the Flask app (WSGI, no server) and
through the simulator's in-process transport, each with the body check (`check_body`) and with it
replaced by a no-op, in alternating rounds; then whole simulations of 2,000 sessions the same way.
The ratio is checked / unchecked throughput.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mockgc.clock import VirtualClock
from mockgc.drivers import inprocess
from mockgc.drivers.inprocess import InProcessTransport
from mockgc.platform.http import body as http_body
from mockgc.platform.http.app import create_app
from mockgc.platform.settings import Settings

ADMIN_KEY = "bench-admin"
CLIENT_SECRET = "bench-secret"


@dataclass(frozen=True)
class Config:
    rounds: int = 9
    round_seconds: float = 0.6  # 9 x 0.6 s x 2 x 2 paths: about 22 s


@contextmanager
def unchecked() -> Iterator[None]:
    """Both callers of check_body see a no-op: the hot path as it was before the models."""
    saved = http_body.check_body, inprocess.check_body
    http_body.check_body = inprocess.check_body = lambda *_: None  # type: ignore[assignment]
    try:
        yield
    finally:
        http_body.check_body, inprocess.check_body = saved


def http_set_data() -> Callable[[], None]:
    settings = Settings(admin_key=ADMIN_KEY, client_secret=CLIENT_SECRET, rate_limit_per_minute=0)
    app = create_app(settings, clock=VirtualClock())
    client = app.test_client()
    basic = base64.b64encode(f"{settings.org.client_id}:{CLIENT_SECRET}".encode()).decode()
    token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    ).json["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    user = client.get("/mock/info", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json["users"][0]["id"]
    call = client.post("/api/v2/conversations/calls", json={"callUserId": user}, headers=auth).json["id"]
    session = client.post("/api/v2/scripts/sessions", json={"userId": user, "conversationId": call}, headers=auth)
    path = f"/api/v2/scripts/sessions/{session.json['id']}/variables/preferenceCode"
    data = json.dumps({"value": "PREF-0042"}).encode()

    def one() -> None:
        reply = client.put(path, data=data, headers=auth, content_type="application/json")
        if reply.status_code != 200:
            raise RuntimeError(f"Set Data answered {reply.status_code}: {reply.get_data(as_text=True)[:200]}")

    return one


def inprocess_set_data() -> Callable[[], None]:
    app = create_app(Settings(admin_key=ADMIN_KEY, client_secret=CLIENT_SECRET), clock=VirtualClock())
    platform = app.extensions["mockgc"].platform
    transport = InProcessTransport(platform)
    user = platform.users.list_users()[0].id
    call = transport.call("create_call", {"userId": user}).body["id"]
    session = transport.call("create_session", {"userId": user, "conversationId": call}).body["id"]
    params: dict[str, Any] = {"sessionId": session, "name": "preferenceCode", "value": "PREF-0042"}

    def one() -> None:
        reply = transport.call("set_data", params)
        if reply.status != 200:
            raise RuntimeError(f"set_data answered {reply.status}: {reply.body}")

    return one


def rate(step: Callable[[], None], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        step()
        count += 1
    return count / elapsed


def compare(step: Callable[[], None], config: Config) -> tuple[float, float]:
    """Median requests/s with and without the check, rounds alternating which goes first."""
    checked, bare = [], []
    rate(step, config.round_seconds)  # warm up: the models' validators, the caches, the allocator
    for index in range(config.rounds):
        order = [True, False] if index % 2 == 0 else [False, True]
        for with_check in order:
            if with_check:
                checked.append(rate(step, config.round_seconds))
            else:
                with unchecked():
                    bare.append(rate(step, config.round_seconds))
    return statistics.median(checked), statistics.median(bare)


def simulate_rate(sessions: int = 2000) -> float:
    """Sessions per second of a whole simulation (flows, simulator, transport) on seed-default."""
    from bench.sim_speed import Config as SimConfig
    from bench.sim_speed import one_round

    return sessions / one_round(SimConfig(sessions=sessions, rounds=1), "none").seconds


def run(config: Config | None = None) -> bool:
    config = config or Config()
    print(f"== Request bodies checked against the contract's models: Set Data, median of {config.rounds} rounds ==")
    print("   path                     checked req/s   unchecked req/s   ratio")
    for label, build in (("HTTP (Flask, in process)", http_set_data), ("simulator transport", inprocess_set_data)):
        checked, bare = compare(build(), config)
        print(f"   {label:<24} {checked:>13.0f} {bare:>17.0f}   {checked / bare:.2f}", flush=True)
    checked_runs, bare_runs = [], []
    simulate_rate(500)  # warm up
    for index in range(4):
        for with_check in [True, False] if index % 2 == 0 else [False, True]:
            if with_check:
                checked_runs.append(simulate_rate())
            else:
                with unchecked():
                    bare_runs.append(simulate_rate())
    checked, bare = statistics.median(checked_runs), statistics.median(bare_runs)
    print(f"   {'simulate (sessions/s)':<24} {checked:>13.0f} {bare:>17.0f}   {checked / bare:.2f}", flush=True)
    return True


if __name__ == "__main__":
    run()
