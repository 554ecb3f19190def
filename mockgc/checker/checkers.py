"""The sub-checkers, Jepsen style: each a pure function of the judged history giving its part of the result,
joined by `compose`.

A sub-checker reads a `Judged` (the history read once, every interaction classified, and what it is
judged against) and answers a dict of result keys; `compose` runs them in order and merges their
answers, refusing two that give the same key.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockgc.checker.classify import Ground
from mockgc.checker.figures import latency_summary, merge_windows, percentile, rounded
from mockgc.checker.reading import Reading
from mockgc.checker.result import BAD_CLASSES, CLASSES, DURABILITY, FAILING_CLASSES, FAILS, HOLDS, OUTCOMES

MAX_BUCKETS = 10_000  # a timeline column never grows past this, whatever the run's length


@dataclass(frozen=True, slots=True)
class Judged:
    """A history read and classified: the facts, each interaction's outcome (by key), and the ground."""

    reading: Reading
    outcomes: list[dict[str, Any]]
    ground: Ground
    windows: list[tuple[float, float]] = field(default_factory=list)
    repairs: dict[str, float] = field(default_factory=dict)
    include_sessions: bool = False


Checker = Callable[[Judged], dict[str, Any]]


def compose(*checkers: Checker) -> Checker:
    """One checker that runs `checkers` in order and merges their answers (no key given twice)."""

    def composed(judged: Judged) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for checker in checkers:
            for key, value in checker(judged).items():
                if key in merged:
                    raise ValueError(f"two sub-checkers give {key!r}")
                merged[key] = value
        return merged

    return composed


def sessions(judged: Judged) -> dict[str, Any]:
    """Each class, durability and outcome counted (every name, even at zero), the anomalies, and the
    verdict: holds with at least one ok session and none of a failing class."""
    outcomes = judged.outcomes
    classes = Counter(o["class"] for o in outcomes)
    durability = Counter(o["durability"] for o in outcomes)
    outcome_counts = Counter(o["outcome"] for o in outcomes)
    counts = {name: classes[name] for name in CLASSES}
    counts["total"] = len(outcomes)
    # At least one ok session, and no indeterminate one: a strategy that hangs on the sessions a publish
    # locks (cut off after the drain) or a service that never answers must not hold on the rest.
    verdict = HOLDS if classes["ok"] > 0 and not any(classes[c] for c in FAILING_CLASSES) else FAILS
    return {
        "sessions": counts,
        "durability": {name: durability[name] for name in DURABILITY},
        "outcome": {name: outcome_counts[name] for name in OUTCOMES},
        "anomalies": {
            # Flows that said a write was acknowledged while the history shows no acknowledged write.
            "claimed_ack_without_write": sum(1 for o in outcomes if o["claimed_ack_without_write"]),
            # Evaluate answers in the history that the mock's own log never gave (a forged record).
            "evaluate_not_in_mock_log": sum(1 for o in outcomes if o["evaluate_not_in_mock_log"]),
        },
        "verdict": verdict,
    }


def consistency(judged: Judged) -> dict[str, Any]:
    """Repairs (a worker's, by session id), each one's time from the session's first write (else its first
    entry) to the repair, and the outcome gap: durable values the customer never got."""
    repairs, interactions = judged.repairs, judged.reading.interactions
    ttc: list[float] = []
    for o in judged.outcomes:
        sid = o["session_id"]
        if sid not in repairs:
            continue
        s = interactions[o["key"]]
        began = s.first_set_data if s.first_set_data is not None else s.start
        ttc.append(max(0.0, (repairs[sid] - began) * 1000.0))
    ttc.sort()
    outcome_gap = sum(1 for o in judged.outcomes if o["durability"] == "durable" and o["outcome"] == "default")
    return {
        "consistency": {
            "repaired": len(ttc),
            "outcome_gap": outcome_gap,
            "time_to_consistency_ms": {"p50": percentile(ttc, 50), "max": rounded(ttc[-1]) if ttc else None},
        }
    }


def latency_by_window(judged: Judged) -> dict[str, Any]:
    """Platform call latency, and apart inside and outside the publish windows (by the invoke time)."""
    starts, ends = merge_windows(judged.windows)
    lat_all: list[float] = []
    lat_in: list[float] = []
    lat_out: list[float] = []
    bisect_right = bisect.bisect_right
    for began, latency, _, _ in judged.reading.calls:
        lat_all.append(latency)
        i = bisect_right(starts, began) - 1
        (lat_in if i >= 0 and began < ends[i] else lat_out).append(latency)
    return {
        "latency_ms": latency_summary(lat_all),
        "latency_ms_by_window": {"inside": latency_summary(lat_in), "outside": latency_summary(lat_out)},
        "windows": [[rounded(a), rounded(b)] for a, b in sorted((float(a), float(b)) for a, b in judged.windows)],
    }


def cost(judged: Judged) -> dict[str, Any]:
    """What the strategy cost: platform calls by status, the errors among them, store and Data Action calls,
    requests per session."""
    reading = judged.reading
    statuses = Counter(status for _, _, _, status in reading.calls)
    total = len(judged.outcomes)
    requests = len(reading.invoked)
    return {
        "http": {str(k): statuses[k] for k in sorted(statuses)},
        "errors": {
            "400": statuses[400],
            "429": statuses[429],
            "5xx": sum(n for k, n in statuses.items() if k >= 500),
            "no_answer": statuses[0],
        },
        "store": {"calls": reading.store_calls, "failures": reading.store_failures},
        "requests": requests,
        "requests_per_session": rounded(requests / total) if total else 0.0,
    }


def timeline(judged: Judged) -> dict[str, Any]:
    """When asked for (a live run's report): the timeline, and each session's outcome."""
    if not judged.include_sessions:
        return {}
    reading = judged.reading
    events = [(t, "calls") for t in reading.invoked]
    events += [(t, str(status)) for _, _, t, status in reading.calls if status in (400, 429)]
    # Only a finished flow is bad: its flow entry's time.
    events += [(o["finished_at"], "lost") for o in judged.outcomes if o["class"] in BAD_CLASSES]
    return {
        "timeline": _columns(events, reading.origin),
        "session_outcomes": [
            {k: o[k] for k in ("key", "class", "durability", "outcome", "branch", "durable", "latency_ms_total")}
            | {"start": o["start"], "end": o["end"]}
            for o in judged.outcomes
        ],
    }


def _columns(events: list[tuple[float, str]], origin: float) -> dict[str, Any]:
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
    return {"origin": rounded(origin), "bucket_s": bucket, "t": [i * bucket for i in range(size)]} | table
