"""Fit a fault profile to a trace: batch size and interval, the hold as a distribution, the kind, the toxicity.

What each parameter is read from (README, "Your own publishes"):

- **the end of a hold** is the agent's status flip (its first status change inside the publish);
- **the start of a hold** lies between the agent's last call the hold did not touch and its first call it
  did (a rejected call, a write delayed to the flip, an acknowledged write later found gone);
- **batches** are the agents whose flips fall at the same instant (a constant hold), or, when holds vary,
  the agents whose start intervals share a point; batch starts then lie on a line whose slope is the interval;
- **a constant hold** lies between every held agent's flip less its first touched call and its flip less its
  last untouched call: the tightest of those bounds are its interval, their middle its value. **A varying
  hold** is each agent's flip less its batch's start on that line: its median and the spread of its
  logarithm (a lognormal);
- **the kind**: `script.session.locked` refusals (reject), writes delayed to the flip with no error (v1),
  `script.session.invalidated` or every write before the flip gone after it (invalidate), writes made during
  the hold gone while older ones stayed (clobber);
- **toxicity**: held agents over the agents seen calling inside their hold.

An `invalidate` hold touches no call before its flip: its start is the publish's start (the trace's
`started`), which also absorbs any start delay. Confidence intervals are 95% bootstrap intervals (seeded:
the same trace gives the same figures) or, for the toxicity, Wilson's.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from mockgc.explore.calibrate.trace import CallEvent, PublishEvent, StatusEvent, Trace
from mockgc.faults import Distribution, FaultProfile, PublishLock, ReplayedPublish

MIN_HELD_AGENTS = 3  # fewer held agents than this cannot show a batch, let alone a distribution
MIN_EVIDENCE = 3  # calls of one kind's signature before that kind is believed
TIE_S = 0.0015  # flips this close are one instant (the platform's times are milliseconds)
V1_EARLY_S = 0.05  # a delayed call was made at least this long before the flip ...
V1_LATE_S = 1.0  # ... and answered no later than this after it
CONSTANT_SIGMA = 0.03  # a hold whose log spread is below this is reported as a constant
BOOTSTRAP = 400  # resamples per confidence interval


class CannotFit(ValueError):
    """The trace cannot support a fit; the message names what is missing (the CLI prints it, exit 2)."""


@dataclass(frozen=True)
class Estimate:
    """A fitted parameter: its value, a 95% interval where one applies, and the evidence it came from."""

    value: float | int | str
    low: float | None
    high: float | None
    evidence: str

    def interval(self) -> str:
        if self.low is None or self.high is None:
            return "-"
        return f"{figure(self.low)} .. {figure(self.high)}"


def figure(value: float | int | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.0f}"


@dataclass
class AgentHold:
    """What one agent's calls and status say of its hold in one publish."""

    agent: str
    end: float | None  # the status flip
    lower: float | None = None  # the hold began after this ...
    upper: float | None = None  # ... and by this
    held: bool | None = None  # faulted (True), seen calling in it unfaulted (False), unseen (None)
    batch: int | None = None
    start: float | None = None  # its batch's fitted start
    exact: bool = True  # its start interval holds one batch start only (else its batch is a guess)


@dataclass
class PublishFit:
    """One publish's batches and holds."""

    publish: PublishEvent
    agents: int
    holds: list[AgentHold]
    batch_sizes: list[int] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)  # each batch's fitted start, by batch index
    interval_s: float | None = None
    constant: bool = False  # the flips of a batch coincide
    batch_lengths: list[float] = field(default_factory=list)  # a constant hold: each batch's flip less its start
    interval_error_s: float = 0.0  # varying holds: the standard error of the batch starts' slope

    def hold_lengths(self) -> list[float]:
        return [h.end - h.start for h in self.holds if h.held and h.exact and h.end is not None and h.start is not None]


@dataclass
class Calibration:
    """The fitted profile's parameters, each with its interval and evidence, and the holds for a replay."""

    batch_size: Estimate
    interval_ms: Estimate
    hold_median_ms: Estimate
    hold_sigma: Estimate
    kind: Estimate
    toxicity: Estimate
    start_delay_ms: Estimate
    scaling: list[dict[str, float | int | str]]
    scaling_note: str
    publishes: list[PublishFit]
    notes: list[str] = field(default_factory=list)

    def parameters(self) -> list[tuple[str, Estimate]]:
        return [
            ("batch_size", self.batch_size),
            ("interval_ms", self.interval_ms),
            ("hold_ms (median)", self.hold_median_ms),
            ("hold_ms (sigma of ln)", self.hold_sigma),
            ("kind", self.kind),
            ("toxicity", self.toxicity),
            ("start_delay_ms", self.start_delay_ms),
        ]

    def publish_lock(self) -> PublishLock:
        median = round(float(self.hold_median_ms.value))
        sigma = float(self.hold_sigma.value)
        hold: int | Distribution = (
            median if sigma < CONSTANT_SIGMA else Distribution("lognormal", float(median), round(sigma, 4))
        )
        v1 = self.kind.value == "v1"
        lock = PublishLock(
            batch_size=int(self.batch_size.value),
            interval_ms=round(float(self.interval_ms.value)),
            hold_ms=hold,
            kind="reject" if v1 else str(self.kind.value),  # type: ignore[arg-type]
            toxicity=round(float(self.toxicity.value), 4),
            platform_version="v1" if v1 else "v2",
            start_delay_ms=round(float(self.start_delay_ms.value)),
        )
        lock.validate()
        return lock

    def profile(self, name: str, description: str = "") -> FaultProfile:
        return FaultProfile(name, description or "Fitted by mockgc calibrate", self.publish_lock())

    def replay(self) -> tuple[ReplayedPublish, ...]:
        """Every fitted publish's holds, as recorded: offsets from the publish's start, lengths, toxic or not
        (an agent never seen inside its hold counts as held when most agents were)."""
        toxic_default = float(self.toxicity.value) >= 0.5
        replayed = []
        for fitted in self.publishes:
            known = [h for h in fitted.holds if h.end is not None and h.start is not None]
            if not known:
                continue
            origin = fitted.publish.started if fitted.publish.started is not None else min(h.start for h in known)  # type: ignore[type-var]
            holds = []
            for h in known:
                # The flip is what was recorded: a start placed before the publish's moves to it, the end stays.
                start = max(h.start, origin)  # type: ignore[type-var]
                holds.append(
                    (
                        round((start - origin) * 1000, 3),
                        round(max(0.0, h.end - start) * 1000, 3),  # type: ignore[operator]
                        toxic_default if h.held is None else h.held,
                    )
                )
            holds.sort()
            replayed.append(ReplayedPublish(tuple(holds)))
        if not replayed:
            raise CannotFit("no hold could be placed in time: the trace has no status flip inside a publish")
        return tuple(replayed)


# -- reading the trace ------------------------------------------------------------------------------------


@dataclass
class _Index:
    """The trace's calls and flips by agent and by session, and each agent's business unit."""

    calls_by_agent: dict[str, list[CallEvent]]
    times_by_agent: dict[str, list[float]]
    calls_by_session: dict[str, list[CallEvent]]
    statuses_by_agent: dict[str, list[StatusEvent]]
    unit_of: dict[str, str]
    members: dict[str, set[str]]
    sizes: dict[str, int]

    @classmethod
    def of(cls, trace: Trace) -> _Index:
        calls_by_agent: dict[str, list[CallEvent]] = defaultdict(list)
        calls_by_session: dict[str, list[CallEvent]] = defaultdict(list)
        statuses: dict[str, list[StatusEvent]] = defaultdict(list)
        unit_of: dict[str, str] = {}
        members: dict[str, set[str]] = defaultdict(set)
        sizes: dict[str, int] = {}
        for org in trace.orgs:
            sizes[org.business_unit] = org.agents
            for member in org.members:
                unit_of[member] = org.business_unit
        for call in trace.calls:
            calls_by_agent[call.agent].append(call)
            if call.session:
                calls_by_session[call.session].append(call)
            if call.business_unit:
                unit_of.setdefault(call.agent, call.business_unit)
        for status in trace.statuses:
            statuses[status.agent].append(status)
            if status.business_unit:
                unit_of.setdefault(status.agent, status.business_unit)
        units = {p.business_unit for p in trace.publishes} | set(sizes)
        if len(units) == 1:  # one business unit: every agent is in it
            (only,) = units
            for agent in set(calls_by_agent) | set(statuses):
                unit_of.setdefault(agent, only)
        for agent, unit in unit_of.items():
            members[unit].add(agent)
        times = {agent: [_moment(c) for c in calls] for agent, calls in calls_by_agent.items()}
        return cls(dict(calls_by_agent), times, dict(calls_by_session), dict(statuses), unit_of, members, sizes)


ARRIVAL_S = 0.05  # at most this long from making a call to the platform seeing it (half a fast round trip)


def _moment(call: CallEvent) -> float:
    """When the platform saw the call: halfway through its round trip where the duration is known, but no later
    than ARRIVAL_S after it was made (a v1 call waits at the platform, its answer comes much later)."""
    return call.at if call.duration_ms is None else call.at + min(call.duration_ms / 2000, ARRIVAL_S)


def _windows(trace: Trace) -> list[tuple[PublishEvent, float, float]]:
    """Each publish with the span its flips may fall in: its start and end, or the neighbours' when unknown."""
    by_unit: dict[str, list[PublishEvent]] = defaultdict(list)
    for publish in trace.publishes:
        by_unit[publish.business_unit].append(publish)
    spans = []
    for publishes in by_unit.values():
        for i, publish in enumerate(publishes):
            before = publishes[i - 1] if i else None
            after = publishes[i + 1] if i + 1 < len(publishes) else None
            low = publish.started
            if low is None:
                low = (before.ended or before.started or -math.inf) if before else -math.inf
            high = publish.ended
            high = (
                (high + TIE_S)
                if high is not None
                else (after.started or after.ended or math.inf)
                if after
                else math.inf
            )
            spans.append((publish, low, high))
    return spans


def _flip(index: _Index, agent: str, low: float, high: float) -> float | None:
    for status in index.statuses_by_agent.get(agent, ()):
        if low <= status.at <= high:
            return status.at
    return None


# -- the kind ---------------------------------------------------------------------------------------------


def _locked(call: CallEvent) -> bool:
    return 400 <= call.status < 500 and (call.error is None or "locked" in call.error)


def _invalidated(call: CallEvent) -> bool:
    return call.error is not None and "invalidated" in call.error


def _delayed(call: CallEvent, flip: float | None) -> bool:
    """v1: made well before the flip and answered at it, with no error."""
    done = call.completed
    return (
        flip is not None
        and done is not None
        and call.status < 400
        and call.at < flip - V1_EARLY_S
        and flip - 0.005 <= done <= flip + V1_LATE_S
    )


def _write_fate(index: _Index, write: CallEvent, flip: float) -> bool | None:
    """An acknowledged write before the flip: still there after it (True), gone (False), never read after (None)."""
    if write.operation != "set" or not write.ok or write.session is None or write.at >= flip:
        return None
    fate = None
    for read in index.calls_by_session.get(write.session, ()):
        if read.operation == "evaluate" and read.at > flip and read.ok and read.at > write.at:
            if read.value == write.value and write.value is not None:
                return True
            fate = False
    return fate


@dataclass
class _Signals:
    locked: int = 0
    invalidated: int = 0
    delayed: int = 0
    lost: int = 0
    kept: int = 0
    mixed_agents: int = 0  # agents with a write kept that was made before one lost: clobber's signature
    lost_agents: int = 0
    calls_inside: int = 0


def _signals(index: _Index, spans: list[tuple[PublishEvent, float, float]]) -> _Signals:
    signals = _Signals()
    for publish, low, high in spans:
        for agent in index.members.get(publish.business_unit, ()):
            flip = _flip(index, agent, low, high)
            calls = index.calls_by_agent.get(agent, ())
            last = flip if flip is not None else high
            fates: list[tuple[float, bool]] = []
            for call in calls:
                if low <= call.at <= last:
                    signals.calls_inside += 1
                    signals.locked += _locked(call)
                    signals.delayed += _delayed(call, flip)
                if _invalidated(call) and low <= call.at <= high + 60:
                    signals.invalidated += 1
                if flip is not None:
                    fate = _write_fate(index, call, flip)
                    if fate is not None and call.at >= low:
                        fates.append((call.at, fate))
            lost = [at for at, kept in fates if not kept]
            signals.lost += len(lost)
            signals.kept += len(fates) - len(lost)
            if lost:
                signals.lost_agents += 1
                if any(kept and at < max(lost) for at, kept in fates):
                    signals.mixed_agents += 1
    return signals


def _kind(signals: _Signals) -> tuple[str, str]:
    """The fault kind and the evidence for it."""
    s = signals
    if s.calls_inside == 0:
        raise CannotFit(
            "no call inside any hold: the trace has no call between a publish's start and an agent's status flip"
        )
    # Lost writes are a clobber's when older writes of the same agents stayed (a quarter of the agents with
    # losses show it at least), else an invalidate's: every write before the flip gone after it.
    clobbered = s.mixed_agents >= max(1, s.lost_agents // 4)
    scores = {
        "reject": s.locked,
        "v1": s.delayed,
        "invalidate": s.invalidated + (0 if clobbered else s.lost),
        "clobber": s.lost if clobbered else 0,
    }
    kind, score = max(scores.items(), key=lambda item: item[1])
    if score < MIN_EVIDENCE:
        raise CannotFit(
            f"too few held agents: no fault seen in {s.calls_inside} calls inside publishes (at least "
            f"{MIN_EVIDENCE} rejected, delayed, invalidated or lost calls needed); a lost write shows only "
            "when the variable is read back after the hold (--handle-time)"
        )
    evidence = {
        "reject": f"{s.locked} calls refused script.session.locked inside holds",
        "v1": f"{s.delayed} calls answered only at their agent's status flip, with no error",
        "invalidate": (
            f"{s.invalidated} script.session.invalidated refusals and {s.lost} acknowledged writes gone after "
            f"the flip, none older kept"
        ),
        "clobber": (
            f"{s.lost} acknowledged writes gone after the flip while older ones stayed "
            f"({s.mixed_agents} agents show both)"
        ),
    }[kind]
    return kind, evidence


# -- each agent's hold -------------------------------------------------------------------------------------


def _bounds(
    index: _Index, kind: str, agent: str, flip: float | None, low: float, high: float
) -> tuple[float | None, float | None, bool]:
    """(after, by, affected): the hold began after the last untouched call and by the first touched one."""
    calls = index.calls_by_agent.get(agent, [])
    last = flip if flip is not None else high
    first_touched: CallEvent | None = None
    if kind == "reject":
        first_touched = next((c for c in calls if low <= c.at <= last and _locked(c)), None)
        untouched = lambda c: c.ok  # noqa: E731
    elif kind == "v1":
        first_touched = next((c for c in calls if low <= c.at <= last and _delayed(c, flip)), None)
        untouched = lambda c: c.ok and not _delayed(c, flip)  # noqa: E731
    elif kind == "clobber" and flip is not None:
        fates = [(c, _write_fate(index, c, flip)) for c in calls if low <= c.at < flip]
        first_touched = next((c for c, fate in fates if fate is False), None)
        untouched = lambda c: _write_fate(index, c, flip) is True  # type: ignore[arg-type]  # noqa: E731
    elif kind == "invalidate" and flip is not None:
        affected = any(_write_fate(index, c, flip) is False for c in calls if low <= c.at < flip) or any(
            _invalidated(c) for c in calls if flip <= c.at <= flip + 60
        )
        return None, None, affected
    if first_touched is None:
        return None, None, False
    by = _moment(first_touched)
    times = index.times_by_agent[agent]
    after = None
    for position in range(bisect.bisect_left(times, by) - 1, -1, -1):
        if untouched(calls[position]):
            after = times[position]
            break
    return after, by, True


def _touched_inside(index: _Index, kind: str, hold: AgentHold, begin: float) -> bool:
    """Was the agent seen untouched inside [begin, end): a call the fault would have shown on?"""
    assert hold.end is not None
    for call in index.calls_by_agent.get(hold.agent, ()):
        # Away from the hold's edges, where a call's own timing blurs which side it fell on.
        if begin + ARRIVAL_S <= _moment(call) < hold.end - V1_EARLY_S:
            if kind in ("reject", "v1") and call.ok and not _delayed(call, hold.end):
                return True
            if kind == "clobber" and _write_fate(index, call, hold.end) is True:
                return True
        if kind == "invalidate" and call.at < hold.end and _write_fate(index, call, hold.end) is True:
            return True
    return False


# -- batches ---------------------------------------------------------------------------------------------


def _tie_groups(holds: list[AgentHold]) -> list[list[AgentHold]] | None:
    """Agents whose flips coincide (a constant hold), when most do; else None."""
    flipped = sorted((h for h in holds if h.end is not None), key=lambda h: h.end)  # type: ignore[arg-type, return-value]
    groups: list[list[AgentHold]] = []
    for hold in flipped:
        if groups and hold.end - groups[-1][-1].end <= TIE_S:  # type: ignore[operator]
            groups[-1].append(hold)
        else:
            groups.append([hold])
    tied = sum(len(g) for g in groups if len(g) > 1)
    return groups if flipped and tied >= 0.6 * len(flipped) else None


def _sweep_groups(holds: list[AgentHold]) -> list[list[AgentHold]]:
    """Held agents whose start intervals share a point, in order: a batch each."""
    placed = sorted((h for h in holds if h.upper is not None), key=lambda h: h.upper)  # type: ignore[arg-type, return-value]
    groups: list[list[AgentHold]] = []
    latest_after, earliest_by = -math.inf, math.inf
    for hold in placed:
        after = hold.lower if hold.lower is not None else -math.inf
        if groups and max(latest_after, after) < min(earliest_by, hold.upper):  # type: ignore[type-var]
            groups[-1].append(hold)
            latest_after, earliest_by = max(latest_after, after), min(earliest_by, hold.upper)  # type: ignore[type-var]
        else:
            groups.append([hold])
            latest_after, earliest_by = after, hold.upper  # type: ignore[assignment]
    return groups


def _group_start(group: list[AgentHold]) -> float | None:
    """The middle of the interval every agent's hold start lies in."""
    bys = [h.upper for h in group if h.upper is not None]
    if not bys:
        return None
    by = min(bys)
    afters = [h.lower for h in group if h.lower is not None and h.lower < by]
    return (max(afters) + by) / 2 if afters else by


def _line(points: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """Least-squares intercept, slope and the slope's standard error, of y on x (slope 0 for one x)."""
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    if len(set(xs.tolist())) < 2:
        return float(ys.mean()), 0.0, 0.0
    slope, intercept = np.polyfit(xs, ys, 1)
    residuals = ys - (intercept + slope * xs)
    spread = float(((xs - xs.mean()) ** 2).sum())
    error = math.sqrt(float((residuals**2).sum()) / (len(xs) - 2) / spread) if len(xs) > 2 else 0.0
    return float(intercept), float(slope), error


def _lattice(holds: list[AgentHold]) -> tuple[float, float, float] | None:
    """The batch starts' line (first start, interval, the interval's standard error).

    The held agents whose start intervals share a point form groups (the sweep); each group's start is the
    middle of that shared interval. A group may join two batches (an agent seen long before its start) and a
    batch may show in no group, so the groups are numbered against the median gap, the line fitted, and
    groups far off the line dropped before fitting again.
    """
    groups = _sweep_groups([h for h in holds if h.held])
    # A group none of whose agents called untouched before is placed at its first touched call, perhaps well
    # after its start (calls that began only then): left out of the line when enough others are bounded.
    bounded = [g for g in groups if any(h.lower is not None for h in g)]
    points = sorted(s for g in (bounded if len(bounded) >= 2 else groups) if (s := _group_start(g)) is not None)
    if len(points) < 2:
        return None
    step = statistics.median(b - a for a, b in pairwise(points))
    if step <= 0:
        return None
    line = (points[0], step, 0.0)
    kept = points
    for _ in range(4):
        first, interval, _error = line
        numbered = [(round((p - first) / interval), p) for p in kept]
        line = _line(numbered)
        if line[1] <= 0:
            return None
        near = [p for k, p in numbered if abs(p - (line[0] + k * line[1])) <= 0.25 * line[1]]
        if len(near) < 2 or len(near) == len(kept):
            break
        kept = near
    # The first batch start is the earliest numbered one.
    first = line[0] + min(round((p - line[0]) / line[1]) for p in kept) * line[1]
    return first, line[1], line[2]


def _assign(holds: list[AgentHold], first: float, interval: float) -> tuple[float, int]:
    """Each held agent to the batch start nearest the middle of its interval (or, with no untouched call before,
    the latest one before its first touched call); the line may reach back before the groups it was fitted on.
    Returns the first batch's start and how many batch starts there are."""
    placed: list[tuple[AgentHold, int]] = []
    for hold in holds:
        if not hold.held or hold.upper is None or interval <= 0:
            continue
        if hold.lower is not None:
            number = round(((hold.lower + hold.upper) / 2 - first) / interval)
            hold.exact = hold.upper - hold.lower < 0.75 * interval  # room for one batch start only
        else:
            number = math.floor((hold.upper - first) / interval + 0.25)
            hold.exact = False
        placed.append((hold, number))
    if not placed:
        return first, 0
    lowest = min(number for _, number in placed)
    for hold, number in placed:
        hold.batch = number - lowest
    return first + lowest * interval, max(number for _, number in placed) - lowest + 1


# -- the fit -----------------------------------------------------------------------------------------------


def fit(trace: Trace, *, seed: int = 0) -> Calibration:
    """Fit a profile to the trace; CannotFit (one line naming what is missing) when it cannot support one."""
    trace = trace.sorted()
    if not trace.publishes:
        raise CannotFit("no publish in the trace: a trace needs at least one publish event")
    index = _Index.of(trace)
    spans = _windows(trace)
    if not any(index.members.get(p.business_unit) for p, _, _ in spans):
        raise CannotFit("no agent of a publishing business unit in the trace: no status change or call")
    kind, kind_evidence = _kind(_signals(index, spans))
    fits = [_fit_publish(index, kind, publish, low, high) for publish, low, high in spans]
    held = sum(1 for f in fits for h in f.holds if h.held)
    if held < MIN_HELD_AGENTS:
        raise CannotFit(f"too few held agents: {held} (at least {MIN_HELD_AGENTS} needed to fit a publish)")
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    batch = _batch_estimate(fits)
    interval = _interval_estimate(fits, rng)
    if kind == "invalidate":
        _invalidate_starts(fits, float(interval.value) / 1000)
        notes.append("invalidate: a hold touches no call before its flip, so it is timed from the publish's start")
    hold_median, hold_sigma = _hold_estimates(fits, rng, kind)
    if kind != "invalidate":
        _constant_starts(fits, float(hold_median.value) / 1000)
    toxicity = _toxicity(index, kind, fits, float(hold_median.value) / 1000)
    start_delay = _start_delay(fits, kind)
    scaling, scaling_note = _scaling(fits)
    kind_estimate = Estimate(kind, None, None, kind_evidence)
    return Calibration(
        batch,
        interval,
        hold_median,
        hold_sigma,
        kind_estimate,
        toxicity,
        start_delay,
        scaling,
        scaling_note,
        fits,
        notes,
    )


def _fit_publish(index: _Index, kind: str, publish: PublishEvent, low: float, high: float) -> PublishFit:
    agents = sorted(index.members.get(publish.business_unit, ()))
    holds = []
    for agent in agents:
        flip = _flip(index, agent, low, high)
        after, by, affected = _bounds(index, kind, agent, flip, low, high)
        holds.append(AgentHold(agent, flip, after, by, True if affected else None))
    size = index.sizes.get(publish.business_unit) or len(agents)
    fitted = PublishFit(publish, size, holds)
    ties = _tie_groups(holds)
    if ties is not None:
        fitted.constant = True
        ends = [g[0].end for g in ties]
        gaps = [b - a for a, b in pairwise(ends)]  # type: ignore[operator]
        fitted.interval_s = statistics.median(gaps) if gaps else None
        fitted.batch_sizes = [len(g) for g in ties]
        for number, group in enumerate(ties):
            for hold in group:
                hold.batch = number
        if kind != "invalidate":
            fitted.batch_lengths = [
                g[0].end - start  # type: ignore[operator]
                for g in ties
                if (start := _group_start(g)) is not None
            ]
            if fitted.batch_lengths:
                # A constant hold: every batch's flip less its start is the same length, so the starts are
                # the flips less the median of those lengths.
                length = statistics.median(fitted.batch_lengths)
                fitted.starts = [g[0].end - length for g in ties]  # type: ignore[operator]
    elif kind != "invalidate":
        line = _lattice(holds)
        if line is not None:
            first, interval, error = line
            first, count = _assign(holds, first, interval)
            fitted.interval_s, fitted.interval_error_s = interval, error
            fitted.starts = [first + number * interval for number in range(count)]
            fitted.batch_sizes = [sum(1 for h in holds if h.batch == number) for number in range(count)]
    for hold in holds:
        if hold.batch is not None and hold.batch < len(fitted.starts):
            hold.start = fitted.starts[hold.batch]
    return fitted


def _constant_starts(fits: list[PublishFit], hold_s: float) -> None:
    """A constant hold's batches start that long before their flip."""
    for fitted in fits:
        if not fitted.constant:
            continue
        ends = {h.batch: h.end for h in fitted.holds if h.batch is not None and h.end is not None}
        fitted.starts = [ends[number] - hold_s for number in sorted(ends)]  # type: ignore[operator]
        for hold in fitted.holds:
            if hold.batch is not None:
                hold.start = fitted.starts[hold.batch]


def _invalidate_starts(fits: list[PublishFit], interval_s: float) -> None:
    for fitted in fits:
        if not fitted.constant:
            raise CannotFit(
                "an invalidate publish whose holds vary: its batches cannot be told apart from the status flips alone"
            )
        started = fitted.publish.started
        if started is None:
            raise CannotFit(
                "the publish's start: an invalidate hold touches no call before its flip, so the trace needs "
                "each publish's started time"
            )
        ends: dict[int, float] = {h.batch: h.end for h in fitted.holds if h.batch is not None and h.end is not None}
        count = 1 + max(ends, default=0)
        fitted.starts = [started + number * interval_s for number in range(count)]
        fitted.batch_lengths = [end - fitted.starts[number] for number, end in sorted(ends.items())]
        for hold in fitted.holds:
            if hold.batch is not None:
                hold.start = fitted.starts[hold.batch]


def _bootstrap(values: Sequence[float], statistic: str, rng: np.random.Generator) -> tuple[float, float]:
    data = np.asarray(values, dtype=float)
    if len(data) < 2:
        return float(data[0]), float(data[0])
    samples = data[rng.integers(0, len(data), size=(BOOTSTRAP, len(data)))]
    # The median, or the spread (standard deviation) of the logarithm.
    figures = np.median(samples, axis=1) if statistic == "median" else np.std(np.log(samples), axis=1, ddof=1)
    low, high = np.percentile(figures, [2.5, 97.5])
    return float(low), float(high)


def _batch_estimate(fits: list[PublishFit]) -> Estimate:
    sizes: Counter[int] = Counter()
    candidates: list[int] = []
    for fitted in fits:
        full = fitted.batch_sizes[:-1] if len(fitted.batch_sizes) > 1 else fitted.batch_sizes
        if fitted.constant:
            sizes.update(full)
            candidates.extend(full)
        elif full:
            # Varying holds show only the held agents of a batch: the batch count and the org's size say more.
            sizes.update(size for size in full if size)
            count, seen = len(fitted.batch_sizes), int(statistics.median(full))
            fitting = [b for b in range(1, fitted.agents + 1) if math.ceil(fitted.agents / b) == count]
            candidates.append(min(fitting, key=lambda b: (abs(b - seen), -b)) if fitting else seen)
    if not candidates or not sizes:
        raise CannotFit("no batch: no two agents' holds could be placed in one publish")
    value = Counter(candidates).most_common(1)[0][0]
    low, high = min(sizes), max(sizes)
    shown = ", ".join(f"{size} x{count}" for size, count in sorted(sizes.items(), reverse=True)[:6])
    how = (
        "flips at one instant"
        if all(f.constant for f in fits)
        else "held agents per batch start, with the batch count and the org's size"
    )
    return Estimate(value, low, high, f"{sum(sizes.values())} batches by {how} (sizes {shown})")


def _interval_estimate(fits: list[PublishFit], rng: np.random.Generator) -> Estimate:
    gaps: list[float] = []
    slopes: list[tuple[float, float, int]] = []
    for fitted in fits:
        if fitted.constant:
            ends = sorted({round(h.end, 4) for h in fitted.holds if h.end is not None})
            groups = [ends[0]] if ends else []
            for end in ends[1:]:
                if end - groups[-1] > TIE_S:
                    groups.append(end)
            gaps.extend(b - a for a, b in pairwise(groups))
        elif len(fitted.starts) > 1 and fitted.interval_s:
            slopes.append((fitted.interval_s, fitted.interval_error_s, len(fitted.starts)))
    if gaps:
        gaps_ms = [g * 1000 for g in gaps]
        low, high = _bootstrap(gaps_ms, "median", rng)
        return Estimate(statistics.median(gaps_ms), low, high, f"{len(gaps_ms)} gaps between consecutive flips")
    if not slopes:
        raise CannotFit("no interval: every publish showed a single batch (the interval needs two)")
    # Each publish's batch starts on a line: weigh each slope by its batches.
    weight = sum(n for _, _, n in slopes)
    value = sum(slope * n for slope, _, n in slopes) / weight * 1000
    error = math.sqrt(sum((e * n) ** 2 for _, e, n in slopes)) / weight * 1000
    return Estimate(
        value,
        value - 1.96 * error,
        value + 1.96 * error,
        f"the slope of {sum(n for _, _, n in slopes)} batch starts over {len(slopes)} publishes",
    )


def _hold_estimates(fits: list[PublishFit], rng: np.random.Generator, kind: str) -> tuple[Estimate, Estimate]:
    lengths_ms = [length * 1000 for fitted in fits for length in fitted.hold_lengths() if length > 0]
    if not lengths_ms:
        raise CannotFit("no hold could be timed: no held agent has both a start and a status flip")
    constant = all(f.constant for f in fits)
    if constant:
        # One length per batch, from its own start: its agents share it.
        lengths_ms = [length * 1000 for f in fits for length in f.batch_lengths if length > 0]
    bounds = _constant_bounds(fits) if constant and kind != "invalidate" else None
    if bounds is not None:
        low, high = bounds[0] * 1000, bounds[1] * 1000
        count = sum(1 for f in fits for h in f.holds if h.held and h.end is not None and h.upper is not None)
        return (
            Estimate(
                (low + high) / 2,
                low,
                high,
                f"{count} held agents: each flip less its first touched call (at least) and its last untouched "
                "call (at most), the tightest of them",
            ),
            Estimate(0.0, None, None, "the flips of each batch coincide: a constant hold"),
        )
    median = statistics.median(lengths_ms)
    low, high = _bootstrap(lengths_ms, "median", rng)
    source = (
        "the publish's start to each batch's status flip"
        if kind == "invalidate"
        else "each batch's start (its agents' last untouched and first touched calls) to the status flip"
    )
    median_estimate = Estimate(median, low, high, f"{len(lengths_ms)} {'batches' if constant else 'agents'}: {source}")
    if constant or len(lengths_ms) < 3:
        return median_estimate, Estimate(0.0, None, None, "the flips of each batch coincide: a constant hold")
    sigma = float(np.std(np.log(lengths_ms), ddof=1))
    slow, shigh = _bootstrap(lengths_ms, "sigma", rng)
    return median_estimate, Estimate(sigma, slow, shigh, f"the spread of {len(lengths_ms)} agents' holds (lognormal)")


def _constant_bounds(fits: list[PublishFit]) -> tuple[float, float] | None:
    """A constant hold lies between every held agent's flip less its first touched call and its flip less its
    last untouched call: the tightest of those bounds (past the outermost 5% of them, against a stray call)."""
    held = [h for f in fits for h in f.holds if h.held and h.end is not None and h.upper is not None]
    at_least = sorted(h.end - h.upper for h in held)  # type: ignore[operator]
    at_most = sorted(h.end - h.lower for h in held if h.lower is not None)  # type: ignore[operator]
    if not at_least or not at_most:
        return None
    low = at_least[math.ceil(0.95 * (len(at_least) - 1))]
    high = at_most[math.floor(0.05 * (len(at_most) - 1))]
    return (low, high) if low <= high else None


def _toxicity(index: _Index, kind: str, fits: list[PublishFit], hold_s: float) -> Estimate:
    held = seen = 0
    for fitted in fits:
        for hold in fitted.holds:
            if hold.held:
                held += 1
                seen += 1
            elif hold.end is not None:
                begin = hold.start if hold.start is not None else hold.end - hold_s
                if _touched_inside(index, kind, hold, begin):
                    hold.held = False
                    seen += 1
    share = held / seen if seen else 0.0
    low, high = _wilson(held, seen)
    return Estimate(share, low, high, f"{held} of {seen} agents seen calling inside their hold were held")


def _wilson(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    if total == 0:
        return 0.0, 1.0
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (0.0 if hits == 0 else max(0.0, centre - half)), (1.0 if hits == total else min(1.0, centre + half))


def _start_delay(fits: list[PublishFit], kind: str) -> Estimate:
    if kind == "invalidate":
        return Estimate(0, None, None, "not separable from the hold under invalidate: counted in the hold")
    delays = [(f.starts[0] - f.publish.started) * 1000 for f in fits if f.starts and f.publish.started is not None]
    if not delays:
        return Estimate(0, None, None, "no publish start in the trace: assumed 0")
    value = max(0.0, statistics.median(delays))
    return Estimate(
        value, max(0.0, min(delays)), max(0.0, max(delays)), f"{len(delays)} publishes' first batch after their start"
    )


def _scaling(fits: list[PublishFit]) -> tuple[list[dict[str, float | int | str]], str]:
    rows: list[dict[str, float | int | str]] = []
    for fitted in fits:
        lengths = fitted.hold_lengths()
        sizes = fitted.batch_sizes[:-1] if len(fitted.batch_sizes) > 1 else fitted.batch_sizes
        rows.append(
            {
                "businessUnit": fitted.publish.business_unit,
                "operation": fitted.publish.operation,
                "agents": fitted.agents,
                "batch_size": max(sizes) if sizes else 0,
                "batches": len(fitted.batch_sizes),
                "hold_median_ms": round(statistics.median(lengths) * 1000) if lengths else 0,
                "interval_ms": round(fitted.interval_s * 1000) if fitted.interval_s else 0,
                "publish_ms": round(
                    (max(h.end for h in fitted.holds if h.end is not None) - fitted.starts[0]) * 1000  # type: ignore[type-var]
                )
                if fitted.starts and any(h.end is not None for h in fitted.holds)
                else 0,
            }
        )
    counts = {row["agents"] for row in rows}
    if len(counts) < 2:
        return rows, "one org size in the trace: how a publish scales with the org cannot be seen"
    timed = [row for row in rows if row["hold_median_ms"]]
    hold_line = _line([(float(r["agents"]), float(r["hold_median_ms"])) for r in timed]) if len(timed) > 1 else None
    batch_line = _line([(float(r["agents"]), float(r["batch_size"])) for r in rows])
    parts = [f"{len(rows)} publishes over {len(counts)} org sizes ({min(counts)}-{max(counts)} agents)"]
    if hold_line:
        parts.append(f"hold {hold_line[1]:+.2f} ms per agent")
    parts.append(f"batch {batch_line[1]:+.3f} agents per agent")
    return rows, "; ".join(parts)
