"""The virtual-time driver: many script flows against the in-process platform, deterministically, then checked."""

from __future__ import annotations

import gc
import heapq
import random
from collections.abc import Callable, Generator, Iterable
from itertools import count
from time import perf_counter
from typing import Any, NoReturn

from mockgc.checker.check import check, latency_summary
from mockgc.clock import VirtualClock
from mockgc.drivers.core import answer, request_of
from mockgc.drivers.inprocess import InProcessTransport
from mockgc.drivers.stepwatch import StepOverrun, StepWatch
from mockgc.faults import FaultProfile
from mockgc.flows.context import FlowContext
from mockgc.flows.effects import Call, Effect, FlowResult, Now, Reply, Sleep, StoreGet, StorePut
from mockgc.flows.history import History
from mockgc.flows.script import interaction
from mockgc.platform.domain.backend import Platform
from mockgc.platform.settings import OrgSettings
from mockgc.spec.arrivals import Arrival, drawn_arrivals, session_key
from mockgc.spec.plan import Plan
from mockgc.spec.runspec import ALL, RunSpec
from mockgc.spec.simconfig import MAX_RUN_SECONDS
from mockgc.stores import MemoryStore, Store, StoreError

# Event kinds, in the heap as (time, sequence, kind, a, b); the sequence keeps ties first-in first-out.
_START, _WAKE, _APPLY, _DELIVER, _CALLBACK = range(5)


class LiveOnly(ValueError):
    """The strategy calls an outside process (the user's service or worker), which has no virtual time."""


class SimulationError(RuntimeError):
    """The run itself broke (a flow raised, yielded something that is not an effect, or never ended)."""


class _Task:
    """One generator the event loop runs: a session's flow, or a component's job (the async worker's).

    A flow is bounded (its effects and virtual time count against the runaway bounds) and records
    under its session key; a job records under key None, with `params_of`/`reply_of` choosing what
    of its requests and replies the history keeps. `latency(task)` gives each call's round trip.
    """

    __slots__ = ("arrival", "bounded", "calls", "gen", "key", "latency", "on_done", "params_of", "process", "reply_of",
                 "steps", "stream")  # fmt: skip

    def __init__(
        self,
        gen: Generator[Effect, Any, Any],
        *,
        key: str | None,
        process: str,
        arrival: float,
        latency: Callable[[_Task], float],
        on_done: Callable[[_Task, Any, float], None],
        bounded: bool,
        stream: int = 0,
        params_of: Callable[[Call], dict[str, Any]] | None = None,
        reply_of: Callable[[Reply], Reply] | None = None,
    ) -> None:
        self.gen = gen
        self.key = key
        self.process = process
        self.arrival = arrival
        self.latency = latency
        self.on_done = on_done
        self.bounded = bounded
        self.stream = stream
        self.params_of = params_of
        self.reply_of = reply_of
        self.calls = 0
        self.steps = 0


class _SimClock(VirtualClock):
    """A VirtualClock for one thread: the event loop moves it ~10^5 times a run, so no Condition."""

    def set(self, when: float) -> float:
        if when < self._now:
            raise ValueError("a virtual clock cannot move backwards")
        self._now = float(when)
        return self._now

    def advance(self, seconds: float) -> float:
        return self.set(self._now + seconds) if seconds >= 0 else super().advance(seconds)

    def wait_until(self, deadline: float, real_timeout: float = 30.0) -> None:
        # Nothing else runs to move the time on: waiting would only ever time out.
        if deadline > self._now:
            raise SimulationError("a simulated component blocked on the clock; use Reply.ready_at or sim.schedule")


_MASK = (1 << 64) - 1


def _unit(x: int) -> float:
    """splitmix64 of x, as a float in [0, 1): a seeded stream indexed by (session, call) without a Random each."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return ((x ^ (x >> 31)) >> 11) * (1.0 / (1 << 53))


class Simulator:
    """A discrete-event loop over flow generators in virtual time.

    Extension points for components (objects with `install(sim)`, installed before the run; a
    strategy's own come from its companion in mockgc/strategies/registry.py): `platform`, `clock`,
    `transport` (register extra ops), `schedule(at, callback)`, `spawn(job, ...)` (a generator of
    effects run on the same loop as the flows), `store`, `repairs` (sessionId -> virtual time a
    repair made it durable), and `extra` (merged into the result). `publish_times` lists when the
    publishes will start. `arrivals` (the spec's explicit arrivals) replace the ones drawn from the seed;
    `include_sessions` (set before `run`) adds the checker's `session_outcomes` to the result.
    """

    process = "sim"
    include_sessions = False

    def __init__(
        self,
        plan: Plan,
        *,
        components: Iterable[Any] = (),
        store: Store | None = None,
        profile: FaultProfile | None = None,
    ) -> None:
        """The plan's run: its strategy, spec (profile, sessions, seed, agents, publishes) and simulator config;
        `components` (a test's own) are installed before the strategy's simulated companion; `profile` replaces
        the spec's (one no spec names, such as tune's stretched profile)."""
        reason = plan.strategy.live_only()
        if reason:
            raise LiveOnly(f"{plan.label} cannot be simulated: {reason}; run it live with `mockgc run`")
        spec, self.plan = plan.spec, plan
        self.mitigation = plan.strategy
        self.label = plan.label
        self.profile = profile or spec.fault_profile()
        self.sessions, self.seed, self.agents = spec.sessions, spec.seed, spec.agents
        self.publishes = spec.simulated_publishes()
        self.explicit_arrivals = spec.arrivals
        self.config = plan.sim

        self.clock: VirtualClock = _SimClock(self.config.start)
        self.settings = OrgSettings(
            seed=self.seed, agents=self.agents, profile=self.profile.name, rate_limit_per_minute=0
        )
        self.platform = Platform(self.settings, self.profile, self.clock)
        self.transport = InProcessTransport(self.platform)
        self.store: Store = store if store is not None else MemoryStore()
        self.history = History()
        self.repairs: dict[str, float] = {}
        self.extra: dict[str, Any] = {}
        self.results: list[FlowResult] = []
        self.publish_times = [
            self.config.start + self.config.first_publish_s + k * self.config.publish_every_s
            for k in range(self.publishes)
        ]
        self._queue: list[tuple[float, int, int, Any, Any]] = []
        self._order = count()
        self._durations: list[float] = []
        self._ran = False
        self._steps_budget = max(self.config.max_flow_steps, self.sessions * self.config.max_mean_flow_steps)
        self._steps_left = self._steps_budget
        self._watch = StepWatch(self.config.max_step_wall_seconds)
        self._base_s = self.config.latency_base_ms / 1000.0
        self._jitter_s = self.config.latency_jitter_ms / 1000.0

        simulated = plan.companion.simulated
        self.components = [*components, *(simulated(plan.strategy) if simulated else [])]
        for component in self.components:
            component.install(self)

    # -- the extension point ---------------------------------------------------

    def schedule(self, at: float, callback: Callable[[float], None]) -> None:
        """Run `callback(at)` at virtual time `at` (not before now), in order with everything else."""
        if at < self.clock.now():
            raise ValueError(f"cannot schedule at {at}, before now ({self.clock.now()})")
        heapq.heappush(self._queue, (at, next(self._order), _CALLBACK, callback, None))

    def spawn(
        self,
        job: Generator[Effect, Any, Any],
        *,
        process: str,
        latency: Callable[[], float],
        on_done: Callable[[Any], None],
        params_of: Callable[[Call], dict[str, Any]] | None = None,
        reply_of: Callable[[Reply], Reply] | None = None,
    ) -> None:
        """Run a component's job now, on the same loop as the flows: its calls take `latency()` seconds
        and are recorded under `process` with key None (cost, never a session); `on_done(result)` at its end."""
        task = _Task(
            job,
            key=None,
            process=process,
            arrival=self.clock.now(),
            latency=lambda _task: latency(),
            on_done=lambda _task, result, _now: on_done(result),
            bounded=False,
            params_of=params_of,
            reply_of=reply_of,
        )
        self._step(task, None, self.clock.now())

    # -- the run ----------------------------------------------------------------

    def agent_ids(self) -> list[str]:
        """The business unit's agents, in the org's order: an arrival's `agent` numbers them."""
        bu_id = next(iter(self.platform.business_units))
        return [agent.id for agent in self.platform.users.members(bu_id)]

    def arrivals(self) -> list[Arrival]:
        """The sessions this run starts, in time order: the explicit arrivals, else the ones the seed draws."""
        if self.explicit_arrivals:
            return list(self.explicit_arrivals)
        span = self.config.span(self.publishes)
        return drawn_arrivals(self.seed, self.sessions, span, len(self.agent_ids()), self.config.start)

    def _plan(self) -> None:
        bu_id = next(iter(self.platform.business_units))
        for at in self.publish_times:
            self.schedule(at, lambda _at, bu=bu_id: self.platform.publish_schedule(bu))
        start, arrivals = self.config.start, self.arrivals()
        agent_ids = self.agent_ids()
        numbers = max(a.session for a in arrivals) + 1
        streams = random.Random(f"latency:{self.seed}").getrandbits(64)
        push, order, queue = heapq.heappush, self._order, self._queue
        for arrival in arrivals:
            index, at = arrival.session, start + arrival.at
            key = session_key(index, numbers)
            ctx = FlowContext(key, agent_ids[arrival.agent], bu_id, self.seed, self.process)
            # Each session draws its call latencies from its own stream, so a session meets the
            # same network whichever mitigation runs and however the others interleave.
            state = _Task(
                interaction(
                    ctx,
                    self.mitigation,
                    log_attributes=self.config.log_attributes,
                    handle_time_s=self.config.handle_time_s,
                ),
                key=key,
                process=self.process,
                arrival=at,
                latency=self._latency,
                on_done=self._finished,
                bounded=True,
                stream=streams ^ (index << 24),
            )
            push(queue, (at, next(order), _START, state, None))

    def run(self) -> dict[str, Any]:
        """Run every flow to its end, settle the platform, and return the checker's result."""
        if self._ran:
            raise SimulationError("a Simulator runs once; build a new one")
        self._ran = True
        # The run allocates millions of short-lived objects that reference counting frees, and keeps a growing
        # history the cycle collector would walk again and again for nothing: a quarter of the time, paused.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if collecting:
                gc.enable()

    def _run(self) -> dict[str, Any]:
        self._plan()
        with self._watch:
            try:
                self._loop()
            except StepOverrun:  # raised just as a step ended: it still ran past its bound
                raise SimulationError(
                    f"runaway flow: {self.label}: a step ran past {self.config.max_step_wall_seconds:g} s "
                    "of wall-clock time without yielding an effect"
                ) from None
        return self._finish()

    def _loop(self) -> None:
        queue, clock, pop = self._queue, self.clock, heapq.heappop
        limit = self.config.start + self.config.span(self.publishes) + MAX_RUN_SECONDS
        step, apply, history = self._step, self._apply, self.history
        current = clock.now()
        while queue:
            at, _, kind, a, b = pop(queue)
            if at > current:
                if at > limit:
                    raise SimulationError(
                        f"the run passed {MAX_RUN_SECONDS / 86_400:g} virtual days; a flow never ends"
                    )
                current = clock.set(at)
            if kind == _DELIVER:
                f, reply = b
                history.complete(a.process, a.key, f, reply if a.reply_of is None else a.reply_of(reply), at)
                step(a, reply, at)
            elif kind == _APPLY:
                apply(a, b, at)
            elif kind == _CALLBACK:
                a(at)
                current = clock.now()  # in case a component moved the clock on
            else:  # _START, _WAKE
                step(a, None, at)

    def _latency(self, state: _Task) -> float:
        state.calls += 1
        return self._base_s + _unit(state.stream ^ state.calls) * self._jitter_s

    def _step(self, state: _Task, answer: Any, now: float) -> None:
        """Feed the task until it yields something that takes time."""
        send = state.gen.send
        bounded = state.bounded
        max_steps = self.config.max_flow_steps
        watch = self._watch
        if bounded and now - state.arrival > self.config.max_flow_seconds:
            self._runaway(state, f"still running {now - state.arrival:g} s (virtual time) after it began")
        while True:
            try:
                watch.began = perf_counter()
                effect = send(answer)
                watch.began = 0.0
            except StopIteration as stop:
                watch.began = 0.0
                state.on_done(state, stop.value, now)
                return
            except StepOverrun:
                watch.began = 0.0
                self._runaway(
                    state,
                    f"one step ran past {self.config.max_step_wall_seconds:g} s of wall-clock time without "
                    "yielding an effect (a loop that never gives the driver control)",
                )
            except Exception as error:
                watch.began = 0.0
                raise SimulationError(
                    f"{self._who(state)}: {self.label if bounded else state.process} raised "
                    f"{type(error).__name__}: {error}"
                ) from error
            if bounded:
                state.steps += 1
                self._steps_left -= 1
                if state.steps > max_steps or self._steps_left < 0:
                    last = f"{type(effect).__name__} {getattr(effect, 'op', '')}".strip()
                    if state.steps > max_steps:
                        self._runaway(state, f"more than {max_steps} effects in one flow (the last: {last})")
                    self._runaway(
                        state, f"the run's flows made more than {self._steps_budget} effects, this one {state.steps}"
                    )
            kind = type(effect)
            if kind is Call or kind is StorePut or kind is StoreGet:
                f, params = request_of(effect)
                if state.params_of is not None:
                    params = state.params_of(effect)
                self.history.invoke(state.process, state.key, f, params, now)
                latency = state.latency(state)
                heapq.heappush(
                    self._queue, (now + latency / 2, next(self._order), _APPLY, state, (effect, now, latency))
                )
                return
            if kind is Sleep:
                wake = now + max(0.0, effect.seconds)
                if bounded and wake - state.arrival > self.config.max_flow_seconds:
                    self._runaway(state, f"a sleep until {wake - state.arrival:g} s (virtual time) after it began")
                heapq.heappush(self._queue, (wake, next(self._order), _WAKE, state, None))
                return
            if kind is Now:
                answer = now
                continue
            raise SimulationError(f"{self._who(state)}: {self.label} yielded {effect!r}, which is not an effect")

    def _who(self, state: _Task) -> str:
        return f"session {state.key}" if state.key is not None else state.process

    def _runaway(self, state: _Task, what: str) -> NoReturn:
        c = self.config
        raise SimulationError(
            f"runaway flow: {self.label}, session {state.key}: {what}; bounds: {c.max_flow_steps} effects "
            f"and {c.max_flow_seconds:g} s per flow, {c.max_mean_flow_steps} effects per session over the run "
            "(--max-flow-steps, --max-flow-seconds, --max-mean-flow-steps)"
        )

    def _apply(self, state: _Task, payload: tuple[Any, float, float], now: float) -> None:
        """The request reaches the platform (or the store); the reply travels back."""
        effect, invoked, latency = payload
        f = request_of(effect)[0]
        try:
            reply = answer(effect, self.transport, self.store)
        except Exception as error:
            raise SimulationError(
                f"{self._who(state)}: {f} {request_of(effect)[1]!r} broke the in-process platform: "
                f"{type(error).__name__}: {error}"
            ) from error
        done = invoked + latency
        if reply.ready_at is not None and reply.ready_at > done:
            done = reply.ready_at
        heapq.heappush(self._queue, (done, next(self._order), _DELIVER, state, (f, reply)))

    def _finished(self, state: _Task, result: Any, now: float) -> None:
        if not isinstance(result, FlowResult):
            raise SimulationError(f"session {state.key}: the flow returned {result!r}, not a FlowResult")
        self.history.finish(self.process, result, now)
        self.results.append(result)
        self._durations.append(now - state.arrival)

    def _finish(self) -> dict[str, Any]:
        platform = self.platform
        # Let every hold end (a clobber restores its snapshot then) before reading the truth.
        settled = max([self.clock.now(), *(op.completes_at for op in platform.operations.values())])
        self.clock.set(settled)
        platform.settle()
        truth = platform.ground_truth()
        windows = [(w["startedEpochMs"] / 1000.0, w["completesEpochMs"] / 1000.0) for w in platform.lock_windows()]
        store_keys = sorted({r.store_key for r in self.results if r.store_key})
        try:
            contents = {k: self.store.get(k) for k in store_keys} if store_keys else None
        except StoreError as error:
            # Durability cannot be judged without the store: a harness failure, not a verdict.
            raise SimulationError(f"cannot read the external store to check durability: {error}") from None
        extra: dict[str, Any] = {
            "driver": "simulation",
            "agents": self.agents,
            "publishes": self.publishes,
            "publish": self.profile.publish.to_dict(),
            "mitigation_params": self.mitigation.describe().get("params", {}),
            "simulation": {
                "sessions_requested": self.sessions,
                "start_epoch_s": round(self.config.start, 3),
                "publish_at_epoch_s": [round(t, 3) for t in self.publish_times],
                "arrival_span_s": round(self.config.span(self.publishes), 3),
                "latency_base_ms": self.config.latency_base_ms,
                "latency_jitter_ms": self.config.latency_jitter_ms,
                "virtual_end_epoch_s": round(settled, 3),
            },
            # Whole flows (arrival to result), where the checker's call latency cannot see sleeps.
            "flow_ms": latency_summary([d * 1000.0 for d in self._durations]),
        }
        if self.profile.toxics:
            # Toxics act on HTTP requests; the in-process transport has none to act on.
            extra["simulation"]["toxics_not_simulated"] = sorted(t.name for t in self.profile.toxics)
        extra.update(self.extra)
        return check(
            self.history.entries,
            truth,
            windows,
            mitigation=self.label,
            fault_profile=self.profile.name,
            seed=self.seed,
            store=contents,
            repairs=self.repairs or None,
            extra=extra,
            include_sessions=self.include_sessions,
        )


def simulation_document(spec: RunSpec, results: list[dict[str, Any]]) -> dict[str, Any]:
    """What `mockgc simulate --json` writes: one strategy's result, or for several (`all`, a comma list) a
    document holding each, in the order they ran."""
    if len(results) == 1 and spec.mitigation.strip() != ALL:
        return dict(results[0])
    document: dict[str, Any] = {"driver": "simulation", "fault_profile": spec.profile, "seed": spec.seed}
    return document | {
        "sessions": spec.sessions,
        "agents": spec.agents,
        "publishes": spec.simulated_publishes(),
        "results": results,
    }
