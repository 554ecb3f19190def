"""What the locustfile runs inside each Locust process, kept free of Locust imports so tests can load it.

The locustfile is glue: Locust users, events and options. The logic it calls lives here: the
transport adapter over Locust's FastHttpUser client, the per-flow outcome classification, the
per-process history collector and the deterministic agent choice.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockgc.checker.check import judge_flow
from mockgc.checker.result import BAD_CLASSES
from mockgc.drivers.http import ROUTES, build_request, reply_from
from mockgc.flows.context import PREFERENCE_VARIABLE
from mockgc.flows.effects import FlowResult, Reply
from mockgc.flows.history import History
from mockgc.platform.client import MockAdmin, MockError, agent_names
from mockgc.report.evidence import SavedEvidence
from mockgc.report.sessions import call_text, failing_calls
from mockgc.report.status import MAX_LOST_SHOWN, Sessions
from mockgc.spec.plan import Plan
from mockgc.spec.runspec import RunSpec

# Statuses that are the platform under test behaving as designed (a lock's 400, a conflict,
# a rate limit, an injected outage): the checker classifies them, so Locust counts them as
# successes. Anything else (401, 404, 500...) means the harness itself is wrong.
EXPECTED_STATUSES = frozenset({400, 409, 429, 502, 503, 504})
OUTCOME_REQUEST_TYPE = "OUTCOME"
PARAMS_ENV = "MOCKGC_MITIGATION_PARAMS"


class HarnessFault(Exception):
    """A request the harness got wrong (the mock answered 401/404/500...), shown as a Locust failure."""


def is_expected(status: int) -> bool:
    return 200 <= status < 300 or status in EXPECTED_STATUSES


def mitigation_params(text: str | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for a strategy: a JSON object, from `text` or else MOCKGC_MITIGATION_PARAMS."""
    raw = (text if text is not None else (os.environ if environ is None else environ).get(PARAMS_ENV, "")).strip()
    if not raw:
        return {}
    try:
        params = json.loads(raw)
    except ValueError as error:
        raise ValueError(f"{PARAMS_ENV} is not JSON: {error}") from None
    if not isinstance(params, dict):
        raise ValueError(f"{PARAMS_ENV} must be a JSON object")
    return params


def spec_of(options: Any) -> RunSpec:
    """A Locust process's spec: the one document a run passed (--spec), else built from the separate
    options of a by-hand run (its duration is Locust's --run-time, or 60 s without one)."""
    if options.spec:
        return RunSpec.from_json(options.spec, source="--spec")
    return RunSpec().with_options(
        mitigation=options.mitigation,
        profile=getattr(options, "fault_profile", "") or None,  # the profile it sets on the mock, else the default
        params=mitigation_params(options.mitigation_params),
        seed=int(options.seed),
        store=options.store or None,
        publishes=int(options.publishes),
        publish_at=options.publish_at or None,
        duration=options.run_time or 60,  # Locust parsed -t 1m already; the spec takes either
        think_time=options.think_time,
        drain_timeout=options.drain_timeout,
        log_attributes=bool(getattr(options, "log_attributes", False)),
        handle_time=getattr(options, "handle_time", None) or None,
    )


class LocustTransport:
    """A flow transport over a Locust HTTP client (FastHttpUser's `client`).

    Requests are named by their templated path so Locust groups them, and use catch_response
    so an expected 400/429 is a success in Locust's stats (the checker judges it, not Locust).
    `on_harness_error(op, status, detail)` is told about everything else.
    """

    def __init__(self, client: Any, on_harness_error: Callable[[str, int, str], None] | None = None) -> None:
        self.client = client
        self.on_harness_error = on_harness_error

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        try:
            method, path, body = build_request(op, params)
        except (ValueError, KeyError) as error:
            self._harness_error(op, 0, f"cannot build the request: {error}")
            return Reply(0, None, error=f"harness: {error}")
        name = ROUTES[op][1]
        with self.client.request(method, path, json=body, name=name, catch_response=True) as response:
            status = int(response.status_code or 0)
            if status == 0:
                error = getattr(response, "error", None)
                detail = f"{type(error).__name__}: {error}" if error else "no answer"
                # No answer is indeterminate for the flow; for Locust it is a failure (load or harness trouble).
                response.failure(detail)
                self._harness_error(op, 0, detail)
                return Reply(0, None, error=detail[:300])
            content = response.content
            reply = reply_from(status, content, response.headers or {})
            if is_expected(status):
                response.success()
            else:
                detail = f"{op} answered {status}: {(content or b'')[:200]!r}"
                response.failure(HarnessFault(detail))
                self._harness_error(op, status, detail)
            return reply

    def _harness_error(self, op: str, status: int, detail: str) -> None:
        if self.on_harness_error is not None:
            self.on_harness_error(op, status, detail)


def open_flow_store(url: str | None) -> Any:
    """The external store a user's flows write through: open_store(url), memory by default."""
    from mockgc.stores import open_store

    return open_store(url or "memory://")


class FlowRecorder(History):
    """One flow's own entries, each also recorded in the process's history (`shared`, in real-time order):
    the evidence its class is judged on when it ends."""

    def __init__(self, shared: History) -> None:
        super().__init__()
        self.shared = shared

    def invoke(self, process: str, key: str | None, f: str, params: dict[str, Any], time: float) -> None:
        super().invoke(process, key, f, params, time)
        self.shared.entries.append(self.entries[-1])

    def complete(self, process: str, key: str | None, f: str, reply: Reply, time: float) -> None:
        super().complete(process, key, f, reply, time)
        self.shared.entries.append(self.entries[-1])

    def finish(self, process: str, result: FlowResult, time: float) -> None:
        super().finish(process, result, time)
        self.shared.entries.append(self.entries[-1])


def checked_outcome(entries: list[dict[str, Any]], result: FlowResult) -> str:
    """The checker's class of one finished flow, as far as its end can tell: the verdict's own classifier
    on the flow's entries, with the value taken as durable, since only the final truth can show `ack_lost`
    (the verdict does)."""
    truth = {result.session_id: {"variables": {PREFERENCE_VARIABLE: result.expected}}} if result.session_id else {}
    store = {result.store_key: result.expected} if result.store_key else None
    return judge_flow(entries, result.key, truth, store)


def pick_agent(agents: list[dict[str, Any]], user_index: int, iteration: int) -> dict[str, Any]:
    """Deterministic: user u's k-th interaction goes to agent (u + k) mod n, in the mock's listing order."""
    if not agents:
        raise ValueError("the mock listed no agents")
    return agents[(user_index + iteration) % len(agents)]


def global_user_index(local_index: int, worker_index: int, workers: int) -> int:
    """Interleave the workers' users so a 2-worker run spreads over agents like a 1-process one."""
    workers = max(1, workers, worker_index + 1)
    return local_index * workers + worker_index


@dataclass
class NodeCollector:
    """One Locust process's share of the run: its history, flows in flight, and harness errors.

    Workers ship what they have gathered to the master in batches (`take`); the master or a
    local runner keeps everything and writes it out.
    """

    node: str = "local"
    history: History = field(default_factory=History)
    in_flight: int = 0
    draining: bool = False
    users: int = 0
    flows: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    runaways: list[dict[str, str]] = field(default_factory=list)  # flows past their bounds: the load stops
    # The latest sessions whose data went wrong, for the live status (the master shows the latest of all nodes).
    lost: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_LOST_SHOWN))

    def next_user(self) -> int:
        index = self.users
        self.users += 1
        return index

    def harness_error(self, op: str, status: int, detail: str) -> None:
        self.errors[f"{op} {status}"] += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(detail[:300])

    def runaway(self, strategy: str, session: str, what: str) -> bool:
        """A flow past its runaway bounds; True the first time (the load is then to stop)."""
        self.runaways.append({"strategy": strategy, "session": session, "what": what})
        return len(self.runaways) == 1

    def take(self) -> list[dict[str, Any]]:
        """Entries gathered since the last take; the list is swapped so shipping never copies."""
        batch, self.history.entries = self.history.entries, []
        return batch

    def ended(self, outcome: str, entries: list[dict[str, Any]], key: str, agent: str, at: float) -> None:
        """A flow ended in this class: counted, and kept among the latest lost ones when its data went wrong."""
        self.flows[outcome] += 1
        if outcome in BAD_CLASSES:
            first, _ = failing_calls(entries)
            self.lost.append(
                {
                    "key": key,
                    "agent": agent,
                    "class": outcome,
                    "at": round(first["at"] if first else at, 3),
                    "first_failing_call": call_text(first),
                }
            )

    def report(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "flows": dict(self.flows),
            "errors": dict(self.errors),
            "error_samples": list(self.error_samples),
            "runaways": list(self.runaways),
            "in_flight": self.in_flight,
            "lost": list(self.lost),
        }

    def reset(self) -> None:
        self.history = History()
        self.in_flight = 0
        self.draining = False
        self.flows.clear()
        self.errors.clear()
        self.error_samples.clear()
        self.runaways.clear()
        self.lost.clear()


@dataclass
class MasterCollector:
    """On the master (or a local runner): every process's entries and reports, written at the end."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    flushed: set[str] = field(default_factory=set)
    nemesis: list[dict[str, Any]] = field(default_factory=list)
    started: float | None = None
    stopped: float | None = None
    directory: Path | None = None  # where this test writes (its own test-NNN by hand), None: nowhere
    workers: int = 0  # the workers that took part, counted at the stop
    stopping: bool = False  # the load has stopped; flows in flight are draining
    refused: str | None = None  # why this test's spec could not start (one line), None: it started
    judged: dict[str, Any] | None = None  # the verdict at the stop (by hand, with --history-dir), for the web UI
    report: Path | None = None  # that judgement's report.html

    def receive(self, client_id: str, payload: dict[str, Any]) -> None:
        self.entries.extend(payload.get("entries", []))
        report = payload.get("report")
        if report:
            self.nodes[client_id] = report
        if payload.get("final"):
            self.flushed.add(client_id)

    def reset(self) -> None:
        self.entries = []
        self.nodes = {}
        self.flushed = set()
        self.nemesis = []
        self.started = time.time()
        self.stopped = None
        self.workers = 0
        self.stopping = False
        self.refused = None
        self.judged = None
        self.report = None
        self.directory = None

    def sessions(self, local: NodeCollector | None, started: float) -> Sessions:
        """The sessions so far over every process (a local runner's own node, or what the workers reported)."""
        reports = [local.report()] if local is not None else list(self.nodes.values())
        by_class: Counter[str] = Counter()
        for report in reports:
            by_class.update(report.get("flows", {}))
        lost = sorted((entry for report in reports for entry in report.get("lost", [])), key=lambda e: e["at"])
        return Sessions(
            by_class=by_class,
            in_flight=sum(int(report.get("in_flight", 0)) for report in reports),
            lost=[entry | {"time_s": round(entry["at"] - started, 3)} for entry in lost[-MAX_LOST_SHOWN:]],
        )

    def harness_errors(self) -> int:
        from_nodes = sum(sum(n.get("errors", {}).values()) for n in self.nodes.values())
        return from_nodes + sum(1 for record in self.nemesis if record.get("error"))

    def write(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        """history.jsonl (one entry a line) and live.json (the processes' reports and the nemesis log)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / "history.jsonl.tmp"
        with tmp.open("w") as handle:
            for entry in self.entries:
                handle.write(json.dumps(entry, separators=(",", ":")))
                handle.write("\n")
        tmp.replace(out / "history.jsonl")
        meta = {
            "started": self.started,
            "stopped": self.stopped,
            "entries": len(self.entries),
            "nodes": {key: self.nodes[key] for key in sorted(self.nodes)},
            "flushed": sorted(self.flushed),
            "nemesis": self.nemesis,
            "harness_errors": self.harness_errors(),
        } | (extra or {})
        tmp = out / "live.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
        tmp.replace(out / "live.json")


def store_snapshot(
    spec: RunSpec, mitigation: Any, entries: list[dict[str, Any]]
) -> tuple[dict[str, str | None] | None, dict[str, Any]]:
    """What the strategy's own store holds for the flows' storeKeys after the run, for the checker, and a note
    for the result: a Data Action service is asked through its get_url, an external store read by its URL.
    (None, ...) when nothing outside the platform holds the value, or the store cannot be reached from here."""
    from mockgc.drivers.dataaction import read_back
    from mockgc.flows.mitigations.data_action import DataActionService

    if isinstance(mitigation, DataActionService):
        if mitigation.evaluate_on_platform:
            return None, {"data_action": {"durability": "the platform's truth"}}
        snapshot, stats = read_back(mitigation, entries)
        return snapshot, {"data_action": {"durability": "read back through get_url"} | stats}
    keys = sorted(
        {e["value"]["storeKey"] for e in entries if e.get("type") == "flow" and (e.get("value") or {}).get("storeKey")}
    )
    if not keys or not spec.store:
        return None, {}
    from mockgc.stores import StoreError, open_store

    try:
        store = open_store(spec.store)
        try:
            return {key: store.get(key) for key in keys}, {}
        finally:
            store.close()
    except StoreError as error:
        return None, {"store_error": f"cannot read the store to check durability: {error}"}


def fetch_ground_truth(
    base_url: str, admin_key: str, timeout: float = 120.0
) -> tuple[list[dict[str, Any]] | None, dict[str, dict[str, Any]] | None, str | None]:
    """(publish windows, truth, None) from the mock's admin API; (None, None, why) when it cannot be read."""
    if not admin_key:
        return None, None, "no admin key: the mock's truth and publish windows were not saved"
    admin = MockAdmin(base_url.rstrip("/"), admin_key)
    try:
        return admin.windows(timeout=timeout), admin.truth(timeout=timeout), None
    except MockError as error:
        return None, None, f"the mock's truth could not be read: {error}"


def evidence_for(
    plan: Plan,
    entries: list[dict[str, Any]],
    *,
    base_url: str,
    admin_key: str,
    client_id: str = "",
    client_secret: str = "",
    started: float,
    elapsed: float,
    workers: int,
) -> SavedEvidence:
    """What a Locust master saves at test stop. The spec is the test as it ran: the publishes that fell due
    before the stop (a web UI test stopped early made only those) and the workers that took part; the
    windows are this test's publishes (an earlier test of the same web UI session made the others)."""
    spec = plan.spec
    due = tuple(offset for offset in plan.offsets if offset <= elapsed)
    ran = spec.with_options(publish_at=due, publishes=len(due), workers=0, remote_workers=workers)
    operations, truth, error = fetch_ground_truth(base_url, admin_key)
    if operations is not None:
        operations = [op for op in operations if op.get("startedEpochMs", 0) >= started * 1000.0 - 1.0]
    store, services = store_snapshot(spec, plan.strategy, entries)
    names = agent_names(base_url.rstrip("/"), client_id, client_secret) if operations is not None else {}
    return SavedEvidence(
        spec=ran.as_dict(),
        operations=operations,
        truth=truth,
        store=store,
        services=services,
        ground_truth_error=error,
        written_by="locust master",
        health={"scheduled_publishes": len(plan.offsets), "elapsed_s": round(elapsed, 3)},
        agents=names,
    )
