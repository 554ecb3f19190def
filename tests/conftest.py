"""Shared fixtures: a virtual clock, the app and its test client, a token, a live server; and simulations by keyword."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockgc.clock import VirtualClock
from mockgc.drivers.simulator import Simulator
from mockgc.faults import get_profile
from mockgc.flows.mitigations.base import Mitigation
from mockgc.platform.domain.backend import Platform
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread, stop_events
from mockgc.platform.settings import Settings
from mockgc.spec.runspec import RunSpec
from mockgc.spec.simconfig import SimConfig
from mockgc.stores import Store
from mockgc.strategies.plans import plan

ADMIN_KEY = "test-admin-key"
CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        seed=7, agents=20, profile="fast", admin_key=ADMIN_KEY, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )


class AutoClock(VirtualClock):
    """A virtual clock that jumps to any deadline a request waits for (v1, latency toxics), recording the waits."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:
        super().__init__(start)
        self.waits: list[float] = []

    def wait_until(self, deadline: float, real_timeout: float = 30.0) -> None:
        self.waits.append(deadline - self.now())
        if deadline > self.now():
            self.set(deadline)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1_795_000_000.0)


@pytest.fixture
def platform(settings: Settings, clock: VirtualClock) -> Platform:
    return Platform(settings.org, get_profile(settings.org.profile), clock)


@pytest.fixture
def app(settings: Settings, clock: VirtualClock) -> Iterator[Flask]:
    app = create_app(settings, clock=clock)
    yield app
    stop_events(app)  # threads a channel or webhook started on first use


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def token(client: FlaskClient) -> str:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic()}
    )
    assert response.status_code == 200, response.json
    return str(response.json["access_token"])


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def org(client: FlaskClient, auth: dict[str, str], admin: dict[str, str]) -> dict[str, str]:
    """Ids of the seeded org, plus one call with a script session on the first agent, made over HTTP."""
    info = client.get("/mock/info", headers=admin).json
    user, bu = info["users"][0]["id"], info["businessUnits"][0]["id"]
    call = client.post("/api/v2/conversations/calls", json={"callUserId": user}, headers=auth).json
    participants = client.get(f"/api/v2/conversations/{call['id']}", headers=auth).json["participants"]
    session = client.post(
        "/api/v2/scripts/sessions", json={"userId": user, "conversationId": call["id"]}, headers=auth
    ).json
    return {
        "user": user,
        "bu": bu,
        "conversation": call["id"],
        "participant": next(p["id"] for p in participants if p.get("userId") == user),
        "session": session["id"],
    }


@pytest.fixture
def live_server(settings: Settings) -> Iterator[ServerThread]:
    """The mock on an ephemeral 127.0.0.1 port, on the system clock; stopped afterwards."""
    with ServerThread(create_app(settings)) as server:
        yield server


def simulator(
    *,
    mitigation: str | Mitigation,
    components: Iterable[Any] = (),
    store: Store | None = None,
    config: SimConfig | None = None,
    **spec: Any,
) -> Simulator:
    """A Simulator for a strategy (a registered name, `module:Class`, or one already built, such as a planted
    one) and the spec's fields by keyword (profile, sessions, seed, agents, publishes): the plan resolved as
    the CLI resolves it, with a test's own simulator timing (`config`) and components."""
    if isinstance(mitigation, str):
        resolved = plan(RunSpec().with_options(mitigation=mitigation, **spec), sim=config)
    else:
        resolved = plan(RunSpec().with_options(**spec), mitigation, sim=config)
    return Simulator(resolved, components=components, store=store)


def simulate(**arguments: Any) -> dict[str, Any]:
    """The checker's result of `simulator(**arguments)`'s run."""
    return simulator(**arguments).run()
