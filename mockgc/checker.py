"""The Jepsen-style checker: a pure function from a history (plus ground truth) to outcomes and a verdict."""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

PERSONALIZED, DEFAULT = "personalized", "default"
CLASSES = ("ok", "lost", "ack_lost", "corrupted", "unverified", "indeterminate")
DURABILITY = ("durable", "ack_lost", "not_stored", "stored_wrong", "unknown")
OUTCOMES = ("personalized_ok", "default", "wrong_code", "unverified", "unknown")
OP_TYPES = frozenset({"invoke", "ok", "fail", "info"})
# Operations that write the preference; an ok completion of one is an acknowledgement.
WRITE_OPS = frozenset({"set_data", "store_put"})
# The primary classes that mean the customer's data went wrong, or cannot be shown right (the verdict's failures).
BAD_CLASSES = frozenset({"lost", "ack_lost", "corrupted", "unverified"})
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
    first_invoke: float | None = None
    created_id: str | None = None  # from create_session, for sessions that never finished
    written_value: str | None = None  # the first Set Data's value, same reason
    # (variable, value) of the writes that got a 2xx; None where the history does not record it.
    acked: list[tuple[Any, Any]] = field(default_factory=list)
    write_acks: int = 0  # of those, the ones that wrote the expected value
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
    for start, end in sorted((float(a), float(b)) for a, b in windows if b > a):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _echoed(invoke: dict[str, Any] | None, completion: dict[str, Any], name: str) -> Any:
    """A field of what the reply says happened (its echo), else of what was sent; None if neither has it."""
    reply = completion.get("value")
    if isinstance(reply, dict) and name in reply:
        return reply[name]
    params = invoke.get("params") if invoke else None
    return params.get(name) if isinstance(params, dict) else None


def _classify(
    s: _Session,
    truth: dict[str, dict[str, Any]],
    store: dict[str, str | None] | None,
    variable: str,
) -> dict[str, Any]:
    flow = s.flow or {}
    expected = flow.get("expected") if s.flow is not None else s.written_value
    session_id = flow.get("sessionId") or s.created_id
    branch = flow.get("branch") if s.flow is not None else None
    seen = flow.get("value")
    store_key = flow.get("storeKey")
    record = (truth.get(session_id) or {}) if session_id is not None else {}

    # The branch's evidence, from driver-recorded completions only: an evaluate of this session's
    # variable that answered personalized with the expected value (and, when the truth carries the
    # mock's own evaluate log, that log agrees), or a read of the flow's store key that returned it.
    evaluated = expected is not None and (session_id, variable, expected) in s.evaluations
    log = record.get(EVALUATE_LOG)
    refuted = evaluated and log is not None and expected not in log.get(variable, ())
    proven = (evaluated and not refuted) or (
        expected is not None and store_key is not None and (store_key, expected) in s.store_reads
    )
    # A flow may claim an acknowledgement the history does not show (a broken mitigation): any
    # source counts, so a dropped write can never hide behind a missing ack. A value the platform
    # (or store) was seen to hold is acknowledged too: losing it afterwards is ack_lost.
    acknowledged = bool(flow.get("acknowledged")) or s.write_acks > 0 or proven

    stored = store.get(store_key) if store_key and store is not None else record.get("variables", {}).get(variable)

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

    if branch == PERSONALIZED:
        # The engine only personalizes on a code it saw; seeing the wrong one (or none) is a wrong code.
        if seen != expected or expected is None:
            outcome = "wrong_code"
        else:
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
        "claimed_ack_without_write": bool(flow.get("acknowledged")) and s.write_acks == 0,
        "evaluate_not_in_mock_log": refuted,
        "latency_ms_total": _r(s.latency_ms),
        "start": _r(s.start) if s.start != math.inf else None,
        "end": _r(s.flow_time if s.flow_time is not None else s.end) if s.end != -math.inf else None,
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
) -> dict[str, Any]:
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
    corrupted > unverified > ack_lost > lost > ok. Calls whose f starts with "store_" are counted
    apart from platform calls. Invokes are paired with completions per (process, key, f) in
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

    entry: Any = None
    try:
        for entry in history:
            kind = entry.get("type")
            key = entry.get("key")
            t = float(entry.get("time", 0.0))
            if t < origin:
                origin = t
            s: _Session | None = None
            if key is not None:
                s = sessions.get(key)
                if s is None:
                    s = sessions[key] = _Session(key)
                if t < s.start:
                    s.start = t
                if t > s.end:
                    s.end = t
            if kind == "flow":
                flow = entry.get("value")
                if s is None or not isinstance(flow, dict):
                    raise HistoryError("a flow entry needs a key and a value object")
                if s.flow_time is None or t >= s.flow_time:
                    s.flow, s.flow_time = flow, t
                continue
            if kind not in OP_TYPES:
                raise HistoryError(f"unknown entry type {kind!r}")
            f = str(entry.get("f"))
            is_store = f.startswith("store_")
            slot = (entry.get("process"), key, f)
            if kind == "invoke":
                pending[slot].append(entry)
                if is_store:
                    store_calls += 1
                else:
                    platform_calls += 1
                    if timeline:
                        events.append((t, "calls"))
                if s is not None:
                    if s.first_invoke is None or t < s.first_invoke:
                        s.first_invoke = t
                    if f == "set_data":
                        if s.first_set_data is None or t < s.first_set_data:
                            s.first_set_data = t
                        if s.written_value is None and isinstance(entry.get("params"), dict):
                            s.written_value = entry["params"].get("value")
                continue

            queue = pending.get(slot)
            if not queue:
                raise HistoryError(f"a {kind} completion of {f} with no invoke before it")
            invoke = queue.popleft()
            began = float(invoke.get("time", t))
            latency = (t - began) * 1000.0 if t > began else 0.0
            status = int(entry.get("status") or 0)
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
                    s.evaluations.append(
                        (_echoed(invoke, entry, "sessionId"), _echoed(invoke, entry, "variable"), reply.get("value"))
                    )
            elif f == "store_get":
                s.store_reads.append((_echoed(invoke, entry, "key"), _echoed(invoke, entry, "value")))
            elif f in WRITE_OPS:
                # Compared with the expected value later: the flow entry comes after the writes.
                s.acked.append((_echoed(invoke, entry, "name"), _echoed(invoke, entry, "value")))
            elif f == "create_session" and isinstance(reply, dict) and s.created_id is None:
                s.created_id = reply.get("id")
    except HistoryError as error:
        raise HistoryError(f"history entry {_position(history, entry)}: {error}") from None
    except (AttributeError, TypeError, ValueError) as error:
        where = _position(history, entry)
        raise HistoryError(f"history entry {where} is malformed: {type(error).__name__}: {error}") from None

    outcomes: list[dict[str, Any]] = []
    for key in sorted(sessions):
        s = sessions[key]
        expected = s.flow.get("expected") if s.flow is not None else s.written_value
        # An acked write counts when it wrote the expected value to the preference variable; one
        # whose history records no name or value (a store put) counts too.
        s.write_acks = sum(
            1 for name, value in s.acked if name in (None, variable) and (value is None or value == expected)
        )
        outcomes.append(_classify(s, truth, store, variable))

    total = len(outcomes)
    classes = Counter(o["class"] for o in outcomes)
    durability = Counter(o["durability"] for o in outcomes)
    outcome_counts = Counter(o["outcome"] for o in outcomes)

    ttc: list[float] = []
    repaired = 0
    for o in outcomes:
        sid = o["session_id"]
        if sid is None or sid not in repairs:
            continue
        repaired += 1
        s = sessions[o["key"]]
        began = s.first_set_data if s.first_set_data is not None else s.first_invoke
        if began is not None:
            ttc.append(max(0.0, (float(repairs[sid]) - began) * 1000.0))
    ttc.sort()
    outcome_gap = sum(1 for o in outcomes if o["durability"] == "durable" and o["outcome"] == "default")

    sessions_section = {name: classes.get(name, 0) for name in CLASSES}
    sessions_section["total"] = total
    # At least one ok session: otherwise a strategy that never finishes (all indeterminate) would "hold".
    finished_well = classes.get("ok", 0) > 0
    verdict = "holds" if finished_well and not any(classes.get(c, 0) for c in BAD_CLASSES) else "fails"

    result: dict[str, Any] = {
        "mitigation": mitigation,
        "fault_profile": fault_profile,
        "seed": seed,
        "sessions": sessions_section,
        "durability": {name: durability.get(name, 0) for name in DURABILITY},
        "outcome": {name: outcome_counts.get(name, 0) for name in OUTCOMES},
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
            if o["class"] in BAD_CLASSES and o["finished_at"] is not None:
                events.append((float(o["finished_at"]), "lost"))
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
    size = 1 + int(span // bucket)
    table = {c: [0] * size for c in columns}
    for t, column in events:
        table[column][max(0, int((t - origin) // bucket))] += 1
    return {"origin": _r(origin), "bucket_s": bucket, "t": [i * bucket for i in range(size)]} | table


def exit_code(result: dict[str, Any]) -> int:
    """0 when the mitigation holds, 1 when it fails (2, a harness error, is the CLI's to give)."""
    return 0 if result.get("verdict") == "holds" else 1
