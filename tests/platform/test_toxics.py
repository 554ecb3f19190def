"""Response-phase toxics (slow_body, reset_peer) and latency distributions, as Toxiproxy users expect them."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from mockgc.drivers.http import HttpTransport
from mockgc.faults import Toxic, get_profile
from mockgc.flows.effects import completion_type
from mockgc.platform.domain.backend import Platform
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import OrgSettings, Settings
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET, AutoClock


def _session(platform: Platform) -> str:
    agent = next(iter(platform.agents))
    call = platform.conversations.create_call(agent)
    return platform.scripts.create(agent, call.id).id


def test_slow_body_trickles_the_whole_answer_out_at_the_configured_rate(settings: Settings) -> None:
    clock = AutoClock()
    app = create_app(settings, clock=clock)
    client: FlaskClient = app.test_client()
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    toxic = {
        "name": "slow",
        "type": "slow_body",
        "path_prefix": "/api/v2/users",
        "attributes": {"bytes_per_second": 1000, "chunk_bytes": 100},
    }
    assert client.post("/mock/faults/toxics", json=toxic, headers=admin).status_code == 201
    token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
    ).json["access_token"]

    response = client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}"})
    body = response.get_data()
    assert response.status_code == 200 and len(response.json["entities"]) == settings.org.agents
    assert int(response.headers["Content-Length"]) == len(body)
    # One wait per 100-byte chunk, each as long as its bytes take at 1000 bytes/s.
    assert len(clock.waits) == -(-len(body) // 100)
    assert sum(clock.waits) == pytest.approx(len(body) / 1000, rel=1e-6)


def test_reset_peer_breaks_the_connection_after_the_platform_acted(settings: Settings) -> None:
    with ServerThread(create_app(settings)) as server:
        platform = server.holder.platform
        session_id = _session(platform)
        toxic = {
            "name": "reset",
            "type": "reset_peer",
            "path_prefix": "/api/v2/scripts/",
            "attributes": {"after_bytes": 10},
        }
        added = requests.post(
            f"{server.url}/mock/faults/toxics", json=toxic, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10
        )
        assert added.status_code == 201
        transport = HttpTransport(server.url, timeout=10)
        transport.authenticate(CLIENT_ID, CLIENT_SECRET)

        reply = transport.call("set_data", {"sessionId": session_id, "name": "preferenceCode", "value": "PREF-RS-0001"})

        # The client got no usable answer: Jepsen's info, not a failure...
        assert reply.status == 0 and reply.error
        assert completion_type(reply) == "info"
        # ...yet the write happened: exactly why an indeterminate outcome cannot be counted as failed.
        assert platform.ground_truth()[session_id]["variables"] == {"preferenceCode": "PREF-RS-0001"}
        # Other routes are untouched, and the server keeps serving.
        assert transport.call("create_call", {"userId": next(iter(platform.agents))}).status == 200


def _delays(toxic: Toxic, seed: int = 3, n: int = 4000) -> list[float]:
    platform = Platform(
        OrgSettings(seed=seed, agents=1, client_secret="x"),
        get_profile("calm"),
        AutoClock(),
    )
    platform.faults.set_toxic(toxic)
    delays = []
    for _ in range(n):
        effect = platform.faults.roll("/api/v2/users")
        assert effect is not None
        delays.append(effect.delay * 1000)
    return delays


def _latency(distribution: str, **attributes: Any) -> Toxic:
    return Toxic("lat", "latency", attributes={"latency_ms": 100, "distribution": distribution, **attributes})


def test_latency_distributions_have_their_shape_and_repeat_for_a_seed() -> None:
    uniform = _delays(_latency("uniform", jitter_ms=20))
    assert min(uniform) >= 80 and max(uniform) <= 120
    normal = _delays(_latency("normal", jitter_ms=20))
    assert statistics.mean(normal) == pytest.approx(100, abs=2)
    assert statistics.stdev(normal) == pytest.approx(20, rel=0.1)
    lognormal = _delays(_latency("lognormal", sigma=0.5))
    assert statistics.median(lognormal) == pytest.approx(100, rel=0.05)
    # The heavy right tail: p99 of a lognormal with sigma 0.5 is about 3.2 times its median.
    assert sorted(lognormal)[int(len(lognormal) * 0.99)] > 2.5 * statistics.median(lognormal)
    assert min(lognormal) >= 0
    assert _delays(_latency("normal", jitter_ms=20)) == normal


@pytest.mark.parametrize(
    "toxic",
    [
        {"name": "t", "type": "latency", "attributes": {"distribution": "pareto"}},
        {"name": "t", "type": "latency", "attributes": {"distribution": "lognormal", "sigma": -1}},
        {"name": "t", "type": "slow_body", "attributes": {"bytes_per_second": 0}},
        {"name": "t", "type": "slow_body", "attributes": {"chunk_bytes": 1.5}},
        {"name": "t", "type": "reset_peer", "attributes": {"after_bytes": -1}},
        {"name": "t", "type": "teleport"},
    ],
)
def test_bad_toxics_get_a_platform_400(client: FlaskClient, admin: dict[str, str], toxic: dict[str, Any]) -> None:
    response = client.post("/mock/faults/toxics", json=toxic, headers=admin)
    assert response.status_code == 400
    assert response.json["code"] == "invalid.value"
