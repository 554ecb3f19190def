"""What makes a run a CI gate: expectations (`none=fails`) and k6-style thresholds (`lost<=0`), judged on a result.

Pure: a judgement is a function of the result and the gate, so `run`, `simulate` and `check` judge
alike, and the JSON, the table, the report and JUnit show the same judgement. Exit codes follow
one rule (`gate_exit`): a broken expectation or threshold is 1; a result with no expectation must
hold when it ran alone, and is only compared when it ran in a matrix (several mitigations).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockgc.checker.result import (
    BAD_CLASSES,
    CLASSES,
    EXIT_FAILS,
    EXIT_HOLDS,
    FAILS,
    HOLDS,
    INDETERMINATE,
    Result,
    bad_sessions,
)

EXPECTATIONS = (HOLDS, FAILS)
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
Metric = Callable[[Result], "float | None"]


def _share(result: Result) -> float | None:
    total = result["sessions"]["total"]
    return round(100.0 * bad_sessions(result["sessions"]) / total, 3) if total else None


# Every figure a threshold can bound: (what it is, how it is read). A literal, so it is built at import and
# read by the tests of each threshold (mutmut mutates functions; this table is checked through them).
METRICS: dict[str, tuple[str, Metric]] = {
    "sessions": ("sessions judged", lambda r: r["sessions"]["total"]),
    "ok": ("ok sessions", lambda r: r["sessions"]["ok"]),
    "lost": ("lost sessions", lambda r: r["sessions"]["lost"]),
    "ack_lost": ("ack_lost sessions", lambda r: r["sessions"]["ack_lost"]),
    "corrupted": ("corrupted sessions", lambda r: r["sessions"]["corrupted"]),
    "unverified": ("unverified sessions", lambda r: r["sessions"]["unverified"]),
    "indeterminate": ("indeterminate sessions", lambda r: r["sessions"]["indeterminate"]),
    "bad": ("lost + ack_lost + corrupted + unverified", lambda r: bad_sessions(r["sessions"])),
    "bad_pct": ("bad sessions, percent of all", lambda r: _share(r)),
    "requests": ("platform requests", lambda r: r["requests"]),
    "requests_per_session": ("platform requests per session", lambda r: r["requests_per_session"]),
    "p50_ms": ("p50 call latency, ms", lambda r: r["latency_ms"]["p50"]),
    "p50_inside_ms": (
        "p50 call latency inside the publish windows, ms",
        lambda r: r["latency_ms_by_window"]["inside"]["p50"],
    ),
    "p50_outside_ms": (
        "p50 call latency outside the publish windows, ms",
        lambda r: r["latency_ms_by_window"]["outside"]["p50"],
    ),
    "p95_ms": ("p95 call latency, ms", lambda r: r["latency_ms"]["p95"]),
    "p95_inside_ms": (
        "p95 call latency inside the publish windows, ms",
        lambda r: r["latency_ms_by_window"]["inside"]["p95"],
    ),
    "p95_outside_ms": (
        "p95 call latency outside the publish windows, ms",
        lambda r: r["latency_ms_by_window"]["outside"]["p95"],
    ),
    "p99_ms": ("p99 call latency, ms", lambda r: r["latency_ms"]["p99"]),
    "p99_inside_ms": (
        "p99 call latency inside the publish windows, ms",
        lambda r: r["latency_ms_by_window"]["inside"]["p99"],
    ),
    "p99_outside_ms": (
        "p99 call latency outside the publish windows, ms",
        lambda r: r["latency_ms_by_window"]["outside"]["p99"],
    ),
    "max_ms": ("max call latency, ms", lambda r: r["latency_ms"]["max"]),
    "max_inside_ms": (
        "max call latency inside the publish windows, ms",
        lambda r: r["latency_ms_by_window"]["inside"]["max"],
    ),
    "max_outside_ms": (
        "max call latency outside the publish windows, ms",
        lambda r: r["latency_ms_by_window"]["outside"]["max"],
    ),
    "http_400": ("HTTP 400s", lambda r: r["errors"]["400"]),
    "http_429": ("HTTP 429s", lambda r: r["errors"]["429"]),
    "http_5xx": ("HTTP 5xx", lambda r: r["errors"]["5xx"]),
    "no_answer": ("calls with no answer", lambda r: r["errors"]["no_answer"]),
    "durable": ("sessions whose final stored value is right", lambda r: r["durability"]["durable"]),
    "outcome_gap": (
        "durable sessions whose customer got the default branch",
        lambda r: r["consistency"]["outcome_gap"],
    ),
    "repaired": ("sessions a repair worker re-applied", lambda r: r["consistency"]["repaired"]),
    "ttc_p50_ms": ("time to consistency p50, ms", lambda r: r["consistency"]["time_to_consistency_ms"]["p50"]),
    "ttc_max_ms": ("time to consistency max, ms", lambda r: r["consistency"]["time_to_consistency_ms"]["max"]),
}
_THRESHOLD = re.compile(
    r"\s*(?:(?P<scope>.+):)?(?P<metric>[a-z0-9_]+)\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<limit>[-+]?\d+(?:\.\d+)?)\s*"
)


def figure(value: Any) -> str:
    """A number as the gate shows it: integers without a point, n/a for a missing figure."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return str(int(value)) if isinstance(value, int | float) else str(value)


@dataclass(frozen=True)
class Threshold:
    """`[MITIGATION:]METRIC OP NUMBER`, e.g. `lost<=0` or `backoff-verify:requests_per_session<=6`."""

    text: str
    metric: str
    op: str
    limit: float
    scope: str | None = None

    @classmethod
    def parse(cls, text: str) -> Threshold:
        match = _THRESHOLD.fullmatch(text)
        if match is None:
            raise ValueError(
                f"threshold {text!r} is not [MITIGATION:]METRIC<OP>NUMBER, e.g. 'lost<=0' "
                f"(operators {', '.join(sorted(OPERATORS, key=len))})"
            )
        if match["metric"] not in METRICS:
            raise ValueError(f"threshold {text!r}: unknown metric {match['metric']!r}; known: {', '.join(METRICS)}")
        return cls(text.strip(), match["metric"], match["op"], float(match["limit"]), match["scope"])

    def applies_to(self, mitigation: str) -> bool:
        return self.scope is None or self.scope == mitigation

    def check(self, result: Result) -> dict[str, Any]:
        """The figure and whether it is within the limit; a missing figure (n/a) is a breach, never a pass."""
        value = METRICS[self.metric][1](result)
        passed = value is not None and OPERATORS[self.op](value, self.limit)
        return {"threshold": self.text, "value": value, "passed": passed}


def parse_expectation(text: str) -> tuple[str, str]:
    """`NAME=holds|fails` as (name, verdict)."""
    name, sep, verdict = text.rpartition("=")
    name, verdict = name.strip(), verdict.strip().lower()
    if not sep or not name or verdict not in EXPECTATIONS:
        raise ValueError(f"expectation {text!r} is not NAME=holds or NAME=fails, e.g. 'none=fails'")
    return name, verdict


@dataclass(frozen=True)
class Gate:
    """The expectations by mitigation name and the thresholds every (or one named) mitigation must meet."""

    expect: Mapping[str, str] = field(default_factory=dict)
    thresholds: tuple[Threshold, ...] = ()

    @classmethod
    def parse(cls, expect: Mapping[str, str] | Iterable[str] = (), thresholds: Iterable[str] = ()) -> Gate:
        items = expect.items() if isinstance(expect, Mapping) else (parse_expectation(e) for e in expect)
        expected: dict[str, str] = {}
        for name, verdict in items:
            expected.update([parse_expectation(f"{name}={verdict}")])
        return cls(expected, tuple(Threshold.parse(t) for t in thresholds))

    def __bool__(self) -> bool:
        return bool(self.expect or self.thresholds)

    def check_names(self, names: Sequence[str]) -> None:
        """Every expectation and scoped threshold names a mitigation of the run: a typo never passes silently."""
        named = [*self.expect, *(t.scope for t in self.thresholds if t.scope is not None)]
        strangers = sorted({n for n in named if n not in names})
        if strangers:
            raise ValueError(f"the gate names {', '.join(strangers)}, not run here (this run: {', '.join(names)})")

    def judge(self, result: Result, *, alone: bool = False) -> dict[str, Any]:
        """The judgement of one result: its expectation, its thresholds, and what broke (named). A result that
        ran `alone` with no expectation is expected to hold, and a verdict other than holds is broken too."""
        mitigation = result["mitigation"]
        expected = self.expect.get(mitigation)
        applied = [t for t in self.thresholds if t.applies_to(mitigation)]
        checks = [t.check(result) for t in applied]
        broken = []
        if expected is not None and result["verdict"] != expected:
            broken.append(f"expected {expected}, got {result['verdict']} ({loss_summary(result)})")
        if alone and expected is None and result["verdict"] != HOLDS:
            broken.append(f"verdict {result['verdict']} ({loss_summary(result)})")
        for threshold, check in zip(applied, checks, strict=True):
            if not check["passed"]:
                broken.append(f"threshold {threshold.text} broken: {threshold.metric} = {figure(check['value'])}")
        return {"expected": expected, "verdict": result["verdict"], "thresholds": checks, "broken": broken}


def loss_summary(result: Result) -> str:
    """'lost 438 of 1216 sessions (lost 400, ack_lost 38)', or 'no session lost, of 1216'."""
    sessions = result["sessions"]
    bad = bad_sessions(sessions)
    unknown = sessions[INDETERMINATE]
    unfinished = f"; {unknown} indeterminate (never finished, or took no branch)" if unknown else ""
    if not bad:
        return f"no session lost, of {sessions['total']}{unfinished}"
    parts = ", ".join(f"{name} {sessions[name]}" for name in CLASSES if name in BAD_CLASSES and sessions[name])
    return f"lost {bad} of {sessions['total']} sessions ({parts}){unfinished}"


def problems(result: Result, gate: Gate, *, alone: bool) -> list[str]:
    """What fails this result: what broke in the gate and, for a mitigation run alone with no expectation, a
    verdict other than holds (a matrix without expectations only compares)."""
    broken: list[str] = gate.judge(result, alone=alone)["broken"]
    return broken


def gate_exit(results: Sequence[Result], gate: Gate) -> int:
    """1 when any result has a problem (see `problems`; a single result ran alone), else 0."""
    alone = len(results) == 1
    return EXIT_FAILS if any(problems(r, gate, alone=alone) for r in results) else EXIT_HOLDS
