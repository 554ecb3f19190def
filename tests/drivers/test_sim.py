"""The virtual-time simulator: determinism, the headline verdicts, history shape, timing and extension points."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Generator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mockgc.checker.result import verdict_exit
from mockgc.clock import VirtualClock
from mockgc.drivers.inprocess import InProcessTransport
from mockgc.drivers.realtime import run_flow
from mockgc.drivers.simulator import SimulationError, Simulator
from mockgc.faults import get_profile
from mockgc.flows.context import Evaluation, FlowContext, SessionRef
from mockgc.flows.effects import Call, Effect, Now, Sleep
from mockgc.flows.history import History
from mockgc.flows.mitigations.base import Mitigation, NoMitigation
from mockgc.flows.script import script_flow
from mockgc.platform.domain.backend import Platform
from mockgc.platform.settings import OrgSettings
from mockgc.spec.companion import Companion
from mockgc.spec.simconfig import DEFAULT_START, SimConfig
from mockgc.strategies.registry import REGISTRY, load_mitigation, register
from tests.conftest import simulate, simulator
from tests.planted import BusyLoop, SleepsNaN

CHICAGO = ZoneInfo("America/Chicago")


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=True)


def test_same_arguments_give_byte_identical_json() -> None:
    first = simulate(mitigation="backoff-verify", profile="seed-default", sessions=300, seed=11)
    second = simulate(mitigation="backoff-verify", profile="seed-default", sessions=300, seed=11)
    assert dumps(first) == dumps(second)
    other = simulate(mitigation="backoff-verify", profile="seed-default", sessions=300, seed=12)
    assert dumps(other) != dumps(first)


def test_none_loses_sessions_on_the_field_report_profile() -> None:
    result = simulate(mitigation="none", profile="seed-default", sessions=1000, seed=1)
    assert result["sessions"]["lost"] > 0
    assert result["verdict"] == "fails" and verdict_exit(result["verdict"]) == 1
    # The losses are the rejected writes: 400s, all of them during the publish windows.
    assert result["http"]["400"] >= result["sessions"]["lost"]
    assert result["latency_ms_by_window"]["inside"]["count"] > 0


def test_a_mitigation_holds_on_the_field_report_profile() -> None:
    result = simulate(mitigation="backoff-verify", profile="seed-default", sessions=1000, seed=1)
    assert result["sessions"]["ok"] == result["sessions"]["total"] == 1000
    assert result["verdict"] == "holds" and verdict_exit(result["verdict"]) == 0
    assert result["http"]["400"] > 0  # it did meet the lock, and got through it


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_legacy_v1_never_loses_and_makes_writes_wait(seed: int) -> None:
    result = simulate(mitigation="none", profile="legacy-v1", sessions=500, seed=seed)
    assert result["verdict"] == "holds"
    assert result["sessions"]["ok"] == 500
    assert "400" not in result["http"]
    # Serialized, not free: calls inside the publish wait for the hold to end.
    assert result["latency_ms_by_window"]["inside"]["max"] > 500


@pytest.mark.parametrize("mitigation", ["none", "soft-hold", "retry"])
def test_calm_never_loses(mitigation: str) -> None:
    result = simulate(mitigation=mitigation, profile="calm", sessions=500, seed=5)
    assert result["verdict"] == "holds"
    assert result["sessions"]["ok"] == 500
    assert set(result["http"]) <= {"200", "201", "202"}


def test_the_result_carries_the_run_configuration() -> None:
    mitigation = load_mitigation("retry", attempts=4)
    result = simulate(mitigation=mitigation, profile="long-hold", sessions=50, seed=3, agents=20, publishes=2)
    assert result["driver"] == "simulation"
    assert (result["mitigation"], result["fault_profile"], result["seed"]) == ("retry", "long-hold", 3)
    assert (result["agents"], result["publishes"]) == (20, 2)
    assert result["publish"] == {
        "batch_size": 10,
        "interval_ms": 1000,
        "hold_ms": 6000,
        "kind": "reject",
        "toxicity": 1.0,
        "platform_version": "v2",
        "start_delay_ms": 0,
    }
    assert result["mitigation_params"] == {"attempts": 4, "delay_s": 2.0, "retry_evaluate": False}
    assert result["sessions"]["total"] == 50
    assert len(result["windows"]) == 2
    assert set(result["flow_ms"]) == {"p50", "p95", "p99", "max", "count"}


def test_publishes_fire_on_monday_morning_chicago_time_inside_the_weekly_window() -> None:
    sim = simulator(mitigation="none", profile="seed-default", sessions=10, seed=1, publishes=3)
    start = datetime.fromtimestamp(sim.clock.now(), CHICAGO)
    assert (start.strftime("%A %H:%M"), sim.clock.now()) == ("Monday 05:59", DEFAULT_START)
    result = sim.run()
    windows = sim.platform.lock_windows()
    assert len(windows) == 3
    for window, planned in zip(windows, sim.publish_times, strict=True):
        started = datetime.fromtimestamp(window["startedEpochMs"] / 1000, CHICAGO)
        assert started.weekday() == 0 and started.hour == 6
        assert window["startedEpochMs"] == int(planned * 1000)
        assert window["status"] == "Complete"
    assert result["windows"] == [[w["startedEpochMs"] / 1000, w["completesEpochMs"] / 1000] for w in windows]


def test_weekly_window_guard_holds_only_because_the_publishes_fall_in_its_window() -> None:
    weekly = load_mitigation("window-guard", variant="weekly")
    aligned = simulate(mitigation=weekly, profile="seed-default", sessions=300, seed=2)
    assert aligned["verdict"] == "holds"
    # Move the run (and its publishes) to Monday 10:59: the calendar says go, the lock says no.
    late = SimConfig(start=DEFAULT_START + 5 * 3600)
    sim = simulator(mitigation=weekly, profile="seed-default", sessions=300, seed=2, config=late)
    missed = sim.run()
    assert missed["verdict"] == "fails" and missed["sessions"]["lost"] > 0


def test_sessions_are_spread_round_robin_over_the_agents() -> None:
    sim = simulator(mitigation="none", profile="calm", sessions=100, seed=4, agents=7)
    sim.run()
    owners = Counter(s["userId"] for s in sim.platform.ground_truth().values())
    assert len(owners) == 7
    assert set(owners.values()) == {14, 15}


def test_history_is_recorded_as_the_synchronous_runner_records_it() -> None:
    sim = simulator(mitigation="retry", profile="seed-default", sessions=200, seed=1)
    sim.run()
    entries = sim.history.entries
    invokes = [e for e in entries if e["type"] == "invoke"]
    completions = [e for e in entries if e["type"] in ("ok", "fail", "info")]
    flows = [e for e in entries if e["type"] == "flow"]
    assert len(invokes) == len(completions) and len(flows) == 200
    assert any(e["type"] == "fail" and e["code"] == "script.session.locked" for e in completions)
    assert any(e["f"] == "patch_attributes" for e in invokes)

    # The same flow under the real-time runner (on a virtual clock) yields entries of the same shape.
    platform = Platform(OrgSettings(seed=1, agents=3), get_profile("calm"), VirtualClock(DEFAULT_START))
    history = History()
    agent = next(iter(platform.agents))
    bu = next(iter(platform.business_units))
    ctx = FlowContext("r-1", agent, bu, 1, "sim")
    run_flow(
        script_flow(ctx, load_mitigation("retry")),
        InProcessTransport(platform),
        history,
        process="sim",
        key="r-1",
        clock=platform.clock.now,
    )
    for kind in ("invoke", "ok", "flow"):
        ours = next(e for e in entries if e["type"] == kind)
        theirs = next(e for e in history.entries if e["type"] == kind)
        assert set(ours) == set(theirs)
        if kind == "flow":
            assert set(ours["value"]) == set(theirs["value"])


def test_every_call_takes_a_seeded_latency_and_v1_replies_wait_for_ready_at() -> None:
    config = SimConfig(latency_base_ms=10, latency_jitter_ms=5)
    sim = simulator(mitigation="none", profile="seed-default", sessions=200, seed=1, config=config)
    sim.run()
    pending: dict[tuple[str, str], float] = {}
    latencies = []
    for e in sim.history.entries:
        if e["type"] == "invoke":
            pending[(e["key"], e["f"])] = e["time"]
        elif e["type"] in ("ok", "fail", "info"):
            latencies.append(e["time"] - pending.pop((e["key"], e["f"])))
    assert all(0.010 - 1e-9 <= lat <= 0.015 + 1e-9 for lat in latencies)
    assert len(set(latencies)) > 100

    v1 = simulator(mitigation="none", profile="legacy-v1", sessions=200, seed=1, config=config)
    v1.run()
    holds = [(b[0] / 1000, b[1] / 1000) for w in v1.platform.lock_windows() for b in w["batches"]]
    waited = [e for e in v1.history.entries if e["type"] == "ok" and e["f"] == "set_data"]
    slow = [e for e in waited if any(abs(e["time"] - end) < 1e-9 for _, end in holds)]
    assert slow, "some v1 writes should complete exactly when their hold ends"


def test_the_final_truth_is_read_after_every_hold_has_ended() -> None:
    # Under clobber the snapshot comes back when a hold ends; a truth read earlier would miss it.
    result = simulate(mitigation="none", profile="seed-clobber", sessions=600, seed=1)
    assert result["sessions"]["ack_lost"] > 0
    assert result["sessions"]["lost"] == 0
    assert result["simulation"]["virtual_end_epoch_s"] >= max(end for _, end in result["windows"])


class Recorder:
    """A component: it registers an op, schedules a callback, and reports through extra and repairs."""

    def __init__(self) -> None:
        self.fired: list[float] = []

    def install(self, sim: Simulator) -> None:
        self.sim = sim
        sim.transport.register("ping", lambda params: {"pong": params.get("n")})
        sim.schedule(sim.clock.now() + 90.0, self.tick)

    def tick(self, at: float) -> None:
        self.fired.append(at)
        assert self.sim.clock.now() == at
        first = next(iter(self.sim.platform.sessions))
        self.sim.repairs[first] = at
        self.sim.extra["recorder"] = {"fired": len(self.fired)}


class Pinging(NoMitigation):
    name = "pinging"

    def __init__(self) -> None:
        self.recorder = Recorder()

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        pong = yield Call("ping", {"n": 1})
        assert pong.body == {"pong": 1}
        return (yield from super().set_data(ctx, session, name, value))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "params": {}}


def test_components_and_the_mitigations_own_components_are_installed() -> None:
    extra_component = Recorder()
    mitigation = Pinging()
    register(Pinging, Companion(simulated=lambda strategy: [strategy.recorder]))  # type: ignore[attr-defined]
    try:
        result = simulate(mitigation=mitigation, profile="calm", sessions=20, seed=1, components=[extra_component])
    finally:
        del REGISTRY[Pinging.name]
    assert mitigation.recorder.fired == extra_component.fired == [DEFAULT_START + 90.0]
    assert result["recorder"] == {"fired": 1}
    assert result["consistency"]["repaired"] == 1
    assert result["mitigation"] == "pinging"
    assert result["verdict"] == "holds"


class Stuck(Mitigation):
    name = "stuck"

    def __init__(self) -> None:
        pass

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        while True:
            yield Sleep(86_400.0)


class Confused(NoMitigation):
    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        yield "set the data please"  # type: ignore[misc]
        return True


class Crashing(NoMitigation):
    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        yield from ()
        raise KeyError("oops")


@pytest.mark.parametrize(
    "mitigation, message",
    [
        (Stuck(), r"runaway flow: stuck, session s0: a sleep until 86400\.\d+ s \(virtual time\)"),
        (Confused(), "which is not an effect"),
        (Crashing(), "raised KeyError"),
    ],
)
def test_a_broken_strategy_is_a_simulation_error(mitigation: Mitigation, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        simulate(mitigation=mitigation, profile="calm", sessions=3, seed=1)


class NamelessWrite(Mitigation):
    def __init__(self) -> None:
        pass


def test_a_user_class_without_a_name_is_labelled_by_where_it_lives() -> None:
    result = simulate(mitigation=NamelessWrite(), profile="calm", sessions=5, seed=1)
    assert result["mitigation"] == "tests.drivers.test_sim:NamelessWrite"
    assert result["verdict"] == "holds"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sessions": 0}, "sessions must be an integer from 1"),
        ({"sessions": True}, "sessions"),
        ({"agents": 0}, "agents"),
        ({"publishes": -1}, "publishes"),
        ({"mitigation": "nope"}, "unknown mitigation"),
        ({"profile": "nope"}, "unknown fault profile"),
    ],
)
def test_bad_arguments_are_value_errors(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"mitigation": "none", "profile": "calm", "sessions": 5, "seed": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        simulate(**arguments)


def test_schedule_refuses_the_past_and_a_simulator_runs_once() -> None:
    sim = simulator(mitigation="none", profile="calm", sessions=2, seed=1)
    with pytest.raises(ValueError, match="before now"):
        sim.schedule(sim.clock.now() - 1, lambda at: None)
    sim.run()
    with pytest.raises(SimulationError, match="runs once"):
        sim.run()


# -- runaway bounds: a flow that never ends stops the run (exit 2), naming the strategy and session --


class SleepsUntil(NoMitigation):
    """The plain flow, then a sleep until `offset` s after the run's start (and a read, if asked)."""

    name = "sleeps"

    def __init__(self, offset: float, then_read: bool = False) -> None:
        self.offset, self.then_read = offset, then_read

    def evaluate(self, ctx: FlowContext, session: SessionRef, variable: str) -> Generator[Effect, Any, Evaluation]:
        evaluation = yield from super().evaluate(ctx, session, variable)
        now = yield Now()
        yield Sleep(DEFAULT_START + self.offset - now)
        if self.then_read:
            yield Call("read_session", {"sessionId": session.session_id})
        return evaluation


def bounded(mitigation: Mitigation, profile: str = "calm", sessions: int = 20, **bounds: Any) -> dict[str, Any]:
    config = SimConfig(**bounds, arrival_span_s=0.0 if sessions == 1 else None)  # one session arrives at the start
    return simulate(mitigation=mitigation, profile=profile, sessions=sessions, seed=1, config=config)


def test_a_flow_may_yield_exactly_its_step_bound() -> None:
    assert bounded(NoMitigation(), max_flow_steps=4)["verdict"] == "holds"  # create_call, create_session, set, evaluate
    with pytest.raises(
        SimulationError,
        match=r"^runaway flow: none, session s00: more than 3 effects in one flow \(the last: Call evaluate\); bounds: 3 effects and 21600 s per flow, 50 effects per session over the run \(--max-flow-steps, --max-flow-seconds, --max-mean-flow-steps\)$",
    ):
        bounded(NoMitigation(), max_flow_steps=3)


def test_the_run_bounds_its_mean_steps_per_session() -> None:
    # 20 sessions of 4 effects: 80 in all; the budget is the larger of one flow's bound and sessions x mean.
    assert bounded(NoMitigation(), max_flow_steps=4, max_mean_flow_steps=4)["verdict"] == "holds"
    assert bounded(NoMitigation(), max_flow_steps=80, max_mean_flow_steps=1)["verdict"] == "holds"
    with pytest.raises(SimulationError, match=r"session s\d+: the run's flows made more than 79 effects, this one \d;"):
        bounded(NoMitigation(), max_flow_steps=79, max_mean_flow_steps=1)
    with pytest.raises(SimulationError, match="the run's flows made more than 60 effects"):
        bounded(NoMitigation(), max_flow_steps=4, max_mean_flow_steps=3)


def test_a_flow_may_take_exactly_its_virtual_time_bound() -> None:
    assert bounded(SleepsUntil(100.0), sessions=1, max_flow_seconds=100.0)["verdict"] == "holds"
    # A sleep that would end past the bound is stopped before it is scheduled.
    with pytest.raises(
        SimulationError, match=r"^runaway flow: sleeps, session s0: a sleep until 100 s \(virtual time\)"
    ):
        bounded(SleepsUntil(100.0), sessions=1, max_flow_seconds=99.99)
    # Calls take time too: a reply that lands past the bound stops the flow when it resumes.
    with pytest.raises(SimulationError, match=r"session s0: still running 100\.0\d+ s \(virtual time\) after it began"):
        bounded(SleepsUntil(99.99, then_read=True), sessions=1, max_flow_seconds=100.0)


def test_a_v1_write_that_waits_past_the_bound_is_a_runaway() -> None:
    with pytest.raises(SimulationError, match="still running"):
        bounded(NoMitigation(), profile="legacy-v1", sessions=300, max_flow_seconds=1.0)
    assert bounded(NoMitigation(), profile="legacy-v1", sessions=300)["verdict"] == "holds"


@pytest.mark.parametrize(
    "bounds, message",
    [
        ({"max_flow_steps": 0}, "max_flow_steps must be an integer from 1"),
        ({"max_flow_steps": True}, "max_flow_steps"),
        ({"max_mean_flow_steps": 0}, "max_mean_flow_steps must be an integer from 1"),
        ({"max_flow_seconds": 0}, "max_flow_seconds must be above 0"),
        ({"max_flow_seconds": 15 * 86_400}, "max_flow_seconds must be above 0 and at most 1209600"),
        ({"max_flow_seconds": True}, "max_flow_seconds"),
        ({"max_flow_seconds": "1h"}, "max_flow_seconds"),
        ({"max_flow_seconds": float("nan")}, "max_flow_seconds"),
    ],
)
def test_bad_bounds_are_value_errors(bounds: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimConfig(**bounds).validate()


def test_a_runaway_is_exit_2_and_one_line_from_the_cli() -> None:
    from click.testing import CliRunner

    from mockgc.cli import main

    args = ["simulate", "-m", "tests.planted:Spinning", "-p", "calm", "-n", "50"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.startswith("Error: runaway flow: planted-spinning, session s00: more than 10000 effects")
    assert result.output.count("\n") == 1
    # The bounds are the user's to set: a generous enough one lets a long honest wait through.
    weekly = ["simulate", "-m", "window-guard", "--param", "variant=weekly", "-n", "50", "--max-flow-seconds"]
    assert CliRunner().invoke(main, [*weekly, "3000"]).exit_code == 2
    assert CliRunner().invoke(main, [*weekly, "4000"]).exit_code == 0


def test_a_strategy_that_loops_without_yielding_is_stopped_by_the_wall_clock_bound() -> None:
    """Virtual time cannot see a loop that never yields; it hung `simulate` for good. The bound names the
    strategy and the session, and a strategy's own `except Exception` cannot swallow it."""
    began = time.monotonic()
    with pytest.raises(
        SimulationError,
        match=r"^runaway flow: planted-busy-loop, session s\d+: one step ran past 0\.5 s of wall-clock time",
    ):
        bounded(BusyLoop(), sessions=3, max_step_wall_seconds=0.5)
    assert time.monotonic() - began < 30  # seconds, not forever


def test_the_wall_clock_bound_leaves_honest_runs_alone() -> None:
    assert bounded(NoMitigation(), sessions=50, max_step_wall_seconds=0.5)["sessions"]["ok"] == 50


@pytest.mark.parametrize("seconds", [float("nan"), -1e9, -0.001, float("inf"), "1", True, None])
def test_sleep_refuses_what_is_no_duration(seconds: Any) -> None:
    with pytest.raises(ValueError, match="Sleep needs a finite number of seconds, 0 or more"):
        Sleep(seconds)


def test_a_nan_sleep_stops_the_simulation_naming_the_session() -> None:
    """Sleep(nan) and Sleep(-1e9) used to pass as no sleep at all."""
    assert Sleep(0).seconds == 0 and Sleep(1.5).seconds == 1.5
    with pytest.raises(SimulationError, match=r"^session s\d+: planted-sleeps-nan raised ValueError: Sleep needs"):
        bounded(SleepsNaN(), sessions=3)
