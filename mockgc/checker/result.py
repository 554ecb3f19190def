"""The result's vocabulary and shape, defined once: branches, outcome classes, verdicts, exit codes, the typed result.

Every module that reads or writes a result (the checker, the simulator, the live harness, the CLI,
the report) takes its names from here. The typed result is a TypedDict: it is the very dict the
checker builds and `json.dumps(..., sort_keys=True)` writes, so typing it changes no byte.
"""

from __future__ import annotations

from typing import Any, TypedDict

# The script's two branches, named where the flows take them, and part of the result's vocabulary.
from mockgc.flows.effects import DEFAULT, PERSONALIZED  # noqa: F401

# A session's primary class, in report order; the checker's precedence is
# indeterminate > corrupted > unverified > ack_lost > lost > ok.
OK, LOST, ACK_LOST, CORRUPTED, UNVERIFIED, INDETERMINATE = (
    "ok",
    "lost",
    "ack_lost",
    "corrupted",
    "unverified",
    "indeterminate",
)
CLASSES = (OK, LOST, ACK_LOST, CORRUPTED, UNVERIFIED, INDETERMINATE)
# The classes that mean the customer's data went wrong, or cannot be shown right: any one fails a run.
BAD_CLASSES = frozenset({LOST, ACK_LOST, CORRUPTED, UNVERIFIED})
# A run holds only with none of these: an indeterminate session (a flow that never finished, or took no
# branch) is not known to have served its customer, so "holds" cannot be claimed over it.
FAILING_CLASSES = BAD_CLASSES | {INDETERMINATE}
# Is the final stored value right? And did the customer get the personalized branch? Kept apart.
DURABILITY = ("durable", "ack_lost", "not_stored", "stored_wrong", "unknown")
OUTCOMES = ("personalized_ok", "default", "wrong_code", "unverified", "unknown")

HOLDS, FAILS, UNKNOWN = "holds", "fails", "unknown"  # unknown: a live run that lost its ground truth

EXIT_HOLDS, EXIT_FAILS, EXIT_HARNESS, EXIT_INTERRUPTED = 0, 1, 2, 130
# How bad an exit code is, to pick the worst of several runs.
EXIT_SEVERITY = {EXIT_INTERRUPTED: 4, EXIT_HARNESS: 3, EXIT_FAILS: 2, EXIT_HOLDS: 1}


def bad_sessions(sessions: SessionCounts | dict[str, int]) -> int:
    """Sessions whose data went wrong (the classes in BAD_CLASSES), summed."""
    return sum(int(sessions.get(name, 0)) for name in CLASSES if name in BAD_CLASSES)


def verdict_exit(verdict: str) -> int:
    """0 when the mitigation holds, else 1 (2, a harness error, is the caller's to give)."""
    return EXIT_HOLDS if verdict == HOLDS else EXIT_FAILS


class SessionCounts(TypedDict):
    total: int
    ok: int
    lost: int
    ack_lost: int
    corrupted: int
    unverified: int
    indeterminate: int


class Latency(TypedDict):
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    count: int


class ByWindow(TypedDict):
    inside: Latency
    outside: Latency


class TimeToConsistency(TypedDict):
    p50: float | None
    max: float | None


class Consistency(TypedDict):
    repaired: int
    outcome_gap: int
    time_to_consistency_ms: TimeToConsistency


class StoreCalls(TypedDict):
    calls: int
    failures: int


class Anomalies(TypedDict):
    claimed_ack_without_write: int
    evaluate_not_in_mock_log: int


class _Judged(TypedDict):
    """What the checker always writes (DESIGN §6)."""

    mitigation: str
    fault_profile: str
    seed: int
    sessions: SessionCounts
    durability: dict[str, int]
    outcome: dict[str, int]
    consistency: Consistency
    latency_ms: Latency
    latency_ms_by_window: ByWindow
    http: dict[str, int]  # count by status; "0" is no answer
    errors: dict[str, int]
    store: StoreCalls
    anomalies: Anomalies
    requests: int
    requests_per_session: float
    windows: list[list[float]]
    verdict: str


class Result(_Judged, total=False):
    """A judged run: the checker's keys, and what the driver adds beside them."""

    # The simulator's.
    driver: str
    agents: int
    publishes: int
    publish: dict[str, Any]
    mitigation_params: dict[str, Any]
    simulation: dict[str, Any]
    flow_ms: Latency
    worker: dict[str, Any]
    # A live run's.
    partial: bool
    run: dict[str, Any]
    harness: dict[str, Any]
    publish_operations: list[dict[str, Any]]
    services: dict[str, Any]
    stopped_by: dict[str, Any]
    timeline: dict[str, Any]
    session_outcomes: list[dict[str, Any]]
    # Added when a gate judged it (mockgc/checker/gate.py): expected verdict, thresholds, what broke.
    gate: dict[str, Any]
