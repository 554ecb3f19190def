"""One candidate simulated and kept whole: its result, each session's class, its history and every hold planned.

Shrinking simulates many candidates; `Simulations` runs each (at most `budget`, none twice) and keeps
what judging a candidate and telling its story need: the checker's per-session outcomes (its own
classes, never ours), the driver's history, the holds each publish put on each agent, and the org's
agents by number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from mockgc.checker.result import BAD_CLASSES, DEFAULT, FAILING_CLASSES, Result
from mockgc.drivers.simulator import Simulator
from mockgc.platform.domain.publish_lock import Hold
from mockgc.spec.arrivals import session_key
from mockgc.spec.runspec import RunSpec
from mockgc.strategies.plans import plan


def counted(n: int, one: str, many: str | None = None) -> str:
    """'1 session', '3 sessions'."""
    return f"{n} {one if n == 1 else many or one + 's'}"


class BudgetSpent(RuntimeError):
    """The shrink used the simulations it was allowed (--budget)."""


@dataclass(frozen=True)
class Failure:
    """What went wrong for a session, in the checker's words: its class, and for a `lost` session whose
    value was made durable afterwards (a repair), the outcome gap: the customer had already taken the
    default branch. A shrink keeps both, so a gap never turns into a plain loss on the way."""

    cls: str
    outcome_gap: bool = False

    @classmethod
    def of(cls, outcome: dict[str, Any]) -> Failure:
        gap = outcome["durability"] == "durable" and outcome["outcome"] == "default"
        return cls(outcome["class"], gap)

    def __str__(self) -> str:
        return f"{self.cls} (outcome gap)" if self.outcome_gap else self.cls


class HoldRecorder:
    """A simulator component: every hold each publish plans, read just after the publish starts (the
    lock table drops a hold when it ends)."""

    def __init__(self) -> None:
        self.holds: list[Hold] = []

    def install(self, sim: Simulator) -> None:
        for at in sim.publish_times:
            # The publish itself is scheduled after the components install: run just after it.
            sim.schedule(math.nextafter(at, math.inf), lambda _now, sim=sim: self._read(sim))

    def _read(self, sim: Simulator) -> None:
        seen = set(self.holds)
        self.holds.extend(h for h in sim.platform.locks.windows() if h not in seen)


@dataclass(frozen=True)
class Trace:
    """A candidate's simulated run."""

    spec: RunSpec
    result: Result
    outcomes: dict[str, dict[str, Any]]  # session key -> the checker's outcome
    keys: dict[int, str]  # session number -> its key
    history: list[dict[str, Any]]
    holds: list[Hold]
    publish_times: list[float]
    start: float
    agents: list[tuple[str, str]]  # (id, name) by agent number
    repairs: dict[str, float]

    @cached_property
    def spans(self) -> dict[str, tuple[float, float]]:
        """Session key -> (its first entry's time, its last's)."""
        spans: dict[str, tuple[float, float]] = {}
        for entry in self.history:
            key = entry.get("key")
            if key is not None:
                first, _ = spans.get(key, (entry["time"], 0.0))
                spans[key] = (first, entry["time"])
        return spans

    @cached_property
    def operations(self) -> list[str]:
        """The publishes' operation ids, in the order they started."""
        starts: dict[str, float] = {}
        for hold in self.holds:
            starts[hold.operation_id] = min(starts.get(hold.operation_id, hold.start), hold.start)
        return sorted(starts, key=lambda operation_id: starts[operation_id])

    def holds_of(self, session: int) -> list[Hold]:
        """The holds on a session's agent that overlap its calls, in time order."""
        arrival = next(a for a in self.spec.arrivals if a.session == session)
        agent_id = self.agents[arrival.agent][0]
        span = self.spans.get(self.keys[session])
        if span is None:
            return []
        began, ended = span
        return [h for h in self.holds if h.agent_id == agent_id and h.start <= ended and began < h.end]

    def failures(self) -> list[tuple[int, Failure]]:
        """(session number, failure) of every session that did not serve its customer, in arrival order."""
        found = []
        for arrival in self.spec.arrivals:
            outcome = self.outcomes.get(self.keys[arrival.session])
            if outcome is not None and outcome["class"] in FAILING_CLASSES:
                found.append((arrival.session, Failure.of(outcome)))
        return found

    def failing(self, failure: Failure) -> list[int]:
        """The session numbers that failed exactly so."""
        return [number for number, seen in self.failures() if seen == failure]

    def first_failure(self) -> tuple[int, Failure] | None:
        """The first session (by arrival) whose data went wrong; else the first indeterminate one."""
        found = self.failures()
        bad = [f for f in found if f[1].cls in BAD_CLASSES]
        return (bad or found or [None])[0]


def branch_of(outcome: dict[str, Any]) -> str:
    return outcome.get("branch") or DEFAULT


class Simulations:
    """Runs candidates (each spec with explicit arrivals), at most `budget` of them, each at most once."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.count = 0
        self._seen: dict[str, Trace] = {}

    def run(self, spec: RunSpec) -> Trace:
        text = spec.to_json()
        if text in self._seen:
            return self._seen[text]
        if self.count >= self.budget:
            raise BudgetSpent(f"the budget of {self.budget} simulations is spent")
        self.count += 1
        trace = simulate_trace(spec)
        self._seen[text] = trace
        return trace


def simulator_of(spec: RunSpec, components: list[Any]) -> Simulator:
    """The simulator of a one-mitigation spec, as `mockgc simulate` builds it."""
    return Simulator(plan(spec), components=components)


def simulate_trace(spec: RunSpec) -> Trace:
    """Simulate a spec with explicit arrivals and keep the whole trace."""
    recorder = HoldRecorder()
    sim = simulator_of(spec, [recorder])
    sim.include_sessions = True
    result = sim.run()
    outcomes = {o["key"]: o for o in result.pop("session_outcomes", [])}
    result.pop("timeline", None)
    numbers = max(a.session for a in spec.arrivals) + 1
    return Trace(
        spec=spec,
        result=result,
        outcomes=outcomes,
        keys={a.session: session_key(a.session, numbers) for a in spec.arrivals},
        history=sim.history.entries,
        holds=sorted(recorder.holds, key=lambda h: (h.start, h.agent_id)),
        publish_times=list(sim.publish_times),
        start=sim.config.start,
        agents=[(agent_id, sim.platform.agents[agent_id].name) for agent_id in sim.agent_ids()],
        repairs=dict(sim.repairs),
    )


def explicit(spec: RunSpec) -> RunSpec:
    """The same run with its arrivals written out (the ones the seed draws), so sessions can be taken out."""
    if spec.arrivals:
        return spec
    return spec.with_options(arrivals=tuple(simulator_of(spec, []).arrivals()))
