"""Webhooks for publish events: registration, delivery with retries and backoff, and the delivery log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient

from mockgc.clock import VirtualClock
from mockgc.platform.domain.events import PlatformEvent
from mockgc.platform.domain.webhooks import Delivery, WebhookRegistry
from mockgc.platform.http.app import create_app
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.server import ServerThread
from mockgc.settings import Settings
from tests.conftest import ADMIN_KEY

SCHEDULES = "v2.workforcemanagement.businessunits.bu-1.schedules"


def event(at: float, topic: str = SCHEDULES, operation: str = "op-1") -> PlatformEvent:
    return PlatformEvent(at, topic, {"status": "Complete", "operationId": operation, "eventType": "Update"})


# -- the domain: virtual time, a scripted sender ------------------------------------------------------


def test_a_failing_target_is_retried_with_backoff_then_marked_failed(clock: VirtualClock) -> None:
    registry = WebhookRegistry(clock)
    registry.register({"url": "http://127.0.0.1:9/hook", "maxAttempts": 4, "backoffSeconds": 2})
    start = clock.now()
    registry.on_event(event(start))
    sent: list[float] = []

    def refuse(delivery: Delivery) -> tuple[int, str | None]:
        sent.append(clock.now())
        return 503, "unavailable"

    for _ in range(60):  # one virtual second at a time, for a minute
        registry.pump(refuse)
        clock.advance(1)
    # Attempt n+1 waits backoff * 2**(n-1): 2 s, 4 s, 8 s; then the bounded attempts are spent.
    assert [t - start for t in sent] == [0, 2, 6, 14]
    [logged] = registry.deliveries()
    assert logged["state"] == "failed"
    assert [a["status"] for a in logged["attempts"]] == [503, 503, 503, 503]
    assert logged["attempts"][0]["error"] == "unavailable"
    assert logged["nextAttemptEpochMs"] is None
    assert registry.deliveries("failed") == [logged] and registry.deliveries("pending") == []
    assert registry.stats()["failed"] == 1 and registry.stats()["attempts"] == 4


def test_a_target_that_recovers_gets_the_event_once(clock: VirtualClock) -> None:
    registry = WebhookRegistry(clock)
    registry.register({"url": "http://127.0.0.1:9/hook", "backoffSeconds": 1})
    registry.on_event(event(clock.now()))
    answers = iter([(0, "ConnectionError"), (500, "boom"), (202, None)])
    received: list[dict[str, Any]] = []

    def flaky(delivery: Delivery) -> tuple[int, str | None]:
        status, error = next(answers)
        if status == 202:
            received.append(delivery.body)
        return status, error

    for _ in range(10):
        registry.pump(flaky)
        clock.advance(1)
    assert len(received) == 1
    assert received[0]["topicName"] == SCHEDULES
    assert received[0]["eventBody"]["operationId"] == "op-1"
    assert set(received[0]) == {"topicName", "version", "eventBody", "metadata"}
    [logged] = registry.deliveries()
    assert logged["state"] == "delivered" and [a["status"] for a in logged["attempts"]] == [0, 500, 202]


def test_only_matching_topics_are_delivered(clock: VirtualClock) -> None:
    registry = WebhookRegistry(clock)
    registry.register({"url": "http://127.0.0.1:9/hook"})  # publish events by default
    registry.on_event(event(clock.now(), topic="v2.users.u1.presence"))
    assert registry.deliveries() == []
    registry.on_event(event(clock.now()))
    assert len(registry.deliveries("pending")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "ftp://x/y"},
        {"url": "http://"},
        {"url": "http://h/x", "maxAttempts": 0},
        {"url": "http://h/x", "maxAttempts": True},
        {"url": "http://h/x", "timeoutSeconds": 0},
        {"url": "http://h/x", "topics": []},
        {"url": "http://h/x", "backoffSeconds": -1},
        ["http://h/x"],
    ],
)
def test_bad_targets_are_refused(clock: VirtualClock, body: Any) -> None:
    from mockgc.platform.domain.errors import InvalidValue

    with pytest.raises(InvalidValue):
        WebhookRegistry(clock).register(body)


# -- the admin API --------------------------------------------------------------------------------------


def test_the_admin_api_needs_the_admin_key(client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.get("/mock/webhooks").status_code == 401
    assert client.post("/mock/webhooks", json={"url": "http://h/x"}, headers=auth).status_code == 401


def test_register_list_and_remove_targets(app: Flask, client: FlaskClient, admin: dict[str, str]) -> None:
    try:
        created = client.post("/mock/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=admin)
        assert created.status_code == 201
        target = created.json
        assert target["timeoutSeconds"] == 30 and target["maxAttempts"] == 5
        assert target["topics"] == ["v2.workforcemanagement.businessunits.*.schedules"]
        assert client.get("/mock/webhooks", headers=admin).json["entities"] == [target]
        bad = client.post("/mock/webhooks", json={"url": "nope"}, headers=admin)
        assert bad.status_code == 400 and bad.json["code"] == "invalid.value"
        assert client.delete(f"/mock/webhooks/{target['id']}", headers=admin).status_code == 204
        assert client.delete(f"/mock/webhooks/{target['id']}", headers=admin).status_code == 404
        assert client.get("/mock/webhooks/deliveries?state=lost", headers=admin).status_code == 400
    finally:
        events_runtime(app).stop()


# -- live: a real receiver, a real failing target, delivery in the background --------------------------


class Receiver:
    """A served endpoint answering with scripted statuses, recording what it got."""

    def __init__(self, statuses: list[int], gate: threading.Event | None = None) -> None:
        self.statuses = statuses
        self.gate = gate
        self.received: list[tuple[dict[str, Any], dict[str, str]]] = []
        app = Flask("receiver")

        @app.post("/hook")
        def hook() -> tuple[str, int]:
            if self.gate is not None:
                self.gate.wait(10)
            self.received.append((json.loads(request.data), dict(request.headers)))
            status = self.statuses.pop(0) if self.statuses else 202
            return "", status

        self.server = ServerThread(app)

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"


@pytest.fixture
def mock(settings: Settings, clock: VirtualClock) -> Iterator[ServerThread]:
    with ServerThread(create_app(settings, clock=clock)) as server:
        yield server
        events_runtime(server.app).stop()


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll a real condition with a deadline (a background thread does the work)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def admin_api(mock: ServerThread) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    return session


def test_a_failing_live_target_is_retried_and_the_log_says_so(mock: ServerThread, clock: VirtualClock) -> None:
    receiver = Receiver([500, 503, 500])
    with receiver.server:
        api = admin_api(mock)
        api.post(f"{mock.url}/mock/webhooks", json={"url": receiver.url, "maxAttempts": 3, "backoffSeconds": 1})
        operation = mock.holder.platform.publish_schedule()
        clock.set(operation.completes_at)

        def log() -> list[dict[str, Any]]:
            return api.get(f"{mock.url}/mock/webhooks/deliveries").json()["entities"]

        wait_for(lambda: len(log()) == 1 and len(log()[0]["attempts"]) == 1)
        for _ in range(2):  # each retry is due one backoff later in virtual time
            attempts = len(log()[0]["attempts"])
            clock.advance(10)
            wait_for(lambda n=attempts: len(log()[0]["attempts"]) > n)
        [delivery] = log()
    assert delivery["state"] == "failed"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 500]
    assert delivery["operationId"] == operation.id
    assert len(receiver.received) == 3
    body, headers = receiver.received[-1]
    assert body["eventBody"]["operationId"] == operation.id
    assert headers["X-Mockgc-Attempt"] == "3" and headers["X-Mockgc-Delivery-Id"] == delivery["id"]


def test_an_unreachable_target_fails_with_no_answer(mock: ServerThread, clock: VirtualClock) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    api = admin_api(mock)
    api.post(f"{mock.url}/mock/webhooks", json={"url": f"http://127.0.0.1:{closed}/hook", "maxAttempts": 1})
    operation = mock.holder.platform.publish_schedule()
    clock.set(operation.completes_at)
    delivery = wait_for(lambda: api.get(f"{mock.url}/mock/webhooks/deliveries?state=failed").json()["entities"])[0]
    assert delivery["attempts"][0]["status"] == 0
    assert "ConnectionError" in delivery["attempts"][0]["error"]


def test_delivery_never_blocks_request_threads(mock: ServerThread, clock: VirtualClock) -> None:
    """The receiver holds the POST open; API requests meanwhile answer at once."""
    gate = threading.Event()
    receiver = Receiver([], gate=gate)
    with receiver.server:
        api = admin_api(mock)
        api.post(f"{mock.url}/mock/webhooks", json={"url": receiver.url})
        operation = mock.holder.platform.publish_schedule()
        clock.set(operation.completes_at)
        wait_for(lambda: api.get(f"{mock.url}/mock/webhooks/deliveries?state=sending").json()["entities"])
        started = time.monotonic()
        assert api.get(f"{mock.url}/mock/info", timeout=5).status_code == 200
        assert time.monotonic() - started < 2.0
        gate.set()
        wait_for(lambda: api.get(f"{mock.url}/mock/webhooks/deliveries?state=delivered").json()["entities"])
    assert len(receiver.received) == 1
