"""Where a trace comes from besides `record`: a trace file, a mockgc run directory, a CSV of the team's own logs.

A **run directory** (`mockgc run`'s `--out`, or a Locust master's `--history-dir`) already holds every call
(history.jsonl) and, in evidence.json, each publish's operation and every agent's status flip as the mock
saw them: its Set Data and evaluate calls become `call` events (the agent from the flow's call), the flips
`status` events, the operations `publish` events.

A **CSV** has a header row and one event per row, with the trace's field names as columns (README, "Your
own publishes"): `type` (org, publish, status, call), `at`, `agent`, `businessUnit`, `operation`, `status`,
`error`, `durationMs`, `conversation`, `session`, `participant`, `branch`, `value`, `from`, `to`, `started`,
`ended`, `agents`, `members` (space-separated ids). Columns a row's type does not use stay empty; columns
the team does not have may be left out.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

from mockgc.drivers.history_file import read_history
from mockgc.drivers.simulator import Simulator
from mockgc.explore.calibrate.trace import (
    CallEvent,
    OrgEvent,
    PublishEvent,
    StatusEvent,
    Trace,
    TraceError,
    add_event,
    event_from,
    read_jsonl,
)
from mockgc.faults import FaultProfile
from mockgc.report.check import HISTORY, run_directories
from mockgc.report.evidence import read_evidence
from mockgc.spec.runspec import RunSpec
from mockgc.strategies.plans import plan

CSV_COLUMNS = (
    "type", "at", "agent", "businessUnit", "operation", "status", "error", "durationMs", "conversation", "session",
    "participant", "branch", "value", "from", "to", "started", "ended", "agents", "members",
)  # fmt: skip
SCENARIO_BEFORE, SCENARIO_AFTER = "Available", "Reserved"  # the mock's status flip at a hold's end
_CALLS = {"set_data": "set", "evaluate": "evaluate"}


def read_trace(path: str | Path) -> Trace:
    """A trace from a trace file (JSON Lines), a run directory, or a CSV (by its .csv suffix)."""
    path = Path(path)
    if path.is_dir():
        return read_run_directory(path)
    if path.suffix.lower() == ".csv":
        return read_csv(path)
    return read_jsonl(path)


# -- CSV ----------------------------------------------------------------------------------------------------


def read_csv(path: str | Path) -> Trace:
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise TraceError(f"cannot read the CSV {path}: {error.strerror or error}") from None
    trace = Trace("csv")
    with handle:
        try:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            if "type" not in columns:
                raise TraceError(f"{path}: the first row must name the columns, `type` among them")
            unknown = [c for c in columns if c not in CSV_COLUMNS]
            if unknown:
                raise TraceError(f"{path}: unknown columns {', '.join(unknown[:5])} (known: {', '.join(CSV_COLUMNS)})")
            for number, row in enumerate(reader, start=2):
                data: dict[str, Any] = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
                if not data:
                    continue
                if "members" in data:
                    data["members"] = data["members"].split()
                add_event(trace, event_from(data, f"{path} row {number}"))
        except (csv.Error, UnicodeDecodeError) as error:
            raise TraceError(f"{path} is not a readable CSV: {error}") from None
    return trace


# -- a run directory ----------------------------------------------------------------------------------------


def read_run_directory(base: Path) -> Trace:
    """Every run under `base` (one, a web UI session's test-NNN, or a matrix's runs) as one trace."""
    try:
        directories = run_directories(base)
    except ValueError as error:
        raise TraceError(str(error)) from None
    trace = Trace("run")
    for directory in directories:
        _add_run(trace, directory)
    return trace


def _add_run(trace: Trace, directory: Path) -> None:
    try:
        saved = read_evidence(directory)
        entries = read_history(directory / HISTORY)
    except (OSError, ValueError) as error:
        raise TraceError(f"{directory}: {error}") from None
    if saved.operations is None:
        raise TraceError(f"{directory}: its evidence has no publish operations ({saved.ground_truth_error})")
    agents = saved.spec.get("agents")
    run = history_trace(entries, saved.operations, agents if isinstance(agents, int) else None)
    trace.orgs += run.orgs
    trace.publishes += run.publishes
    trace.statuses += run.statuses
    trace.calls += run.calls


def history_trace(entries: list[dict[str, Any]], operations: list[dict[str, Any]], agents: int | None) -> Trace:
    """A trace from what a run (or a simulation) records: its history and the mock's publish windows."""
    trace = Trace("run")
    units = set()
    for operation in operations:
        unit = str(operation.get("businessUnitId") or "business-unit")
        units.add(unit)
        started, ended = operation.get("startedEpochMs"), operation.get("completesEpochMs")
        trace.publishes.append(
            PublishEvent(
                unit,
                str(operation.get("operationId")),
                None if started is None else started / 1000,
                None if ended is None else ended / 1000,
            )
        )
        for agent, at in operation.get("flips") or ():
            trace.statuses.append(StatusEvent(str(agent), at / 1000, SCENARIO_BEFORE, SCENARIO_AFTER, unit))
    if agents is not None and len(units) == 1:
        trace.orgs.append(OrgEvent(next(iter(units)), agents))
    trace.calls.extend(calls_from_history(entries))
    return trace


def calls_from_history(entries: list[dict[str, Any]]) -> list[CallEvent]:
    """The flows' Set Data and evaluate calls, each with its agent (the flow's call) and its answer."""
    agent_of: dict[tuple[str, str], str] = {}
    conversation_of: dict[str, tuple[str | None, str | None]] = {}
    pending: dict[tuple[str, str, str], dict[str, Any]] = {}
    calls = []
    for entry in entries:
        process, key, f, kind = entry.get("process"), entry.get("key"), entry.get("f"), entry.get("type")
        if key is None or f is None:
            continue
        flow = (str(process), str(key))
        if kind == "invoke":
            params = entry.get("params") or {}
            if f == "create_call" and "userId" in params:
                agent_of[flow] = str(params["userId"])
            pending[(*flow, f)] = entry
            continue
        invoke = pending.pop((*flow, f), None)
        if invoke is None:
            continue
        value = entry.get("value")
        if f == "create_session" and isinstance(value, dict) and "id" in value:
            conversation_of[str(value["id"])] = (value.get("conversationId"), value.get("participantId"))
        if f not in _CALLS or flow not in agent_of:
            continue
        params = invoke.get("params") or {}
        session = params.get("sessionId")
        conversation, participant = conversation_of.get(str(session), (None, None))
        body = value if isinstance(value, dict) else {}
        calls.append(
            CallEvent(
                agent=agent_of[flow],
                at=float(invoke["time"]),
                operation=_CALLS[f],
                status=int(entry.get("status") or 0),
                error=None if kind == "ok" else entry.get("code"),
                duration_ms=round((float(entry["time"]) - float(invoke["time"])) * 1000, 3),
                conversation=conversation,
                session=None if session is None else str(session),
                participant=participant,
                branch=body.get("branch") if f == "evaluate" else None,
                value=body.get("value") if f == "evaluate" else params.get("value"),
            )
        )
    return calls


def simulated_trace(
    profile: FaultProfile,
    *,
    agents: int = 24,
    sessions: int = 2000,
    seed: int = 3,
    handle_time_s: float = 0.0,
    span_s: float = 200.0,
    publishes: int = 3,
) -> Trace:
    """A trace made in virtual time: `sessions` flows of `none` over `span_s` seconds while `publishes` publishes
    fire a minute apart under `profile`, recorded as a run directory records them (for tests and benchmarks)."""
    spec = RunSpec().with_options(
        profile=profile, sessions=sessions, seed=seed, agents=agents, publishes=publishes, handle_time=handle_time_s
    )
    sim = Simulator(plan(spec, sim=replace(spec.sim_config(), arrival_span_s=span_s, publish_every_s=60.0)))
    sim.run()
    return history_trace(sim.history.entries, sim.platform.lock_windows(), agents)
