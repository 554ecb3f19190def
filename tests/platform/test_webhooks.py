"""Webhooks for publish events: registration and its secret, signed delivery with retries and backoff, the log."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient
from standardwebhooks.webhooks import Webhook

from mockgc.clock import VirtualClock
from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.events import PlatformEvent
from mockgc.platform.domain.standard_webhooks import Verifier, new_secret
from mockgc.platform.domain.webhooks import Delivery, SendResult, TargetSpec, WebhookRegistry
from mockgc.platform.http.app import create_app
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.platform.http.webhooks import parse_target
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings
from tests.conftest import ADMIN_KEY

SCHEDULES = "v2.workforcemanagement.businessunits.bu-1.schedules"


def event(at: float, topic: str = SCHEDULES, operation: str = "op-1") -> PlatformEvent:
    return PlatformEvent(at, topic, {"status": "Complete", "operationId": operation, "eventType": "Update"})


# -- the domain: virtual time, a scripted sender ------------------------------------------------------


def test_a_failing_target_is_retried_with_backoff_then_marked_failed(clock: VirtualClock) -> None:
    registry = WebhookRegistry(clock)
    registry.register(TargetSpec("http://127.0.0.1:9/hook", max_attempts=4, backoff_seconds=2))
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
    registry.register(TargetSpec("http://127.0.0.1:9/hook", backoff_seconds=1))
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


def test_a_receiver_that_says_retry_after_is_believed(clock: VirtualClock) -> None:
    """A full receiver answers 429 with Retry-After: the next attempt waits that long, not the 1 s backoff."""
    registry = WebhookRegistry(clock)
    registry.register(TargetSpec("http://127.0.0.1:9/hook", backoff_seconds=1))
    start = clock.now()
    registry.on_event(event(start))
    answers = iter([SendResult(429, "queue full", 10.0), SendResult(202)])
    sent: list[float] = []

    def full_then_free(delivery: Delivery) -> SendResult:
        sent.append(clock.now() - start)
        return next(answers)

    for _ in range(30):
        registry.pump(full_then_free)
        clock.advance(1)
    assert sent == [0, 10]
    assert registry.deliveries("delivered")[0]["attempts"][0]["status"] == 429


def test_every_attempt_is_signed_with_the_targets_secret(clock: VirtualClock) -> None:
    registry = WebhookRegistry(clock)
    secret = new_secret()
    registry.register(TargetSpec("http://127.0.0.1:9/hook", secret=secret, backoff_seconds=1))
    other = registry.register(TargetSpec("http://127.0.0.1:9/other"))
    assert other.secret != secret and other.secret.startswith("whsec_")  # one per registration, generated
    registry.on_event(event(clock.now()))
    signed: list[tuple[bytes, dict[str, str]]] = []

    def record(delivery: Delivery) -> SendResult:
        if delivery.target.secret == secret:
            signed.append(delivery.signed(clock.now()))
            return SendResult(503 if len(signed) == 1 else 202)
        return SendResult(202)

    for _ in range(5):
        registry.pump(record)
        clock.advance(1)
    (first_body, first), (second_body, second) = signed
    assert first_body == second_body and json.loads(first_body)["eventBody"]["operationId"] == "op-1"
    assert first["webhook-id"] == second["webhook-id"]  # the same delivery on a retry: a receiver can dedupe
    assert int(second["webhook-timestamp"]) == int(first["webhook-timestamp"]) + 1  # signed when sent
    verifier = Verifier(secret, clock.now)
    assert verifier.verify(second_body, second) == second["webhook-id"]
    assert "secret" not in repr(registry.targets)  # a log line cannot leak it


def test_only_matching_topics_are_delivered(clock: VirtualClock) -> None:
    registry = WebhookRegistry(clock)
    registry.register(TargetSpec("http://127.0.0.1:9/hook"))  # publish events by default
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
        {"url": "http://h/x", "secret": "s3cret"},
        {"url": "http://h/x", "secret": "whsec_" + base64.b64encode(b"too short").decode()},
        {"url": "http://h/x", "secret": "whsec_not base64!"},
        {"url": "http://h/x", "secret": 42},
        {"url": "http://[::1/x"},
        ["http://h/x"],
    ],
)
def test_bad_targets_are_refused(body: Any) -> None:
    with pytest.raises(InvalidValue):
        parse_target(body)


# -- the admin API --------------------------------------------------------------------------------------


def test_the_admin_api_needs_the_admin_key(client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.get("/mock/webhooks").status_code == 401
    assert client.post("/mock/webhooks", json={"url": "http://h/x"}, headers=auth).status_code == 401


def test_register_list_and_remove_targets(app: Flask, client: FlaskClient, admin: dict[str, str]) -> None:
    try:
        created = client.post("/mock/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=admin)
        assert created.status_code == 201
        target = dict(created.json)
        secret = target.pop("secret")  # generated, and shown this once
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
        assert target["timeoutSeconds"] == 30 and target["maxAttempts"] == 5
        assert target["topics"] == ["v2.workforcemanagement.businessunits.*.schedules"]
        listed = client.get("/mock/webhooks", headers=admin)
        assert listed.json["entities"] == [target]
        assert secret[6:] not in listed.get_data(as_text=True)
        mine = new_secret()
        given = client.post("/mock/webhooks", json={"url": "http://127.0.0.1:9/b", "secret": mine}, headers=admin)
        assert given.status_code == 201 and given.json["secret"] == mine
        bad = client.post("/mock/webhooks", json={"url": "nope"}, headers=admin)
        assert bad.status_code == 400 and bad.json["code"] == "invalid.value"
        weak = client.post("/mock/webhooks", json={"url": "http://h/x", "secret": "hunter2"}, headers=admin)
        assert weak.status_code == 400 and weak.json["details"] == [{"fieldName": "secret"}]
        assert client.delete(f"/mock/webhooks/{target['id']}", headers=admin).status_code == 204
        assert client.delete(f"/mock/webhooks/{target['id']}", headers=admin).status_code == 404
        assert client.get("/mock/webhooks/deliveries?state=lost", headers=admin).status_code == 400
    finally:
        events_runtime(app).stop()


def test_seeded_ids_repeat_and_served_ids_do_not(clock: VirtualClock) -> None:
    def first_id(seed: int | None) -> str:
        return WebhookRegistry(clock, seed=seed).register(TargetSpec("http://127.0.0.1:9/hook")).id

    # The simulator's registry reproduces its ids; a served mock's registrations outlive resets to
    # other seeds, so a reseeded stream would repeat delivery ids a receiver already deduped.
    assert first_id(7) == first_id(7)
    assert first_id(None) != first_id(None)


def test_a_served_mock_draws_webhook_ids_whatever_its_seed(admin: dict[str, str]) -> None:
    ids = []
    for _ in range(2):
        app = create_app(Settings(seed=3, admin_key=ADMIN_KEY), clock=VirtualClock())
        try:
            created = app.test_client().post("/mock/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=admin)
            ids.append(created.json["id"])
        finally:
            events_runtime(app).stop()
    assert ids[0] != ids[1]


# -- live: a real receiver, a real failing target, delivery in the background --------------------------


class Receiver:
    """A served endpoint answering with scripted statuses, recording what it got."""

    def __init__(self, statuses: list[int], gate: threading.Event | None = None) -> None:
        self.statuses = statuses
        self.gate = gate
        self.received: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.raw: list[bytes] = []
        app = Flask("receiver")

        @app.post("/hook")
        def hook() -> tuple[str, int]:
            if self.gate is not None:
                self.gate.wait(10)
            self.raw.append(request.get_data())
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
        registration = {"url": receiver.url, "maxAttempts": 3, "backoffSeconds": 1}
        secret = api.post(f"{mock.url}/mock/webhooks", json=registration).json()["secret"]
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
    assert headers["X-Mockgc-Attempt"] == "3" and headers["Webhook-Id"] == delivery["id"]
    assert headers["Content-Type"] == "application/json"
    # Signed as the Standard Webhooks spec says: the reference implementation computes the same signature
    # (its own verify() would use the wall clock; this mock runs on a virtual one).
    stamp = int(headers["Webhook-Timestamp"])
    assert stamp == int(clock.now())
    reference = Webhook(secret).sign(delivery["id"], datetime.fromtimestamp(stamp, UTC), receiver.raw[-1].decode())
    assert headers["Webhook-Signature"] == reference


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
