"""The async worker: idempotent intake, chunked repair under 429 storms, the HTTP service, the live hook."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgc.checker.check import check
from mockgc.clock import VirtualClock
from mockgc.drivers.http import HttpTransport
from mockgc.drivers.realtime import drive, run_flow
from mockgc.faults import get_profile
from mockgc.flows.context import FlowContext
from mockgc.flows.effects import Reply
from mockgc.flows.history import History
from mockgc.flows.mitigations.async_worker import Intent, WorkerConfig, intent_key
from mockgc.flows.script import script_flow
from mockgc.platform.domain.backend import Platform
from mockgc.platform.domain.errors import InvalidValue
from mockgc.platform.domain.standard_webhooks import Verifier, new_secret, sign
from mockgc.platform.http.app import create_app
from mockgc.platform.http.events_runtime import events_runtime
from mockgc.platform.serve.server import ServerThread
from mockgc.platform.settings import Settings
from mockgc.stores import MemoryStore, open_store
from mockgc.strategies.registry import load_mitigation
from mockgc.worker.app import create_worker_app
from mockgc.worker.engine import RepairWorker, repair_key
from mockgc.worker.service import ReauthTransport, WorkerService
from tests.conftest import ADMIN_KEY, CLIENT_ID, CLIENT_SECRET

NS = "mockgc:aw:"
BU = "bu-1"
T0 = 1_795_000_000.0


def webhook(operation_id: str, bu: str = BU, status: str = "Complete") -> dict[str, Any]:
    return {
        "topicName": f"v2.workforcemanagement.businessunits.{bu}.schedules",
        "version": "2",
        "eventBody": {"status": status, "operationId": operation_id, "eventType": "Update"},
        "metadata": {"CorrelationId": "c-1"},
    }


def signed_post(client: Any, message: Any, secret: str, at: float, delivery_id: str = "msg-1") -> Any:
    """POST a delivery to the worker's test client as the mock sends it: raw JSON bytes, signed at `at`."""
    body = json.dumps(message).encode()
    headers = sign(secret, delivery_id, at, body)
    return client.post("/webhook", data=body, headers=headers, content_type="application/json")


def record_intents(store: Any, sessions: list[str], at: float, value: str = "PREF-{}") -> None:
    for sid in sessions:
        store.put(intent_key(NS, sid, "preferenceCode"), Intent(sid, "preferenceCode", value.format(sid), at).encode())


class ScriptedPlatform:
    """A fake platform for the engine: one completed publish, and a script-data endpoint with a
    scripted storm (429s, dropped connections, per-item refusals) that counts every applied item."""

    def __init__(self, clock: VirtualClock, *, storm: list[str], refuse_first: set[str], limit: int = 100) -> None:
        self.clock = clock
        self.storm = list(storm)
        self.refuse_first = set(refuse_first)
        self.limit = limit
        self.applied: Counter[str] = Counter()
        self.values: dict[str, str] = {}
        self.chunk_sizes: list[int] = []
        self.calls: list[tuple[float, str]] = []

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        self.calls.append((self.clock.now(), op))
        if op == "list_operations":
            return Reply(
                200,
                {
                    "entities": [
                        {
                            "operationId": "op-1",
                            "status": "Complete",
                            "mockgc": {"startedEpochMs": int(T0 * 1000), "completesEpochMs": int((T0 + 5) * 1000)},
                        }
                    ]
                },
            )
        assert op == "script_data"
        updates = params["updates"]
        if len(updates) > self.limit:
            body = {"message": f"at most {self.limit} updates per request", "details": [{"fieldName": "updates"}]}
            return Reply(400, body)
        self.chunk_sizes.append(len(updates))
        weather = self.storm.pop(0) if self.storm else "ok"
        if weather == "429":
            return Reply(429, {"code": "too.many.requests.retry.after"}, retry_after=7)
        if weather == "reset":
            return Reply(0, None, error="ConnectionResetError")
        results = []
        for item in updates:
            sid = item["sessionId"]
            if sid in self.refuse_first:
                self.refuse_first.discard(sid)
                results.append({"sessionId": sid, "status": 400, "code": "bad.request", "message": "locked"})
                continue
            self.applied[sid] += 1
            self.values[sid] = item["variables"]["preferenceCode"]
            results.append({"sessionId": sid, "status": 200, "version": self.applied[sid]})
        return Reply(200, {"results": results})


@pytest.fixture
def vclock() -> VirtualClock:
    return VirtualClock(start=T0 + 6)


def run_job(worker: RepairWorker, job: Any, transport: Any, clock: VirtualClock) -> dict[str, Any]:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    summary = drive(worker.run(job), transport, clock=clock.now, sleep=sleep)
    summary["sleeps"] = sleeps
    return summary


def test_chunks_resume_through_a_storm_nothing_lost_nothing_doubled(vclock: VirtualClock) -> None:
    store = MemoryStore()
    sessions = [f"s{i:03d}" for i in range(95)]
    record_intents(store, sessions, T0 + 1)
    record_intents(store, ["early"], T0 - 60)  # written long before the publish: left alone
    fake = ScriptedPlatform(
        vclock,
        storm=["429", "ok", "reset", "429", "reset", "ok"],
        refuse_first={"s003", "s050", "s094"},
        limit=20,
    )
    worker = RepairWorker(store, WorkerConfig(namespace=NS, chunk_size=40, rate_limit_per_minute=0))
    job = worker.accept(webhook("op-1"), vclock.now())
    assert job is not None
    summary = run_job(worker, job, fake, vclock)

    assert summary["repaired"] == 95 and summary["failed"] == 0
    assert set(fake.applied) == set(sessions)  # nothing lost, "early" untouched
    assert max(fake.applied.values()) == 1  # nothing doubled: a 429 or reset chunk was not applied
    assert all(fake.values[s] == f"PREF-{s}" for s in sessions)
    assert max(fake.chunk_sizes) <= 20  # shrank under the platform's limit and stayed there
    assert worker.chunk_size == 20
    assert summary["sleeps"].count(7) == 2  # each 429 waited its Retry-After
    assert set(worker.repairs) == set(sessions)
    stats = worker.stats
    assert stats["http_429"] == 2 and stats["http_0"] == 2 and stats["items_refused"] == 3
    assert stats["chunk_shrunk"] == 1
    # The repair records say what landed, so a second job for a later publish skips them.
    assert json.loads(store.get(repair_key(NS, "s003", "preferenceCode")) or "{}")["value"] == "PREF-s003"


def test_an_acknowledged_job_survives_a_crash_before_its_repair(vclock: VirtualClock) -> None:
    """The webhook was answered 202; the worker died before repairing: its next life finishes the job."""
    store = MemoryStore()
    record_intents(store, ["a", "b"], T0 + 1)
    crashed = RepairWorker(store, WorkerConfig(namespace=NS, rate_limit_per_minute=0))
    assert crashed.accept(webhook("op-1"), vclock.now()) is not None  # acknowledged, never run

    restarted = RepairWorker(store, WorkerConfig(namespace=NS, rate_limit_per_minute=0))
    recovered = restarted.recover()
    assert [job.operation_id for job in recovered] == ["op-1"]
    assert restarted.accept(webhook("op-1"), vclock.now()) is None  # a redelivery joins the recovered job
    fake = ScriptedPlatform(vclock, storm=[], refuse_first=set())
    summary = run_job(restarted, recovered[0], fake, vclock)
    assert summary["repaired"] == 2
    assert fake.applied == Counter({"a": 1, "b": 1})
    # Finished now: a third life recovers nothing.
    assert RepairWorker(store, WorkerConfig(namespace=NS, rate_limit_per_minute=0)).recover() == []


def test_a_duplicate_delivery_does_no_work_even_after_a_restart(vclock: VirtualClock) -> None:
    store = MemoryStore()
    record_intents(store, ["a", "b"], T0 + 1)
    fake = ScriptedPlatform(vclock, storm=[], refuse_first=set())
    worker = RepairWorker(store, WorkerConfig(namespace=NS, rate_limit_per_minute=0))
    job = worker.accept(webhook("op-1"), vclock.now())
    assert job is not None
    assert worker.accept(webhook("op-1"), vclock.now()) is None
    run_job(worker, job, fake, vclock)
    restarted = RepairWorker(store, WorkerConfig(namespace=NS, rate_limit_per_minute=0))
    assert restarted.accept(webhook("op-1"), vclock.now()) is None  # the job key is in the store
    assert worker.stats["duplicates"] == 1 and restarted.stats["duplicates"] == 1
    assert fake.applied == Counter({"a": 1, "b": 1})
    # Events that ask for nothing are ignored; a message of the wrong shape is refused.
    assert worker.accept(webhook("op-2", status="Processing"), vclock.now()) is None
    assert worker.accept({"topicName": "v2.users.u.presence", "eventBody": {}}, vclock.now()) is None
    assert worker.stats["ignored"] == 2
    with pytest.raises(InvalidValue):
        worker.accept("not a message", vclock.now())


def test_the_worker_paces_itself_under_the_rate_limit(vclock: VirtualClock) -> None:
    store = MemoryStore()
    record_intents(store, [f"s{i}" for i in range(50)], T0 + 1)
    fake = ScriptedPlatform(vclock, storm=[], refuse_first=set())
    worker = RepairWorker(store, WorkerConfig(namespace=NS, chunk_size=10, rate_limit_per_minute=30))
    job = worker.accept(webhook("op-1"), vclock.now())
    run_job(worker, job, fake, vclock)
    times = [t for t, _ in fake.calls]
    assert len(times) == 6  # list_operations, then 5 chunks of 10
    assert min(b - a for a, b in pairwise(times)) >= 2.0 - 1e-9  # 30/min: one every 2 s


def test_the_worker_waits_for_running_publishes_to_settle() -> None:
    settings = Settings(seed=7, agents=20, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limit_per_minute=0)
    clock = VirtualClock(T0)
    platform = Platform(settings.org, get_profile("fast"), clock)
    from mockgc.drivers.inprocess import InProcessTransport

    transport = InProcessTransport(platform)
    store = MemoryStore()
    first = platform.publish_schedule()
    call = platform.conversations.create_call(next(iter(platform.agents)))
    session = platform.scripts.create(next(iter(platform.agents)), call.id).to_api()
    record_intents(store, [session["id"]], clock.now(), value="PREF-X")
    clock.set(first.completes_at)
    second = platform.publish_schedule()  # a second publish starts as the first one ends
    worker = RepairWorker(store, WorkerConfig(namespace=NS, rate_limit_per_minute=0, settle_seconds=1.0))
    job = worker.accept(webhook(first.id, bu=first.business_unit_id), clock.now())
    run_job(worker, job, transport, clock)
    landed = worker.repairs[session["id"]]
    assert landed >= second.completes_at + 1.0 - 0.002  # only once the later publish settled too (ms API times)
    assert platform.ground_truth()[session["id"]]["variables"] == {"preferenceCode": "PREF-X"}


# -- against the live mock: a real 429 storm, over HTTP ----------------------------------------------


@pytest.fixture
def mock(clock: VirtualClock) -> Iterator[ServerThread]:
    settings = Settings(
        seed=7,
        agents=20,
        profile="fast",
        admin_key=ADMIN_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        script_data_chunk_limit=25,
    )
    with ServerThread(create_app(settings, clock=clock)) as server:
        yield server
        events_runtime(server.app).stop()


def make_sessions(platform: Platform, n: int) -> list[str]:
    agents = list(platform.agents)
    made = []
    for i in range(n):
        call = platform.conversations.create_call(agents[i % len(agents)])
        made.append(platform.scripts.create(agents[i % len(agents)], call.id).id)
    return made


def test_live_429_storm_under_a_tiny_per_token_limit(mock: ServerThread, clock: VirtualClock) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    requests.post(
        f"{mock.url}/mock/oauth/clients",
        json={"clientId": "worker", "clientSecret": "w", "rateLimitPerMinute": 3},
        headers=admin,
        timeout=5,
    ).raise_for_status()
    toxic = {
        "name": "storm",
        "type": "rate_limit",
        "toxicity": 0.4,
        "path_prefix": "/api/v2/analytics/script-data",
        "attributes": {"retry_after": 5},
    }
    requests.post(f"{mock.url}/mock/faults/toxics", json=toxic, headers=admin, timeout=5).raise_for_status()
    platform = mock.holder.platform
    sessions = make_sessions(platform, 110)
    operation = platform.publish_schedule()
    store = MemoryStore()
    record_intents(store, sessions, clock.now())
    clock.set(operation.completes_at + 0.01)

    worker = RepairWorker(store, WorkerConfig(namespace=NS, chunk_size=20, rate_limit_per_minute=0))
    job = worker.accept(webhook(operation.id, bu=operation.business_unit_id), clock.now())
    summary = run_job(worker, job, ReauthTransport(mock.url, "worker", "w"), clock)

    truth = platform.ground_truth()
    assert summary["repaired"] == 110 and summary["failed"] == 0
    assert all(truth[s]["variables"] == {"preferenceCode": f"PREF-{s}"} for s in sessions)  # nothing lost
    assert all(truth[s]["version"] == 1 for s in sessions)  # nothing applied twice
    journal = mock.holder.journal.since(0, 100_000)
    puts = [e for e in journal if e["path"] == "/api/v2/analytics/script-data"]
    assert Counter(e["status"] for e in puts)[200] == math.ceil(110 / 20)
    assert Counter(e["status"] for e in puts)[429] >= 2  # it was a storm: the limiter and the toxic
    assert worker.stats["http_429"] == Counter(e["status"] for e in journal)[429]
    assert all(s > 0 for s in summary["sleeps"])  # waited in virtual time only


# -- the HTTP service: 202 at once, work in the background ---------------------------------------------


class GatedTransport:
    """Holds every call until the gate opens, to show the webhook answer does not wait for the work."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner, self.gate = inner, gate

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        assert self.gate.wait(10)
        return self.inner.call(op, params)


def test_the_webhook_answers_202_at_once_and_dedupes(vclock: VirtualClock) -> None:
    store = MemoryStore()
    record_intents(store, ["a"], T0 + 1)
    gate = threading.Event()
    secret = new_secret()
    fake = ScriptedPlatform(vclock, storm=[], refuse_first=set())
    service = WorkerService(
        RepairWorker(store, WorkerConfig(namespace=NS, rate_limit_per_minute=0), verifier=Verifier(secret, vclock.now)),
        GatedTransport(fake, gate),
        check_transport=fake,  # the intake's check is not held: only the job is
        clock=vclock.now,
        sleep=vclock.advance,
    ).start()
    try:
        client = create_worker_app(service).test_client()
        started = time.monotonic()
        first = signed_post(client, webhook("op-1"), secret, vclock.now())
        assert first.status_code == 202 and first.json == {"accepted": True, "operationId": "op-1"}
        assert time.monotonic() - started < 1.0
        assert signed_post(client, webhook("op-1"), secret, vclock.now(), "msg-2").json["accepted"] is False
        assert client.get("/status").json["idle"] is False  # the job is held at the gate
        gate.set()
        assert service.wait_idle(10)
        assert client.get("/repairs").json == {"repairs": {"a": pytest.approx(vclock.now(), abs=60)}, "count": 1}
        status = client.get("/status").json
        assert status["stats"]["duplicates"] == 1 and status["jobs"]["op-1"]["state"] == "done"
    finally:
        gate.set()
        service.stop()


# -- end to end: flows, a publish, the mock's webhook, the worker thread, the checker -----------------------


def test_end_to_end_repairs_what_the_publish_rejected(mock: ServerThread, clock: VirtualClock, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/store.db"
    secret = new_secret()
    verifier = Verifier(secret, clock.now)
    worker = RepairWorker(open_store(store_url), WorkerConfig(namespace=NS, rate_limit_per_minute=0), verifier=verifier)
    service = WorkerService(
        worker, ReauthTransport(mock.url, CLIENT_ID, CLIENT_SECRET), clock=clock.now, sleep=clock.advance
    ).start()
    worker_server = ServerThread(create_worker_app(service)).start()
    try:
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        requests.post(
            f"{mock.url}/mock/webhooks",
            json={"url": f"{worker_server.url}/webhook", "secret": secret},
            headers=admin,
            timeout=5,
        ).raise_for_status()
        platform = mock.holder.platform
        operation = platform.publish_schedule()  # batch 0 (5 agents) is held from now on
        transport = HttpTransport(mock.url)
        transport.authenticate(CLIENT_ID, CLIENT_SECRET)
        mitigation = load_mitigation("async-worker")
        flow_store = open_store(store_url)
        history = History()
        for index, agent in enumerate(platform.agents):
            ctx = FlowContext(f"k{index:02d}", agent, operation.business_unit_id, 7)
            run_flow(
                script_flow(ctx, mitigation), transport, history, process="p0", key=ctx.key,
                store=flow_store, clock=clock.now, sleep=clock.advance,
            )  # fmt: skip
        clock.set(operation.completes_at + 0.01)  # the mock's events thread fires the webhook
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (worker.stats["jobs_done"] and service.idle()):
            time.sleep(0.02)
        assert worker.stats["jobs_done"] == 1
        windows = [(w["startedEpochMs"] / 1000, w["completesEpochMs"] / 1000) for w in platform.lock_windows()]
        result = check(
            history.entries,
            platform.ground_truth(),
            windows,
            mitigation="async-worker",
            fault_profile="fast",
            seed=7,
            repairs=worker.repaired(),
        )
    finally:
        worker_server.stop()
        service.stop()
    assert result["sessions"]["total"] == 20
    assert result["durability"]["durable"] == 20  # the worker re-applied every rejected write
    assert result["sessions"]["lost"] == 5  # ...but those customers already got the default branch
    assert result["consistency"]["outcome_gap"] == 5
    assert result["consistency"]["repaired"] >= 5
    assert result["consistency"]["time_to_consistency_ms"]["max"] > 0
    assert result["verdict"] == "fails"
