"""The Jepsen-style checker: a pure function from a history (plus ground truth) to outcomes and a verdict."""

from __future__ import annotations

import bisect
import gc
import math
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mockgc.checker.result import (
    BAD_CLASSES,
    CLASSES,
    DEFAULT,
    DURABILITY,
    FAILING_CLASSES,
    FAILS,
    HOLDS,
    OUTCOMES,
    PERSONALIZED,
    Result,
)
from mockgc.flows.history import FLOW, OP_TYPES

# Operations that write the preference; an ok completion of one is an acknowledgement. action_set and
# action_get are calls to the user's own service (a Data Action): they count as store calls.
WRITE_OPS = frozenset({"set_data", "store_put", "action_set"})
READ_OPS = frozenset({"store_get", "action_get"})
OUTSIDE_PREFIXES = ("store_", "action_")
# The truth's per-session log of the values the platform's evaluate answered `personalized`
# with ({variable: [values]}); the mock keeps it, a flow cannot write it.
EVALUATE_LOG = "evaluatedPersonalized"
MAX_BUCKETS = 10_000  # a timeline column never grows past this, whatever the run's length


class HistoryError(ValueError):
    """The history cannot be judged (an entry the drivers never write): a harness error, exit 2."""


@dataclass(slots=True)
class _Session:
    """What the history says about one session key."""

    key: str
    flow: dict[str, Any] | None = None
    flow_time: float | None = None
    start: float = math.inf
    end: float = -math.inf
    latency_ms: float = 0.0
    first_set_data: float | None = None
    created_id: str | None = None  # the latest create_session's, for sessions that never finished
    written_value: str | None = None  # the first Set Data's value, same reason
    # (variable, value) of the writes that got a 2xx; None where the history does not record it.
    acked: list[tuple[Any, Any]] = field(default_factory=list)
    # The driver-recorded evidence of a branch: (sessionId, variable, value) of every ok evaluate
    # that answered personalized, and (key, value) of every ok store read.
    evaluations: list[tuple[Any, Any, Any]] = field(default_factory=list)
    store_reads: list[tuple[Any, Any]] = field(default_factory=list)


def _r(value: float) -> float:
    return round(value, 3)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank on sorted values; None when there are none."""
    if not values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(values)))
    return _r(values[rank - 1])


def latency_summary(values: list[float]) -> dict[str, Any]:
    """p50/p95/p99/max (nearest rank, 3 decimals) and the count; None everywhere when empty."""
    ordered = sorted(values)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": _r(ordered[-1]) if ordered else None,
        "count": len(ordered),
    }


def _merge(windows: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Sorted, merged [start, end) intervals as parallel lists, for a bisect lookup."""
    starts: list[float] = []
    ends: list[float] = []
    for start, end in sorted((float(a), float(b)) for a, b in windows):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic GC while reading a history: the checker keeps small objects alive for
    every entry and makes no reference cycles, so each collection would only rescan the whole
    history (measured: a third of the checker's time on 100,000 entries)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _echoed(invoke: dict[str, Any], completion: dict[str, Any], name: str) -> Any:
    """A field of what the reply says happened (its echo), else of what was sent; None if neither has it."""
    reply = completion.get("value")
    if isinstance(reply, dict) and name in reply:
        return reply[name]
    return invoke["params"].get(name)


def _classify(
    s: _Session,
    truth: dict[str, dict[str, Any]],
    store: dict[str, str | None] | None,
    variable: str,
) -> dict[str, Any]:
    flow = s.flow or {}
    expected = flow["expected"] if s.flow is not None else s.written_value
    session_id = flow.get("sessionId") or s.created_id
    branch = flow.get("branch")
    seen = flow.get("value")
    store_key = flow.get("storeKey")
    record = truth.get(session_id) or {}

    # The branch's evidence, from driver-recorded completions only: an evaluate of this session's
    # variable that answered personalized with the expected value (and, when the truth carries the
    # mock's own evaluate log, that log agrees), or a read of the flow's store key that returned it.
    evaluated = (session_id, variable, expected) in s.evaluations
    log = record.get(EVALUATE_LOG)
    refuted = evaluated and log is not None and expected not in log.get(variable, ())
    proven = (evaluated and not refuted) or (store_key, expected) in s.store_reads
    # A 2xx write acknowledges the value when it wrote the expected code to this variable (one
    # whose history records no name or value, a store put, counts too). A flow may also claim an
    # acknowledgement the history does not show (a broken mitigation): any source counts, so a
    # dropped write cannot hide behind a missing ack. A value the platform (or store) was seen to
    # hold is acknowledged too: losing it afterwards is ack_lost.
    written = any(name in (None, variable) and (value is None or value == expected) for name, value in s.acked)
    acknowledged = bool(flow.get("acknowledged")) or written or proven

    stored = (
        store.get(store_key)
        if store_key is not None and store is not None
        else record.get("variables", {}).get(variable)
    )

    if session_id is None or expected is None:
        durability = "unknown"
    elif stored == expected:
        durability = "durable"
    elif stored:
        durability = "stored_wrong"
    elif acknowledged:
        durability = "ack_lost"
    else:
        durability = "not_stored"

    if branch == PERSONALIZED and seen != expected:
        outcome = "wrong_code"  # the engine only personalizes on a code it saw: the wrong one, or none
    elif branch == PERSONALIZED:
        outcome = "personalized_ok" if proven else "unverified"
    elif branch == DEFAULT:
        outcome = "default"
    else:
        outcome = "unknown"

    wrong_seen = bool(seen) and seen != expected
    if s.flow is None or outcome == "unknown":
        cls = "indeterminate"
    elif wrong_seen or outcome == "wrong_code" or durability == "stored_wrong":
        cls = "corrupted"
    elif outcome == "unverified":
        cls = "unverified"
    elif acknowledged and durability != "durable":
        cls = "ack_lost"
    elif outcome == "default":
        cls = "lost"
    else:
        cls = "ok"  # personalized on evidence, and durable (else ack_lost above)

    return {
        "key": s.key,
        "class": cls,
        "durability": durability,
        "outcome": outcome,
        "branch": branch,
        "durable": None if durability == "unknown" else durability == "durable",
        "session_id": session_id,
        "claimed_ack_without_write": bool(flow.get("acknowledged")) and not written,
        "evaluate_not_in_mock_log": refuted,
        "latency_ms_total": _r(s.latency_ms),
        "start": _r(s.start),
        "end": _r(s.end),
        "finished_at": s.flow_time,
    }


def check(
    history: list[dict[str, Any]],
    truth: dict[str, dict[str, Any]],
    windows: list[tuple[float, float]],
    *,
    mitigation: str,
    fault_profile: str,
    seed: int,
    store: dict[str, str | None] | None = None,
    repairs: dict[str, float] | None = None,
    variable: str = "preferenceCode",
    extra: dict[str, Any] | None = None,
    include_sessions: bool = False,
) -> Result:
    """Classify every session in `history` and report the cost.

    Sessions are the keys in the history; entries whose key is None are calls no session owns
    (a worker's): they count in the cost, never as sessions. The flow entry (the latest per key
    by time; ties: the later one listed) says what the mitigation reports; it is never evidence.
    A personalized branch counts only on a driver-recorded ok completion that carried the
    expected value (an evaluate of the flow's session and `variable`, confirmed by the truth's
    evaluate log when it has one, or a store read of the flow's storeKey); a claim without it is
    `unverified`. Durability compares the final stored value (the store for a flow with a
    storeKey, else the ground truth) with the expected one. A write counts as acknowledged when
    the flow says so, the history shows a 2xx Set Data / store put of the expected value, or the
    branch's evidence showed the value stored. Primary class precedence: indeterminate >
    corrupted > unverified > ack_lost > lost > ok. Calls whose f starts with "store_" or "action_"
    (a Data Action call to the user's service: action_set writes, action_get reads like store_get)
    are counted apart from platform calls. Invokes are paired with completions per (process, key, f) in
    order; latency is inside a publish window when the invoke time is in [start, end).

    Raises HistoryError for a history no driver writes: an unknown entry type, a flow entry
    without a key or a value, a completion without its invoke, a malformed field.
    """
    repairs = repairs or {}
    starts, ends = _merge(windows)
    sessions: dict[str, _Session] = {}
    pending: dict[tuple[Any, Any, Any], deque[dict[str, Any]]] = defaultdict(deque)

    platform_calls = store_calls = store_failures = 0
    statuses: Counter[int] = Counter()
    lat_all: list[float] = []
    lat_in: list[float] = []
    lat_out: list[float] = []
    origin = math.inf
    # Timeline events as (time, column); only collected when asked for (the loop is the hot path).
    events: list[tuple[float, str]] = []
    timeline = include_sessions
    bisect_right = bisect.bisect_right

    with _gc_paused():
        for entry in history:
            try:
                kind = entry["type"]
                key = entry.get("key")
                t = float(entry["time"])
                origin = min(origin, t)
                s: _Session | None = None
                if key is not None:
                    s = sessions.get(key)
                    if s is None:
                        s = sessions[key] = _Session(key)
                    s.start, s.end = min(s.start, t), max(s.end, t)
                if kind == FLOW:
                    flow = entry.get("value")
                    if s is None or not isinstance(flow, dict) or not isinstance(flow.get("expected"), str):
                        raise HistoryError("a flow entry needs a key, and a value with the expected code")
                    if s.flow_time is None or t >= s.flow_time:
                        s.flow, s.flow_time = flow, t
                    continue
                if kind not in OP_TYPES:
                    raise HistoryError(f"unknown entry type {kind!r}")
                f = entry["f"]
                is_store = f.startswith(OUTSIDE_PREFIXES)
                slot = (entry.get("process"), key, f)
                if kind == "invoke":
                    pending[slot].append(entry)
                    if is_store:
                        store_calls += 1
                    else:
                        platform_calls += 1
                        if timeline:
                            events.append((t, "calls"))
                    if s is not None and f == "set_data" and s.first_set_data is None:
                        s.first_set_data, s.written_value = t, entry["params"]["value"]
                    continue

                queue = pending.get(slot)
                if not queue:
                    raise HistoryError(f"a completion ({kind}) of {f} with no invoke before it")
                invoke = queue.popleft()
                began = invoke["time"]
                latency = max(0.0, (t - began) * 1000.0)
                status = int(entry["status"])
                if is_store:
                    if kind != "ok":
                        # A store that fails or never answers is never a silent success.
                        store_failures += 1
                else:
                    statuses[status] += 1
                    if timeline and status in (400, 429):
                        events.append((t, str(status)))
                    lat_all.append(latency)
                    i = bisect_right(starts, began) - 1
                    (lat_in if i >= 0 and began < ends[i] else lat_out).append(latency)
                if s is None:
                    continue
                s.latency_ms += latency
                if kind != "ok":
                    continue
                reply = entry.get("value")
                if f == "evaluate":
                    if isinstance(reply, dict) and reply.get("branch") == PERSONALIZED:
                        evaluated = (_echoed(invoke, entry, "sessionId"), _echoed(invoke, entry, "variable"))
                        s.evaluations.append((*evaluated, reply.get("value")))
                elif f in READ_OPS:
                    s.store_reads.append((_echoed(invoke, entry, "key"), _echoed(invoke, entry, "value")))
                elif f in WRITE_OPS:
                    # Compared with the expected value later: the flow entry comes after the writes.
                    s.acked.append((_echoed(invoke, entry, "name"), _echoed(invoke, entry, "value")))
                elif f == "create_session":
                    s.created_id = reply["id"]
            except HistoryError as error:
                raise HistoryError(f"history entry {_position(history, entry)}: {error}") from None
            except (LookupError, AttributeError, TypeError, ValueError) as error:
                where = _position(history, entry)
                raise HistoryError(f"history entry {where} is malformed: {type(error).__name__}: {error}") from None

        outcomes: list[dict[str, Any]] = []
        for key in sorted(sessions):
            outcomes.append(_classify(sessions[key], truth, store, variable))

    total = len(outcomes)
    classes = Counter(o["class"] for o in outcomes)
    durability = Counter(o["durability"] for o in outcomes)
    outcome_counts = Counter(o["outcome"] for o in outcomes)

    ttc: list[float] = []
    repaired = 0
    for o in outcomes:
        sid = o["session_id"]
        if sid not in repairs:
            continue
        repaired += 1
        s = sessions[o["key"]]
        began = s.first_set_data if s.first_set_data is not None else s.start
        ttc.append(max(0.0, (repairs[sid] - began) * 1000.0))
    ttc.sort()
    outcome_gap = sum(1 for o in outcomes if o["durability"] == "durable" and o["outcome"] == "default")

    sessions_section = {name: classes[name] for name in CLASSES}
    sessions_section["total"] = total
    # At least one ok session, and no indeterminate one: a strategy that hangs on the sessions a publish
    # locks (cut off after the drain) or a service that never answers must not hold on the rest.
    verdict = HOLDS if classes["ok"] > 0 and not any(classes[c] for c in FAILING_CLASSES) else FAILS

    result: Result = {
        "mitigation": mitigation,
        "fault_profile": fault_profile,
        "seed": seed,
        "sessions": sessions_section,
        "durability": {name: durability[name] for name in DURABILITY},
        "outcome": {name: outcome_counts[name] for name in OUTCOMES},
        "consistency": {
            "repaired": repaired,
            "outcome_gap": outcome_gap,
            "time_to_consistency_ms": {"p50": percentile(ttc, 50), "max": _r(ttc[-1]) if ttc else None},
        },
        "latency_ms": latency_summary(lat_all),
        "latency_ms_by_window": {"inside": latency_summary(lat_in), "outside": latency_summary(lat_out)},
        "http": {str(k): statuses[k] for k in sorted(statuses)},
        "errors": {
            "400": statuses[400],
            "429": statuses[429],
            "5xx": sum(n for k, n in statuses.items() if k >= 500),
            "no_answer": statuses[0],
        },
        "store": {"calls": store_calls, "failures": store_failures},
        "anomalies": {
            # Flows that said a write was acknowledged while the history shows no acknowledged write.
            "claimed_ack_without_write": sum(1 for o in outcomes if o["claimed_ack_without_write"]),
            # Evaluate answers in the history that the mock's own log never gave (a forged record).
            "evaluate_not_in_mock_log": sum(1 for o in outcomes if o["evaluate_not_in_mock_log"]),
        },
        "requests": platform_calls,
        "requests_per_session": _r(platform_calls / total) if total else 0.0,
        "windows": [[_r(a), _r(b)] for a, b in sorted((float(a), float(b)) for a, b in windows)],
        "verdict": verdict,
    }

    if include_sessions:
        for o in outcomes:
            if o["class"] in BAD_CLASSES:  # only a finished flow is bad: its flow entry's time
                events.append((o["finished_at"], "lost"))
        result["timeline"] = _timeline(events, origin)
        result["session_outcomes"] = [
            {k: o[k] for k in ("key", "class", "durability", "outcome", "branch", "durable", "latency_ms_total")}
            | {"start": o["start"], "end": o["end"]}
            for o in outcomes
        ]

    for k, v in (extra or {}).items():
        if k in result:
            raise ValueError(f"extra key {k!r} would overwrite the checker's own result")
        result[k] = v
    return result


def _position(history: list[dict[str, Any]], entry: Any) -> int:
    """Where `entry` (the one being read when the history turned out bad) is in the history."""
    return next(i for i, e in enumerate(history) if e is entry)


def _timeline(events: list[tuple[float, str]], origin: float) -> dict[str, Any]:
    """Dense columns from the first history time: calls, 400s, 429s and sessions that lost data.

    Buckets are 1 s wide, widened (whole seconds) only to keep a very long run under MAX_BUCKETS.
    """
    columns = ("calls", "400", "429", "lost")
    if origin == math.inf:
        return {"origin": None, "bucket_s": 1, "t": []} | {c: [] for c in columns}
    span = max((t - origin for t, _ in events), default=0.0)
    bucket = max(1, math.ceil((span + 1) / MAX_BUCKETS))
    size = 1 + int(span / bucket)
    table = {c: [0] * size for c in columns}
    for t, column in events:
        table[column][int((t - origin) / bucket)] += 1  # every event is at or after the origin
    return {"origin": _r(origin), "bucket_s": bucket, "t": [i * bucket for i in range(size)]} | table
