"""The worker's intake under attack: each forged-webhook attack of issue 8 tried against the live worker, the
bounded queue (429, and the sender's retry loses nothing), bounded job waits, and bad input answered as JSON 4xx.

Against the original worker (no signatures, no platform check, no bound) each attack worked: a forged event
turned PREF-NEW back into an hour-old PREF-OLD; a forged Complete for the predicted operation id made the real
delivery a duplicate (the lost write stayed lost); an unknown business unit held the job thread for 301
virtual seconds (302 requests answered 404); 20,000 forged events were all answered 202, queued and persisted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgc.clock import VirtualClock
from mockgc.drivers.inprocess import InProcessTransport
from mockgc.faults import get_profile
from mockgc.flows.effects import Reply
from mockgc.flows.mitigations.async_worker import AsyncWorker, Intent, WorkerConfig, intent_key
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.standard_webhooks import Verifier, new_secret, sign
from mockgc.platform.domain.webhooks import Delivery, SendResult, TargetSpec, WebhookRegistry
from mockgc.platform.http.app import create_app
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings
from mockgc.spec.companion import Companion
from mockgc.stores import MemoryStore, open_store
from mockgc.strategies.registry import REGISTRY, register
from mockgc.worker.app import create_worker_app
from mockgc.worker.engine import RepairWorker
from mockgc.worker.service import ReauthTransport, WorkerService
from mockgc.worker.simulated import SimulatedWorker
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET, simulate
from tests.worker.test_worker import NS, T0, ScriptedPlatform, record_intents, run_job, webhook

ERROR_KEYS = {"message", "code", "status", "contextId", "details", "errors"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll a real condition with a deadline (the worker's and the mock's threads do the work)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def platform_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is the platform's JSON error body with this status and code."""
    body = response.json() if isinstance(response, requests.Response) else response.json
    assert response.status_code == status, body
    assert set(body) >= ERROR_KEYS and body["status"] == status and body["code"] == code, body
    return dict(body)


@dataclass
class Rig:
    """The mock and a live worker sharing one virtual clock; the worker's webhook registered with its secret."""

    mock: ServerThread
    server: ServerThread
    clock: VirtualClock
    worker: RepairWorker
    service: WorkerService
    store: Any
    secret: str

    @property
    def platform(self) -> Platform:
        return self.mock.holder.platform

    @property
    def bu(self) -> str:
        return next(iter(self.platform.business_units))

    def post(self, message: Any, *, secret: str | None = None, at: float | None = None, msg: str = "m") -> Any:
        """As an attacker (unsigned, or signed with the secret given) over real HTTP."""
        body = json.dumps(message).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers |= sign(secret, msg, self.clock.now() if at is None else at, body)
        return requests.post(f"{self.server.url}/webhook", data=body, headers=headers, timeout=10)

    def session(self) -> str:
        agent = next(iter(self.platform.agents))
        call = self.platform.conversations.create_call(agent)
        return self.platform.scripts.create(agent, call.id).id

    def intent(self, session_id: str, value: str, at: float) -> None:
        self.store.put(
            intent_key(NS, session_id, "preferenceCode"), Intent(session_id, "preferenceCode", value, at).encode()
        )

    def value(self, session_id: str) -> Any:
        return self.platform.ground_truth()[session_id]["variables"].get("preferenceCode")

    def job_keys(self) -> dict[str, str]:
        return dict(self.store.items(f"{NS}job:"))


@pytest.fixture
def rig(settings: Settings, clock: VirtualClock, tmp_path: Path) -> Iterator[Rig]:
    with ServerThread(create_app(settings, clock=clock)) as mock:
        secret = new_secret()
        store = open_store(f"sqlite:///{tmp_path}/store.db")
        config = WorkerConfig(namespace=NS, rate_limit_per_minute=0)
        worker = RepairWorker(store, config, verifier=Verifier(secret, clock.now))
        service = WorkerService(
            worker,
            ReauthTransport(mock.url, CLIENT_ID, CLIENT_SECRET),
            check_transport=ReauthTransport(mock.url, CLIENT_ID, CLIENT_SECRET),
            clock=clock.now,
            sleep=clock.advance,
        ).start()
        server = ServerThread(create_worker_app(service)).start()
        try:
            registration = {"url": f"{server.url}/webhook", "secret": secret}
            requests.post(f"{mock.url}/mock/webhooks", json=registration, headers=ADMIN, timeout=5).raise_for_status()
            yield Rig(mock, server, clock, worker, service, store, secret)
        finally:
            server.stop()
            service.stop()
            events_runtime(mock.app).stop()


# -- the four attacks ----------------------------------------------------------------------------------------


def test_a_forged_event_cannot_write_hour_old_intents_over_current_values(rig: Rig) -> None:
    session = rig.session()
    rig.intent(session, "PREF-OLD", rig.clock.now())
    rig.clock.advance(3600)
    rig.platform.scripts.set_variable(session, "preferenceCode", "PREF-NEW", None)
    forged = webhook("forged-1", rig.bu)

    unsigned = platform_error(rig.post(forged), 401, "authentication.required")
    assert "webhook-signature" in unsigned["message"]
    platform_error(rig.post(forged, secret=new_secret()), 401, "bad.credentials")  # a guessed secret
    # A captured delivery replayed later is stale, whatever its signature.
    platform_error(rig.post(forged, secret=rig.secret, at=rig.clock.now() - 301), 401, "bad.credentials")
    # Even with the secret (leaked, or a buggy sender) an operation the platform does not list changes nothing.
    unknown = platform_error(rig.post(forged, secret=rig.secret), 400, "invalid.value")
    assert "forged-1" in unknown["message"]

    assert rig.service.wait_idle(5)
    assert rig.value(session) == "PREF-NEW"
    assert rig.worker.jobs == {} and rig.job_keys() == {}
    stats = rig.worker.stats
    assert stats["unsigned"] == 1 and stats["bad_signatures"] == 2 and stats["refused_unknown_operation"] == 1
    assert stats["requests"] == 0  # no job ever ran


def test_a_forged_complete_for_the_next_operation_cannot_make_the_real_one_a_duplicate(
    rig: Rig, settings: Settings
) -> None:
    # Operation ids come from the seed: a twin org built the same way names the next one.
    predicted = (
        Platform(settings.org, get_profile(settings.org.profile), VirtualClock(rig.clock.now())).publish_schedule().id
    )
    for attempt in (None, new_secret()):
        assert rig.post(webhook(predicted, rig.bu), secret=attempt).status_code == 401
    platform_error(rig.post(webhook(predicted, rig.bu), secret=rig.secret), 400, "invalid.value")

    operation = rig.platform.publish_schedule()
    session = rig.session()
    rig.intent(session, "PREF-LOST", rig.clock.now())  # the flow's intent; its platform write was lost
    # While the publish runs, a "Complete" for its real id is refused too, and not remembered.
    assert rig.post(webhook(operation.id, rig.bu)).status_code == 401
    platform_error(rig.post(webhook(operation.id, rig.bu), secret=rig.secret), 409, "request.conflict")

    rig.clock.set(operation.completes_at + 0.01)  # the mock's events thread sends the real, signed delivery
    wait_for(lambda: rig.worker.stats["jobs_done"] == 1 and rig.service.idle())
    assert rig.worker.stats["duplicates"] == 0
    assert rig.value(session) == "PREF-LOST"  # the lost write was repaired
    [delivery] = events_runtime(rig.mock.app).webhooks.deliveries()
    assert delivery["state"] == "delivered" and [a["status"] for a in delivery["attempts"]] == [202]
    # The real delivery, replayed: refused once stale (the tolerance is five minutes), a no-op before.
    sent = next(d for d in events_runtime(rig.mock.app).webhooks.log if d.id == delivery["id"])
    body, headers = sent.signed(delivery["attempts"][0]["atEpochMs"] / 1000)
    replay = {**headers, "Content-Type": "application/json"}
    again = requests.post(f"{rig.server.url}/webhook", data=body, headers=replay, timeout=10)
    assert again.status_code == 202 and again.json()["accepted"] is False
    rig.clock.advance(301)
    stale = requests.post(f"{rig.server.url}/webhook", data=body, headers=replay, timeout=10)
    assert "stale" in platform_error(stale, 401, "bad.credentials")["message"]


def test_an_event_for_an_unknown_business_unit_is_refused_at_once_not_waited_on(rig: Rig) -> None:
    start = rig.clock.now()
    assert rig.post(webhook("x", "no-such-bu")).status_code == 401
    refused = platform_error(rig.post(webhook("x", "no-such-bu"), secret=rig.secret), 400, "invalid.value")
    assert "business unit no-such-bu is unknown" in refused["message"]
    assert rig.service.idle() and rig.clock.now() == start  # not one virtual second was spent on it
    assert rig.worker.jobs == {} and rig.job_keys() == {}

    # The job thread is free: the next real publish is repaired after its settle wait, and the wait is reported.
    operation = rig.platform.publish_schedule()
    session = rig.session()
    rig.intent(session, "PREF-1", rig.clock.now())
    rig.clock.set(operation.completes_at + 0.01)
    wait_for(lambda: rig.worker.stats["jobs_done"] == 1 and rig.service.idle())
    assert rig.value(session) == "PREF-1"
    status = requests.get(f"{rig.server.url}/status", timeout=5).json()
    wait = status["waits"][operation.id]
    assert wait["outcome"] == "settled" and wait["maxWaitSeconds"] == 900
    assert 0 < wait["waitedSeconds"] <= 1.1  # the 1 s settle after the completion, nothing more


def test_a_flood_of_forged_events_queues_and_persists_nothing(rig: Rig) -> None:
    client = create_worker_app(rig.service).test_client()
    # 2,000 here (20x the queue bound) keeps the suite quick; 20,000 against the original worker were all queued.
    forged = [webhook(f"forged-{i}", rig.bu) for i in range(2_000)]
    statuses = [client.post("/webhook", json=message).status_code for message in forged]
    assert set(statuses) == {401}
    # Signed ones (a leaked secret) for operations the platform does not know: refused, one platform check each.
    for message in forged[:100]:
        body = json.dumps(message).encode()
        headers = sign(rig.secret, "m", rig.clock.now(), body)
        answer = client.post("/webhook", data=body, headers=headers, content_type="application/json")
        assert answer.status_code == 400
    assert rig.service.idle() and rig.service.queue.qsize() == 0
    assert rig.worker.jobs == {} and rig.job_keys() == {}
    status = client.get("/status").json
    assert status["stats"]["unsigned"] == 2_000 and status["stats"]["refused_unknown_operation"] == 100
    assert status["queueBound"] == 100


# -- the bounded queue: 429 with Retry-After, and the sender's retry loses nothing ----------------------------


class HeldJobs:
    """A transport whose calls from the job thread wait for the gate (intake checks pass straight through)."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner, self.gate = inner, gate

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        assert self.gate.wait(10)
        return self.inner.call(op, params)


def test_a_full_queue_answers_429_and_the_mocks_retries_deliver_everything(settings: Settings) -> None:
    clock = VirtualClock(T0)
    platform = Platform(settings.org, get_profile("fast"), clock)
    registry = WebhookRegistry(clock, seed=7)
    target = registry.register(TargetSpec("http://worker.test/webhook", backoff_seconds=1, max_attempts=5))
    platform.events.subscribe(registry.on_event)
    gate = threading.Event()
    in_process = InProcessTransport(platform)
    worker = RepairWorker(
        MemoryStore(),
        WorkerConfig(namespace=NS, rate_limit_per_minute=0, settle_seconds=0),
        verifier=Verifier(target.secret, clock.now),
    )
    service = WorkerService(
        worker, HeldJobs(in_process, gate), check_transport=in_process, clock=clock.now, max_queued=1
    ).start()
    client = create_worker_app(service).test_client()

    def send(delivery: Delivery) -> SendResult:
        body, headers = delivery.signed(clock.now())
        answer = client.post("/webhook", data=body, headers=headers, content_type="application/json")
        return SendResult.answered(answer.status_code, answer.get_data(as_text=True), answer.headers.get("Retry-After"))

    try:
        operations = []
        for _ in range(3):
            operations.append(platform.publish_schedule())
            clock.set(operations[-1].completes_at)
            platform.settle()
        assert registry.pump(send) == 3
        log = registry.deliveries()
        assert [d["attempts"][0]["status"] for d in log] == [202, 429, 429]  # one job held, the queue is full
        assert worker.stats["queue_full"] == 2 and worker.stats["accepted"] == 1
        gate.set()
        for _ in range(120):  # virtual seconds; the refused ones come back after Retry-After (10 s)
            assert service.wait_idle(10)
            registry.pump(send)
            clock.advance(1)
        assert service.wait_idle(10)
    finally:
        gate.set()
        service.stop()
    log = registry.deliveries()
    assert [d["state"] for d in log] == ["delivered"] * 3
    assert all(d["attempts"][-1]["status"] == 202 for d in log)
    retried = [a["atEpochMs"] - d["attempts"][0]["atEpochMs"] for d in log[1:] for a in d["attempts"][1:2]]
    assert all(gap >= 10_000 for gap in retried)  # the sender believed Retry-After
    assert worker.stats["jobs_done"] == 3 and set(worker.jobs) == {op.id for op in operations}


# -- a job's wait is bounded, and reported ----------------------------------------------------------------------


class VanishingPlatform(ScriptedPlatform):
    """list_operations answers with a status of our choosing (404: the business unit is gone; 0: no answer;
    200: ScriptedPlatform's completed op-1)."""

    def __init__(self, clock: VirtualClock, status: int) -> None:
        super().__init__(clock, storm=[], refuse_first=set())
        self.status = status

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        if op == "list_operations" and self.status != 200:
            self.calls.append((self.clock.now(), op))
            return Reply(self.status, {"code": "not.found"} if self.status == 404 else None)
        return super().call(op, params)


@pytest.mark.parametrize(
    ("status", "outcome", "waited"),
    # No answer: one try per round (request_attempts=1), retried for max_retry_seconds * request_attempts = 30 s.
    [(404, "unknown_business_unit", 0.0), (0, "gave_up_waiting", 31.0), (200, "unknown_operation", 0.0)],
)
def test_a_jobs_wait_is_bounded_reported_and_repairs_nothing_it_cannot_place(
    status: int, outcome: str, waited: float
) -> None:
    """The platform forgets the business unit, never answers, or does not list the operation: the job stops
    (at once, or after its bounded retries) and writes nothing; before, it repaired every intent until now."""
    clock = VirtualClock(T0 + 6)
    store = MemoryStore()
    record_intents(store, ["old", "recent"], T0 - 3600)
    fake = VanishingPlatform(clock, status) if status != 200 else ScriptedPlatform(clock, storm=[], refuse_first=set())
    worker = RepairWorker(
        store, WorkerConfig(namespace=NS, rate_limit_per_minute=0, request_attempts=1, max_retry_seconds=30)
    )
    job = worker.accept(webhook("op-gone" if status == 200 else "op-1"), clock.now())
    assert job is not None
    summary = run_job(worker, job, fake, clock)
    assert summary["selected"] == 0 and fake.applied == {}
    wait = worker.snapshot()["waits"][job.operation_id]
    assert wait["outcome"] == outcome and wait["maxWaitSeconds"] == 900
    assert wait["waitedSeconds"] == pytest.approx(waited, abs=1.0)
    assert worker.jobs[job.operation_id]["error"] == outcome.replace("_", " ")


def test_a_platform_that_cannot_confirm_gets_the_event_back_later_nothing_remembered() -> None:
    clock = VirtualClock(T0 + 6)
    secret = new_secret()
    down = VanishingPlatform(clock, 0)
    worker = RepairWorker(MemoryStore(), WorkerConfig(namespace=NS), verifier=Verifier(secret, clock.now))
    client = create_worker_app(WorkerService(worker, down, clock=clock.now)).test_client()
    body = json.dumps(webhook("op-1")).encode()

    def deliver() -> Any:
        return client.post(
            "/webhook", data=body, headers=sign(secret, "m", clock.now(), body), content_type="application/json"
        )

    unavailable = deliver()
    platform_error(unavailable, 503, "service.unavailable")
    assert unavailable.headers["Retry-After"] == "5"
    assert worker.jobs == {} and worker.stats["refused_platform_unavailable"] == 1
    down.status = 200  # back: the sender's retry is accepted, not taken for a duplicate
    assert deliver().json == {"accepted": True, "operationId": "op-1"}


# -- bad input: JSON 4xx in the platform's body, never a 500 or HTML -------------------------------------------


@pytest.fixture
def intake() -> Iterator[tuple[Any, str, VirtualClock, RepairWorker]]:
    clock = VirtualClock(T0 + 6)
    secret = new_secret()
    fake = ScriptedPlatform(clock, storm=[], refuse_first=set())
    worker = RepairWorker(
        MemoryStore(), WorkerConfig(namespace=NS, rate_limit_per_minute=0), verifier=Verifier(secret, clock.now)
    )
    service = WorkerService(worker, fake, clock=clock.now, sleep=clock.advance)  # not started: nothing runs
    yield create_worker_app(service).test_client(), secret, clock, worker


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (DEEP, "bad.request"),
        (b"{", "bad.request"),
        (b"\xff\xfe\x00garbage", "bad.request"),
        (b"[]", "invalid.value"),
        (b'"a string"', "invalid.value"),
        (b'{"topicName": 5}', "invalid.value"),
        (b'{"topicName": "v2.workforcemanagement.businessunits.bu-1.schedules", "eventBody": "x"}', "invalid.value"),
        (
            json.dumps({**webhook("op-1"), "eventBody": {"status": "Complete", "operationId": "x" * 500}}).encode(),
            "invalid.value",
        ),
        (
            b'{"topicName": "v2.workforcemanagement.businessunits..schedules", "eventBody": {"operationId": "o"}}',
            "invalid.value",
        ),
    ],
)
def test_signed_bad_bodies_are_json_400s(intake: Any, body: bytes, code: str) -> None:
    client, secret, clock, worker = intake
    signed = client.post(
        "/webhook", data=body, headers=sign(secret, "m", clock.now(), body), content_type="application/json"
    )
    platform_error(signed, 400, code)
    # Unsigned, the same body is not even parsed.
    platform_error(client.post("/webhook", data=body, content_type="application/json"), 401, "authentication.required")
    assert worker.jobs == {}


def test_other_bad_requests_are_json_4xx(intake: Any) -> None:
    client, secret, clock, worker = intake
    body = json.dumps(webhook("op-1")).encode()
    headers = sign(secret, "m", clock.now(), body)
    platform_error(
        client.post("/webhook", data=body, headers=headers, content_type="text/plain"), 415, "unsupported.media.type"
    )
    huge = b" " * 600_000 + body
    too_big = client.post(
        "/webhook", data=huge, headers=sign(secret, "m", clock.now(), huge), content_type="application/json"
    )
    platform_error(too_big, 413, "request.entity.too.large")
    platform_error(client.get("/webhook"), 405, "method.not.allowed")
    platform_error(client.get("/nope"), 404, "not.found")
    # Events that ask for nothing are acknowledged and ignored.
    for message in (webhook("op-1", status="Processing"), {"topicName": "v2.users.u1.presence", "eventBody": {}}):
        raw = json.dumps(message).encode()
        ignored = client.post(
            "/webhook", data=raw, headers=sign(secret, "m", clock.now(), raw), content_type="application/json"
        )
        assert ignored.status_code == 202 and ignored.json == {"accepted": False, "operationId": None}
    assert worker.stats["ignored"] == 2


def test_a_worker_without_a_secret_accepts_nothing(intake: Any) -> None:
    client, secret, clock, worker = intake
    worker.verifier = None
    body = json.dumps(webhook("op-1")).encode()
    answer = client.post(
        "/webhook", data=body, headers=sign(secret, "m", clock.now(), body), content_type="application/json"
    )
    assert "no webhook secret" in platform_error(answer, 401, "authentication.required")["message"]


# -- a restarted worker reports every repair in the store -------------------------------------------------------


def test_a_restarted_worker_reports_every_repair_recorded_in_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    clock = VirtualClock(T0 + 6)
    record_intents(open_store(url), ["a", "b"], T0 + 1)
    first = RepairWorker(open_store(url), WorkerConfig(namespace=NS, rate_limit_per_minute=0))
    job = first.accept(webhook("op-1"), clock.now())
    run_job(first, job, ScriptedPlatform(clock, storm=[], refuse_first=set()), clock)
    assert set(first.repaired()) == {"a", "b"}

    # The process restarts on the same store; a later publish repairs one more session.
    clock.advance(60)
    restarted = RepairWorker(open_store(url), WorkerConfig(namespace=NS, rate_limit_per_minute=0))
    app = create_worker_app(WorkerService(restarted, None, clock=clock.now)).test_client()
    assert app.get("/repairs").json == {"repairs": first.repaired(), "count": 2}
    record_intents(open_store(url), ["c"], clock.now() - 1, value="NEW-{}")

    class Later(ScriptedPlatform):
        def call(self, op: str, params: dict[str, Any]) -> Reply:
            reply = super().call(op, params)
            if op == "list_operations":
                [entity] = reply.body["entities"]
                times = {"startedEpochMs": int((clock.now() - 5) * 1000), "completesEpochMs": int(clock.now() * 1000)}
                return Reply(200, {"entities": [{**entity, "operationId": "op-2", "mockgc": times}]})
            return reply

    run_job(
        restarted, restarted.accept(webhook("op-2"), clock.now()), Later(clock, storm=[], refuse_first=set()), clock
    )
    assert set(restarted.repairs) == {"c"}  # this life's own
    listed = app.get("/repairs").json
    assert listed["count"] == 3 and set(listed["repairs"]) == {"a", "b", "c"}
    assert listed["repairs"]["a"] == first.repaired()["a"]


# -- the simulator verifies too -------------------------------------------------------------------------------


class TamperedWorker(SimulatedWorker):
    """The simulated worker holding a different secret from the one the registration signs with."""

    def install(self, sim: Any) -> None:
        super().install(sim)
        self.worker.verifier = Verifier(new_secret(), sim.clock.now)


class TamperedAsyncWorker(AsyncWorker):
    name = "tampered-async-worker"


def test_the_simulator_signs_and_verifies_every_delivery() -> None:
    honest = simulate(mitigation="async-worker", profile="seed-clobber", sessions=200, seed=3)
    register(TamperedAsyncWorker, Companion(simulated=lambda strategy: [TamperedWorker(strategy.worker_config())]))  # type: ignore[attr-defined]
    try:
        tampered = simulate(mitigation=TamperedAsyncWorker(), profile="seed-clobber", sessions=200, seed=3)
    finally:
        del REGISTRY[TamperedAsyncWorker.name]
    assert honest["worker"]["webhooks"]["delivered"] == 3 and honest["consistency"]["repaired"] > 0
    assert tampered["worker"]["webhooks"]["failed"] == 3  # every attempt refused: 401
    assert tampered["worker"]["stats"]["bad_signatures"] == 3 * 5
    assert tampered["consistency"]["repaired"] == 0 and tampered["verdict"] == "fails"
