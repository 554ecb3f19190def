"""A failing live run (`mockgc run`, `mockgc check`, a by-hand Locust run) turned into a one-session simulation.

From the run's own files (history.jsonl, evidence.json), judged by the checker as `mockgc check` judges
them: the first session whose data went wrong, its first data call that the publish refused (or, for
an acknowledged write undone later, its first sent during a publish), and that publish. The simulation runs the same org (seed, agents, profile) with that
session alone, on the same agent, arriving so that the same call reaches the same publish at the
same offset into it; it must fail with the same class, the same call with the same status and code.
What the simulator cannot do is said in one line (Unreproducible, exit 2): a user's own service or
worker (live only), a call that got no answer or a server error (real network timing, toxics), a
failure no hold caught.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockgc.checker.check import check
from mockgc.checker.result import BAD_CLASSES, FAILING_CLASSES
from mockgc.drivers.history_file import read_history
from mockgc.explore.shrink.probe import Failure, Simulations, Trace, simulator_of
from mockgc.report.check import HISTORY, run_directories
from mockgc.report.evidence import read_evidence
from mockgc.report.judge import window_spans
from mockgc.report.sessions import DATA_CALLS, session_details
from mockgc.spec.arrivals import Arrival
from mockgc.spec.runspec import RunSpec
from mockgc.strategies.plans import plan

ALIGN_TRIES = 4  # simulations spent placing the failing call where it was live
NETWORK = "needs real network timing, which the simulator does not model"


class Unreproducible(ValueError):
    """A live failure the simulator cannot reproduce: the reason, one line (exit 2)."""


class LiveHolds(ValueError):
    """The live run served every customer: nothing to shrink (exit 1)."""


@dataclass(frozen=True)
class LiveFailure:
    """The first failing session of a live run, and where its failing call met the publish."""

    directory: Path
    spec: RunSpec
    key: str
    failure: Failure
    agent_id: str
    call: str  # the failing call's operation
    ordinal: int  # which of the session's calls to it (0: the first)
    status: int
    code: str | None
    publish: int  # the publish's number in the run, from 0
    offset: float  # seconds after that publish started, when the call was sent
    sent_after: float  # seconds after the session's first call, when the call was sent
    sessions: int  # the run's sessions
    publishes: int  # the run's publishes

    def describe(self) -> str:
        return (
            f"{self.directory}: session {self.key} ({self.failure}), its {self.call} -> {self.status} "
            f"{self.code or ''} sent {self.offset:.3f} s into publish {self.publish + 1}".replace("  ", " ")
        )


def _judged(directory: Path) -> tuple[RunSpec, list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(spec, per-session details, history, publish operations) of one live run, judged by the checker."""
    saved = read_evidence(directory)
    if saved.operations is None or saved.truth is None:
        raise ValueError(f"{directory}: no ground truth was saved ({saved.ground_truth_error}); it cannot be judged")
    history = read_history(directory / HISTORY)
    spec = RunSpec.from_dict(saved.spec, source=f"{directory}/evidence.json")
    result = check(
        history,
        saved.truth,
        window_spans(saved.operations),
        mitigation=spec.mitigation,
        fault_profile=spec.profile,
        seed=spec.seed,
        store=saved.store,
        repairs=saved.repairs or None,
        include_sessions=True,
    )
    sessions = session_details(history, result.get("session_outcomes", []), saved.operations)
    return spec, sessions, history, saved.operations


def _first_failing(sessions: list[dict[str, Any]]) -> dict[str, Any] | None:
    failing = sorted((s for s in sessions if s["class"] in FAILING_CLASSES), key=lambda s: s["start"])
    bad = [s for s in failing if s["class"] in BAD_CLASSES]
    return (bad or failing or [None])[0]


def _runs(base: Path, mitigation: str | None) -> Iterator[Path]:
    for directory in run_directories(base):
        if mitigation is None or read_evidence(directory).spec.get("mitigation") == mitigation:
            yield directory


def read_live(base: Path, mitigation: str | None = None) -> LiveFailure:
    """The first failing session of the first failing run under `base` (a run directory, a web UI session's
    test-NNN, a matrix); LiveHolds when none fails, Unreproducible when the strategy runs only live."""
    for directory in _runs(base, mitigation):
        spec, sessions, history, operations = _judged(directory)
        session = _first_failing(sessions)
        if session is None:
            continue
        reason = plan(spec).strategy.live_only()
        if reason:
            raise Unreproducible(f"cannot reproduce {directory} in simulation: {reason}")
        return _locate(directory, spec, session, sessions, history, operations)
    raise LiveHolds(f"{base}: every session of the run served its customer: nothing to shrink")


def _calls(history: list[dict[str, Any]], key: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The session's calls as (invoke, completion), in the order they were sent."""
    pending: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
    calls = []
    for entry in history:
        if entry.get("key") != key or entry["type"] == "flow":
            continue
        if entry["type"] == "invoke":
            pending[entry["f"]].append(entry)
        elif pending[entry["f"]]:
            calls.append((pending[entry["f"]].popleft(), entry))
    return sorted(calls, key=lambda call: call[0]["time"])


def _holding(at: float, operations: list[dict[str, Any]]) -> int | None:
    """The number (in start order) of the latest publish whose window holds the instant `at`."""
    found = None
    for number, op in enumerate(operations):
        if op["startedEpochMs"] / 1000.0 <= at < op["completesEpochMs"] / 1000.0:
            found = number
    return found


def _locate(
    directory: Path,
    spec: RunSpec,
    session: dict[str, Any],
    sessions: list[dict[str, Any]],
    history: list[dict[str, Any]],
    operations: list[dict[str, Any]],
) -> LiveFailure:
    """Where the session met the publish: its first data call that was refused, else (an acknowledged write
    undone later) its first data call sent while a publish ran."""
    failure = Failure.of(session)
    where = f"cannot reproduce {directory}'s session {session['key']} ({failure}) in simulation"
    ordered = sorted(operations, key=lambda op: op["startedEpochMs"])
    calls = _calls(history, session["key"])

    def said(call: tuple[dict[str, Any], dict[str, Any]]) -> str:
        return f"its {call[0]['f']} -> {call[1]['status']} {call[1].get('code') or ''}".rstrip()

    for call in calls:
        status = call[1]["status"]
        if status == 0 or status == 429 or status >= 500:
            raise Unreproducible(f"{where}: {said(call)} is a network or server fault, and it {NETWORK}")
    data = [call for call in calls if call[0]["f"] in DATA_CALLS]
    refused = [call for call in data if call[1]["type"] != "ok"]
    during = [call for call in data if _holding(call[0]["time"], ordered) is not None]
    anchor = (refused or during or [None])[0]
    if anchor is None:
        raise Unreproducible(f"{where}: none of its calls was refused or sent during a publish; it {NETWORK}")
    invoke, completion = anchor
    publish = _holding(invoke["time"], ordered)
    if publish is None:
        raise Unreproducible(f"{where}: no publish held its agent when {said(anchor)} was sent; it {NETWORK}")
    same = [c[0]["time"] for c in calls if c[0]["f"] == invoke["f"]]
    return LiveFailure(
        directory=directory,
        spec=spec,
        key=session["key"],
        failure=failure,
        agent_id=session["agent"],
        call=invoke["f"],
        ordinal=same.index(invoke["time"]),
        status=completion["status"],
        code=completion.get("code"),
        publish=publish,
        offset=invoke["time"] - ordered[publish]["startedEpochMs"] / 1000.0,
        sent_after=invoke["time"] - calls[0][0]["time"],
        sessions=len(sessions),
        publishes=len(operations),
    )


def _sent(trace: Trace, live: LiveFailure) -> tuple[float | None, dict[str, Any] | None]:
    """When the simulated session sent the live failing call (its ordinal-th call to it), and its completion."""
    key = trace.keys[0]
    sent, completion, seen = None, None, -1
    for entry in trace.history:
        if entry.get("key") != key or entry.get("f") != live.call:
            continue
        if entry["type"] == "invoke":
            seen += 1
            if seen == live.ordinal:
                sent = entry["time"]
        elif seen == live.ordinal and sent is not None and completion is None:
            completion = entry
    return sent, completion


def simulated(live: LiveFailure, sims: Simulations) -> RunSpec:
    """The one-session simulation of a live failure; Unreproducible when it does not fail the same way."""
    base = live.spec.for_mitigation(live.spec.mitigation).with_options(
        publishes=live.publish + 1, publish_at=(), expect={}, thresholds=()
    )
    probe = simulator_of(base.with_options(sessions=1), [])
    agent_ids = probe.agent_ids()
    if live.agent_id not in agent_ids:
        raise Unreproducible(f"{live.describe()}: its agent is not in the simulated org (seed {base.seed})")
    target = probe.publish_times[live.publish] + live.offset - probe.config.start
    at = max(0.0, target - live.sent_after)
    trace: Trace | None = None
    for _ in range(ALIGN_TRIES):
        spec = base.with_options(sessions=1, arrivals=(Arrival(at, agent_ids.index(live.agent_id), 0),))
        trace = sims.run(spec)
        sent, _ = _sent(trace, live)
        if sent is None:
            break
        error = target - (sent - probe.config.start)
        if abs(error) < 0.001 or at + error < 0:
            break
        at += error
    assert trace is not None
    outcome = trace.outcomes.get(trace.keys[0])
    _, completion = _sent(trace, live)
    same_call = completion is not None and (completion["status"], completion.get("code")) == (live.status, live.code)
    if outcome is None or Failure.of(outcome) != live.failure or not same_call:
        got = "no outcome" if outcome is None else str(Failure.of(outcome))
        answered = "never sent" if completion is None else f"{completion['status']} {completion.get('code') or ''}"
        raise Unreproducible(
            f"cannot reproduce {live.describe()} in simulation: alone at that offset the session is {got} and "
            f"its {live.call} {answered.rstrip()}; the live failure {NETWORK}"
        )
    return trace.spec
