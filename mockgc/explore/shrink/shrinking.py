"""The shrink itself: a failing spec cut down, one dimension after the other, keeping the failure's class.

Each step proposes smaller candidates and keeps one only when a simulation shows a session failing
exactly as before (the checker's class, and an outcome gap stays one): the sessions (the failing ones
alone first, else delta debugging over all), the publishes (each session moved to the first publish,
at the same offset into its agent's hold), the agents (each session moved to the first agents, at the
same offset into their holds, which also leaves one batch), and each arrival's time (rounded). Every
step is deterministic, so the same input gives the same repro.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from mockgc.explore.shrink.ddmin import ddmin
from mockgc.explore.shrink.probe import BudgetSpent, Failure, Simulations, Trace, counted, explicit
from mockgc.faults import PublishLock, get_profile
from mockgc.platform.domain.publish_lock import Hold
from mockgc.spec.arrivals import Arrival
from mockgc.spec.runspec import RunSpec

DEFAULT_BUDGET = 400
# What a simulation with explicit arrivals never reads: the live load, its store, and the gate.
LIVE_FIELDS = (
    "users", "spawn_rate", "duration", "think_time", "drain_timeout", "workers", "remote_workers", "store", "expect",
    "thresholds",
)  # fmt: skip
SINGLE_TRIES = 5  # failing sessions tried alone before delta debugging over all of them


class DoesNotFail(ValueError):
    """The input fails nowhere: there is nothing to shrink (exit 1)."""


@dataclass(frozen=True)
class Size:
    """How big a scenario is, in the dimensions a shrink reduces."""

    sessions: int
    agents: int
    publishes: int
    batches: int

    @classmethod
    def of(cls, spec: RunSpec) -> Size:
        lock = _lock(spec)
        batches = -(-spec.agents // lock.batch_size)
        return cls(spec.sessions, spec.agents, spec.simulated_publishes(), batches)

    def __str__(self) -> str:
        return (
            f"{counted(self.sessions, 'session')}, {counted(self.agents, 'agent')}, "
            f"{counted(self.publishes, 'publish', 'publishes')} ({counted(self.batches, 'batch', 'batches')} each)"
        )


@dataclass
class Shrunk:
    """What a shrink found: the repro, its trace, the failing session to tell, and what it took."""

    original: RunSpec
    repro: RunSpec
    failure: Failure
    trace: Trace
    session: int  # the repro's session whose story is told
    simulations: int
    seconds: float
    budget_spent: bool = False
    steps: list[str] = field(default_factory=list)

    @property
    def before(self) -> Size:
        return Size.of(self.original)

    @property
    def after(self) -> Size:
        return Size.of(self.repro)


def _lock(spec: RunSpec) -> PublishLock:
    return get_profile(spec.profile).publish


def with_arrivals(spec: RunSpec, arrivals: Iterable[Arrival], **changes: object) -> RunSpec:
    chosen = tuple(arrivals)
    return spec.with_options(arrivals=chosen, sessions=len(chosen), **changes)


class _Shrinker:
    def __init__(self, sims: Simulations, failure: Failure, spec: RunSpec, trace: Trace) -> None:
        self.sims = sims
        self.failure = failure
        self.spec, self.trace = spec, trace
        self.steps: list[str] = []

    def fails(self, candidate: RunSpec) -> bool:
        """Does the candidate fail as the input did? Keeps it (and its trace) when it does."""
        trace = self.sims.run(candidate)
        if not trace.failing(self.failure):
            return False
        self.spec, self.trace = candidate, trace
        return True

    def first(self, candidates: Iterable[RunSpec]) -> bool:
        return any(self.fails(c) for c in candidates if c != self.spec)

    # -- the sessions ---------------------------------------------------------------------------

    def sessions(self) -> None:
        before = self.spec.sessions
        by_number = {a.session: a for a in self.spec.arrivals}
        alone = self.trace.failing(self.failure)[:SINGLE_TRIES]
        if not self.first(with_arrivals(self.spec, [by_number[n]]) for n in alone):
            start = self.spec

            def fails(kept: list[Arrival]) -> bool:
                return self.fails(with_arrivals(start, kept))

            # Every candidate that fails is kept as it is found: ddmin's last is its answer.
            ddmin(start.arrivals, fails)
        self.steps.append(f"sessions: {before} -> {self.spec.sessions}")

    # -- the publishes ------------------------------------------------------------------------------

    def _hold_of(self, arrival: Arrival) -> Hold | None:
        """The first hold (of any publish) on this session's agent that met its calls, if one did."""
        return next(iter(self.trace.holds_of(arrival.session)), None)

    def publishes(self) -> None:
        before = self.spec.simulated_publishes()
        if before > 1:
            times = self.trace.publish_times
            moved, latest = [], 0
            for arrival in self.spec.arrivals:
                hold = self._hold_of(arrival)
                k = self.trace.operations.index(hold.operation_id) if hold is not None else 0
                latest = max(latest, k)
                moved.append(arrival._replace(at=max(0.0, arrival.at - (times[k] - times[0]))))
            self.first(
                [
                    with_arrivals(self.spec, moved, publishes=1, publish_at=()),
                    with_arrivals(self.spec, self.spec.arrivals, publishes=latest + 1, publish_at=()),
                ]
            )
        self.steps.append(f"publishes: {before} -> {self.spec.simulated_publishes()}")

    # -- the agents (and so the batches) -------------------------------------------------------------

    def _offset(self, agent: int, operation_id: str) -> float | None:
        agent_id = self.trace.agents[agent][0]
        for hold in self.trace.holds:
            if hold.agent_id == agent_id and hold.operation_id == operation_id:
                return hold.start
        return None

    def _moved_to(self, target: Callable[[Arrival], int], *, shifted: bool) -> RunSpec | None:
        """Each session on agent `target(arrival)` of an org of just those agents; `shifted`: at the time that
        meets the new agent's hold as the session met its own (None when the new agent had no such hold)."""
        moved = []
        for arrival in self.spec.arrivals:
            new = target(arrival)
            hold = self._hold_of(arrival) if shifted else None
            shift = 0.0
            if hold is not None:
                there = self._offset(new, hold.operation_id)
                if there is None:
                    return None
                shift = there - hold.start
            moved.append(arrival._replace(agent=new, at=max(0.0, arrival.at + shift)))
        return with_arrivals(self.spec, moved, agents=max(a.agent for a in moved) + 1)

    def agents(self) -> None:
        before, batches = self.spec.agents, Size.of(self.spec).batches
        renumbered = {agent: n for n, agent in enumerate(dict.fromkeys(a.agent for a in self.spec.arrivals))}
        candidates = [
            self._moved_to(target, shifted=shifted)
            for target in (lambda a: 0, lambda a: renumbered[a.agent])
            for shifted in (True, False)
        ]
        used = max(a.agent for a in self.spec.arrivals) + 1
        candidates.append(self.spec.with_options(agents=used))
        self.first(c for c in candidates if c is not None)
        self.steps.append(f"agents: {before} -> {self.spec.agents}")
        self.steps.append(f"batches per publish: {batches} -> {Size.of(self.spec).batches}")

    # -- each arrival's time --------------------------------------------------------------------------

    def arrival_times(self) -> None:
        for number in [a.session for a in self.spec.arrivals]:
            for digits in (0, 1, 2):
                arrivals = self.spec.arrivals
                index = next(i for i, a in enumerate(arrivals) if a.session == number)
                rounded = round(arrivals[index].at, digits)
                if rounded == arrivals[index].at:
                    break
                changed = (*arrivals[:index], arrivals[index]._replace(at=rounded), *arrivals[index + 1 :])
                if self.fails(with_arrivals(self.spec, changed)):
                    break
        self.steps.append("arrival times: " + ", ".join(f"{a.at:g} s" for a in self.spec.arrivals))

    def live_fields(self) -> None:
        """Think time and the other live-load fields do nothing in a simulation with explicit arrivals (and
        a gate would only repeat the verdict): the repro leaves them at their defaults."""
        defaults = RunSpec()
        kept = replace(self.spec, **{name: getattr(defaults, name) for name in LIVE_FIELDS})
        think_time = self.spec.think_time
        if kept != self.spec and self.fails(kept):
            self.steps.append(f"think time {think_time:g} s, users, duration and the gate: left out (live only)")


def shrink(
    spec: RunSpec,
    *,
    budget: int = DEFAULT_BUDGET,
    failure: Failure | None = None,
    sims: Simulations | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Shrunk:
    """The smallest spec found that still fails as `spec` does (or as `failure` says), in at most `budget`
    simulations (or those `sims` has left); DoesNotFail when `spec` serves every customer."""
    began = time.perf_counter()
    sims = sims or Simulations(budget)
    budget = sims.budget
    original = explicit(spec.with_options(publishes=spec.simulated_publishes(), publish_at=()))
    trace = sims.run(original)
    first = trace.first_failure()
    if first is None:
        sessions = trace.result["sessions"]
        raise DoesNotFail(
            f"{spec.mitigation} holds on {spec.profile} (seed {spec.seed}): {sessions['ok']} of "
            f"{sessions['total']} sessions ok, none failed: nothing to shrink"
        )
    if failure is None:
        failure = first[1]
    elif not trace.failing(failure):
        raise DoesNotFail(f"no session of the input failed as {failure}: nothing to shrink")
    shrinker = _Shrinker(sims, failure, original, trace)
    spent = False
    told = 0
    for step in (shrinker.sessions, shrinker.publishes, shrinker.agents, shrinker.arrival_times, shrinker.live_fields):
        try:
            step()
        except BudgetSpent:
            spent = True
            shrinker.steps.append(f"stopped: the budget of {budget} simulations is spent")
        for line in shrinker.steps[told:] if on_step else ():
            on_step(line)
        told = len(shrinker.steps)
        if spent:
            break
    return Shrunk(
        original=original,
        repro=shrinker.spec,
        failure=failure,
        trace=shrinker.trace,
        session=shrinker.trace.failing(failure)[0],
        simulations=sims.count,
        seconds=time.perf_counter() - began,
        budget_spent=spent,
        steps=shrinker.steps,
    )
