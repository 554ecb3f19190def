"""`mockgc record` against the mock over real HTTP, on a virtual clock: what flows logged comes back as calls, the
publish's flips as status changes, through real routes only, paged, and through 429s."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from mockgc.cli import main
from mockgc.clock import VirtualClock
from mockgc.drivers.http import HttpTransport
from mockgc.drivers.realtime import drive
from mockgc.explore.calibrate.fit import fit
from mockgc.explore.calibrate.record import PlatformClient, RecordError, Window, login_of, record
from mockgc.explore.calibrate.sources import calls_from_history
from mockgc.explore.calibrate.trace import read_jsonl
from mockgc.faults import FaultProfile, PublishLock
from mockgc.flows.context import FlowContext
from mockgc.flows.history import History
from mockgc.flows.script import interaction
from mockgc.platform.client import authenticated_session, business_unit_id, publish_through_upload
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread, stop_events
from mockgc.platform.settings import Settings
from mockgc.strategies.registry import load_mitigation

T0 = 1_795_500_000.0  # 2026-11-24, the week the nemesis publishes
ADMIN = {"Authorization": "Bearer rec-admin"}
PROFILE = FaultProfile("hidden", "", PublishLock(batch_size=4, interval_ms=1000, hold_ms=2000, kind="reject"))


@dataclass
class Org:
    server: ServerThread
    clock: VirtualClock
    history: History
    publish_at: float

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self, path: str) -> Any:
        return requests.get(f"{self.url}/mock{path}", headers=ADMIN, timeout=30).json()


@pytest.fixture(scope="module")
def org() -> Iterator[Org]:
    """A mock on a virtual clock: logged flows on every agent in turn, a publish 1 s in, flows through its holds."""
    clock = VirtualClock(T0)
    settings = Settings(
        seed=3, agents=12, admin_key="rec-admin", client_id="rec", client_secret="rec-secret", rate_limit_per_minute=0
    )
    app = create_app(settings, clock=clock, profile=PROFILE)
    server = ServerThread(app).start()
    history = History()
    try:
        transport = HttpTransport(server.url)
        transport.authenticate("rec", "rec-secret")
        http = authenticated_session(server.url, "rec", "rec-secret")
        unit = business_unit_id(http, server.url)
        agents = [u["id"] for u in requests.get(f"{server.url}/mock/info", headers=ADMIN, timeout=30).json()["users"]]
        none = load_mitigation("none")
        publish_at = 0.0
        for step in range(120):
            if step == 10:
                publish_at = clock.now()
                publish_through_upload(http, server.url, unit)
            ctx = FlowContext(f"k{step:03d}", agents[step % len(agents)], unit, 3, "p0")
            flow = interaction(ctx, none, log_attributes=True)
            result = drive(
                flow, transport, clock=clock.now, sleep=clock.advance, history=history, process="p0", key=ctx.key
            )
            history.finish("p0", result, clock.now())
            clock.advance(0.1)
        yield Org(server, clock, history, publish_at)
    finally:
        server.stop()
        stop_events(app)


def test_record_reads_back_the_publish_the_flips_and_the_logged_calls(org: Org) -> None:
    first_seq = max((e["seq"] for e in org.admin("/journal?limit=100000")["entries"]), default=0)
    client = PlatformClient(org.url, "rec", "rec-secret", sleep=org.clock.advance)
    trace = record(client, Window(T0, T0 + 60))
    entries = org.admin("/journal?limit=100000")["entries"]
    used = [e for e in entries if e["seq"] > first_seq and e["path"] != "/mock/journal"]
    # The publish, from the schedule's metadata, at the moment its update was accepted.
    (publish,) = trace.publishes
    assert publish.started == pytest.approx(org.publish_at, abs=0.001)
    (window,) = org.admin("/windows")["operations"]
    assert {o.business_unit for o in trace.orgs} == {window["businessUnitId"]}
    assert set(trace.orgs[0].members) == {agent for agent, _ in window["flips"]}
    # Every agent's flip, through the users details query (a presence change to Busy).
    flips = {(agent, at / 1000) for agent, at in window["flips"]}
    recorded = {(s.agent, round(s.at, 3)) for s in trace.statuses if s.after == "presence:BUSY"}
    assert recorded == {(agent, round(at, 3)) for agent, at in flips}

    # Every call the flows logged, as the driver recorded it (to the millisecond a logged time keeps).
    def by_call(calls: Any) -> list[tuple[Any, ...]]:
        return sorted((c.agent, c.operation, c.status, c.error, c.value, c.at) for c in calls)

    recorded_calls, driven = by_call(trace.calls), by_call(calls_from_history(org.history.entries))
    assert [c[:5] for c in recorded_calls] == [c[:5] for c in driven]
    assert [c[5] for c in recorded_calls] == pytest.approx([c[5] for c in driven], abs=0.0011)
    assert any(c.error == "script.session.locked" for c in trace.calls)
    # Only the platform's own routes, with the client's own token.
    assert used and all(
        e["path"].startswith(("/api/v2/analytics/", "/api/v2/workforcemanagement/", "/oauth/token")) for e in used
    )
    assert {e["client_id"] for e in used if e["path"] != "/oauth/token"} == {"rec"}
    # And the trace is enough to fit the hidden profile's batches.
    lock = fit(trace).publish_lock()
    assert (lock.batch_size, lock.interval_ms, lock.kind) == (4, 1000, "reject")


def test_record_pages_as_the_platform_pages(org: Org) -> None:
    whole = record(PlatformClient(org.url, "rec", "rec-secret", sleep=org.clock.advance), Window(T0, T0 + 60))
    client = PlatformClient(org.url, "rec", "rec-secret", sleep=org.clock.advance)
    paged = record(client, Window(T0, T0 + 60, details_page=5, job_page=7))
    assert sorted(paged.calls, key=lambda c: (c.at, c.agent)) == sorted(whole.calls, key=lambda c: (c.at, c.agent))
    assert sorted(paged.statuses, key=lambda s: (s.at, s.agent)) == sorted(
        whole.statuses, key=lambda s: (s.at, s.agent)
    )
    conversations = len({c.conversation for c in whole.calls})
    # pages of 5 users and of 7 conversations: more requests than one page each, as many as needed
    assert client.counters.requests >= 2 + conversations // 7 + 12 // 5


def test_record_waits_out_429s_as_retry_after_says(org: Org) -> None:
    reply = requests.post(
        f"{org.url}/mock/oauth/clients",
        json={"clientId": "slow", "clientSecret": "slow-secret", "rateLimitPerMinute": 4},
        headers=ADMIN,
        timeout=30,
    )
    assert reply.status_code == 201
    client = PlatformClient(org.url, "slow", "slow-secret", sleep=org.clock.advance)
    trace = record(client, Window(T0, T0 + 60))
    assert client.counters.throttled >= 2 and client.counters.waited_s >= 30
    assert len(trace.publishes) == 1 and trace.calls


def test_record_says_what_went_wrong_in_one_line(org: Org, tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="oauth/token answered 401"):
        PlatformClient(org.url, "rec", "wrong")
    client = PlatformClient(org.url, "rec", "rec-secret", sleep=org.clock.advance)
    with pytest.raises(RecordError, match="no business unit nope"):
        record(client, Window(T0, T0 + 60, business_unit="nope"))
    with pytest.raises(RecordError, match="at most 31 days"):
        record(client, Window(T0, T0 + 40 * 86_400))
    with pytest.raises(AssertionError, match="own routes"):
        client.send("GET", "/mock/info")
    args = [
        "record",
        "--target",
        org.url,
        "--client-id",
        "rec",
        "--client-secret",
        "wrong",
        "--out",
        str(tmp_path / "t.jsonl"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "401" in result.output


def test_the_record_command_writes_a_trace(org: Org, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    args = [
        "record", "--target", org.url, "--client-id", "rec", "--client-secret", "rec-secret",
        "--from", "2026-11-24T06:00:00Z", "--to", "2026-11-24T06:01:00Z", "--out", str(out),
    ]  # fmt: skip
    ticking = threading.Event()

    def tick() -> None:  # the org's clock moves on while the command waits for its job, as a real one would
        while not ticking.wait(0.05):
            org.clock.advance(0.5)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        result = CliRunner().invoke(main, args)
    finally:
        ticking.set()
        ticker.join()
    assert result.exit_code == 0, result.output
    assert "recorded 1 publishes, 12 agents" in result.output
    trace = read_jsonl(out)
    assert trace.source == "record" and len(trace.publishes) == 1 and trace.calls


def test_the_login_host_of_a_region() -> None:
    assert login_of("https://api.mypurecloud.com") == "https://login.mypurecloud.com"
    assert login_of("https://api.euw2.pure.cloud/") == "https://login.euw2.pure.cloud/"
    assert login_of("http://127.0.0.1:8321") == "http://127.0.0.1:8321"
