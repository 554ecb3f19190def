"""A live run's results: the history and ground truth judged by the checker, the harness's own health,
the files written (result.json, sessions.json, report.html), and the exit code of one run or a matrix."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mockgc.checker.check import check
from mockgc.checker.gate import Gate, gate_exit
from mockgc.checker.result import (
    EXIT_FAILS,
    EXIT_HARNESS,
    EXIT_HOLDS,
    EXIT_INTERRUPTED,
    EXIT_SEVERITY,
    HOLDS,
    UNKNOWN,
)
from mockgc.checker.summary import row
from mockgc.report.html import write_matrix_report, write_run_report
from mockgc.report.locust_stats import live_counts
from mockgc.report.records import Evidence, Health, RunOutcome
from mockgc.report.sessions import session_details
from mockgc.report.untrusted import write_fresh
from mockgc.spec.runspec import RunSpec
from mockgc.stores import describe_store


def window_spans(operations: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """Publish windows in epoch seconds [start, end) as the checker takes them."""
    return [(op["startedEpochMs"] / 1000.0, op["completesEpochMs"] / 1000.0) for op in operations]


def runaways(live: dict[str, Any]) -> list[dict[str, str]]:
    """The flows that ran past their bounds in a live run, as each Locust process reported them."""
    return [r for node in (live.get("nodes") or {}).values() for r in (node.get("runaways") or [])]


def harness_section(
    spec: RunSpec, evidence: Evidence, health: Health, directory: Path, scheduled: int
) -> dict[str, Any]:
    """The harness's own health: anything here but zero errors makes the verdict untrustworthy (exit 2)."""
    live = evidence.live
    problems: list[str] = []
    if health.death is not None:
        when = f", {health.loaded_seconds:g} s into the load" if health.loaded_seconds is not None else ""
        problems.append(f"{health.death.describe()}{when}: the load was stopped, the report is partial")
    elif health.service_error:
        problems.append(health.service_error)
    ran_away = runaways(live)
    for runaway in ran_away[:5]:
        problems.append(
            f"runaway flow: {runaway['strategy']}, session {runaway['session']}: {runaway['what']}; "
            "the load was stopped, the report is partial"
        )
    if len(ran_away) > 5:
        problems.append(f"{len(ran_away) - 5} more runaway flow(s)")
    nemesis = live.get("nemesis", [])
    failed = [r for r in nemesis if r.get("error")]
    if failed:
        problems.append(f"{len(failed)} publish(es) failed: {failed[0]['error']}")
    if not health.partial and len(nemesis) != scheduled:
        problems.append(f"the nemesis made {len(nemesis)} of {scheduled} scheduled publishes")
    fired = {r.get("operationId") for r in nemesis if r.get("operationId")}
    if evidence.operations is not None and fired - {op["operationId"] for op in evidence.operations}:
        problems.append("a publish the nemesis made is missing from /mock/windows")
    expected_workers = spec.workers + spec.remote_workers
    if expected_workers and not health.partial and len(live.get("flushed", [])) < expected_workers:
        problems.append(f"{expected_workers - len(live.get('flushed', []))} worker(s) sent no final history")
    wait = (evidence.services.get("worker") or {}).get("consistency_wait") or {}
    if wait.get("timed_out"):
        problems.append(
            f"the wait for the external worker hit its timeout ({wait.get('timeout_s'):g} s) before the truth "
            f"settled: {wait.get('still')}"
        )
    if live.get("exceptions"):
        problems.append(f"{live['exceptions']} exception(s) in Locust users (see locust_exceptions.csv)")
    request_errors = int(live.get("harness_errors", 0)) - len(failed)
    if request_errors:
        samples = [s for n in live.get("nodes", {}).values() for s in n.get("error_samples", [])]
        problems.append(f"{request_errors} request(s) the harness got wrong, e.g. {samples[:1]}")
    started, stopped = live.get("started"), live.get("stopped")
    requests_total, _, _ = live_counts(directory / "locust_stats.csv")
    duration = (stopped - started) if started and stopped else None
    return {
        "errors": len(problems),
        "problems": problems,
        "request_errors": request_errors,
        "exceptions": live.get("exceptions", 0),
        "nemesis": nemesis,
        "nodes": live.get("nodes", {}),
        "history_entries": live.get("entries", 0),
        "load_seconds": round(duration, 3) if duration else None,
        "request_rate": round(requests_total / duration, 1) if duration else None,
        "locust_exit": health.locust_exit,
        "processes": health.processes,
    }


def judge(
    spec: RunSpec,
    evidence: Evidence,
    health: Health,
    directory: Path,
    store_url: str | None,
    command: str,
    offsets: Sequence[float] | None = None,
) -> RunOutcome:
    """The checker's verdict on one run, written with its report; the exit code says how far to trust it.
    `offsets` are the publishes the run scheduled (its plan's); None: the spec's, for a run judged offline."""
    scheduled = len(spec.offsets() if offsets is None else offsets)
    # A load stopped early for a fault (a runaway flow, Locust past its bound) is partial, and exit 2.
    stopped_early = bool(runaways(evidence.live)) or bool(health.service_error)
    if stopped_early:
        health = replace(health, partial=True)
    harness = harness_section(spec, evidence, health, directory, scheduled)
    stopped_by = None
    if health.death is not None:
        stopped_by = health.death.as_dict() | {
            "load_seconds": health.loaded_seconds,
            "ground_truth": evidence.operations is not None,
            "service_error": health.service_error,
            "log_tail": health.death.log_tail,
        }
    result = check(
        evidence.history,
        evidence.truth,
        window_spans(evidence.operations or []),
        mitigation=spec.mitigation,
        fault_profile=spec.profile,
        seed=spec.seed,
        store=evidence.store,  # the run's store read back by its caller (live/run.py), or saved in evidence.json
        repairs=evidence.repairs or None,
        extra={
            "partial": health.partial,
            "run": spec.as_dict() | {"store": describe_store(store_url) if store_url else None, "command": command},
            "harness": harness,
            "publish_operations": evidence.operations or [],
        }
        | ({"services": evidence.services} if evidence.services else {})
        | ({"stopped_by": stopped_by} if stopped_by else {}),
        include_sessions=True,
    )
    if evidence.operations is None:
        # No ground truth, so no verdict: the session classes above only say what the flows saw.
        result["verdict"] = UNKNOWN
    gate = spec.gate()
    if gate:
        result["gate"] = gate.judge(result)
    sessions = session_details(
        evidence.history,
        result.pop("session_outcomes", []),
        evidence.operations or [],
        names=evidence.agents,
        nemesis=harness["nemesis"],
    )
    write_fresh(directory / "sessions.json", json.dumps(sessions, indent=1, sort_keys=True))
    write_fresh(directory / "result.json", json.dumps(result, indent=2, sort_keys=True))
    sections = write_run_report(directory / "report.html", result, evidence.history, sessions)
    if health.death is not None or stopped_early:
        code = EXIT_HARNESS
    elif health.partial:
        code = EXIT_INTERRUPTED
    elif harness["errors"]:
        code = EXIT_HARNESS
    else:
        code = gate_exit([result], gate)
    return RunOutcome(spec.mitigation, directory, result, code, sections)


def worst_exit(outcomes: list[RunOutcome]) -> int:
    if not outcomes:
        return EXIT_HARNESS
    return max((o.exit_code for o in outcomes), key=lambda code: EXIT_SEVERITY.get(code, 3))


def run_exit(outcomes: list[RunOutcome], gate: Gate | None = None) -> int:
    """A harness failure (2) or an interruption (130) first; else the gate's exit code (mockgc/checker/gate.py): one
    mitigation must hold unless an expectation says otherwise, a matrix only breaks on its expectations and
    thresholds (without them it exits 0 when every run completed, as `mockgc simulate --mitigation all`)."""
    worst = worst_exit(outcomes)
    if worst not in (EXIT_HOLDS, EXIT_FAILS):
        return worst
    return gate_exit([o.result for o in outcomes], gate or Gate())


def comparison(outcomes: list[RunOutcome]) -> list[dict[str, Any]]:
    """One summary row per mitigation, for the terminal, the report and the matrix's result.json."""
    return [row(o.result, o.exit_code) for o in outcomes]


def write_matrix(out: Path, outcomes: list[RunOutcome], spec: RunSpec, command: str, runs: int) -> None:
    """The matrix's result.json and report.html; `runs` is how many mitigations it was to run."""
    rows = comparison(outcomes)
    summary = {
        "matrix": rows,
        "fault_profile": spec.profile,
        "seed": spec.seed,
        "partial": any(o.result.get("partial") for o in outcomes) or len(outcomes) < runs,
        "run": spec.as_dict() | {"command": command},
        "holding": [o.mitigation for o in outcomes if o.result["verdict"] == HOLDS],
    }
    write_fresh(out / "result.json", json.dumps(summary, indent=2, sort_keys=True))
    write_matrix_report(out / "report.html", outcomes, rows, summary)
