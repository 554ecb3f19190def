"""`mockgc demo`: a short live load showing the baseline losing sessions and a mitigation holding."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockgc.checker.gate import loss_summary
from mockgc.checker.result import EXIT_FAILS, EXIT_HOLDS, HOLDS, Result
from mockgc.checker.summary import ms
from mockgc.live.options import LiveOptions
from mockgc.live.run import run
from mockgc.report.records import RunOutcome
from mockgc.report.sessions import read_sessions
from mockgc.report.sessions import session_p95 as p95_of
from mockgc.spec.runspec import RunSpec

# On the field report's profile, backoff-verify holds in the simulator with margin: it retries
# evaluate as well as Set Data and reads the value back, so it does not depend on timing luck.
DEMO_MITIGATION = "backoff-verify"


@dataclass(frozen=True)
class DemoSetup:
    profile: str = "seed-default"
    mitigation: str = DEMO_MITIGATION
    users: int = 50
    # 30 agents make a 4.5 s publish window: two of them fit in 16 s with calm before, between and after.
    agents: int = 30
    duration: float = 16.0
    publishes: int = 2
    think_time: float = 0.5
    seed: int = 1


def demo_spec(setup: DemoSetup = DemoSetup()) -> RunSpec:
    return RunSpec().with_options(
        mitigation=f"none,{setup.mitigation}",
        profile=setup.profile,
        seed=setup.seed,
        agents=setup.agents,
        users=setup.users,
        spawn_rate=setup.users,
        duration=setup.duration,
        publishes=setup.publishes,
        think_time=setup.think_time,
        drain_timeout=8.0,
    )


# What "lost" means in this demo, in one line: the field report's failure.
LOST_MEANS = (
    "lost = the publish lock answered the script's Set Data (or evaluate) with 400 bad.request "
    "(script.session.locked), so the flow took the default branch: the customer's preference was not used"
)


def summary_lines(outcomes: list[RunOutcome]) -> list[str]:
    """'baseline: N of M sessions lost (lost n, ...)', one line per run; what lost means; what holding cost."""
    lines = []
    width = max(len(f"baseline ({o.mitigation})") if o.mitigation == "none" else len(o.mitigation) for o in outcomes)
    for o in outcomes:
        label = "baseline (none)" if o.mitigation == "none" else o.mitigation
        lines.append(f"{label + ':':<{width + 1}} {loss_summary(o.result)}  -> {o.result['verdict']}")
    lines.append(LOST_MEANS)
    baseline = next((o for o in outcomes if o.mitigation == "none"), None)
    for o in outcomes:
        if o.mitigation != "none" and o.result["verdict"] == HOLDS and baseline is not None:
            lengths = (session_p95(o.directory), session_p95(baseline.directory))
            lines.append(f"{o.mitigation} held at a cost: {cost(o.result, baseline.result, lengths)}")
    return lines


def session_p95(directory: Path) -> float | None:
    """The p95 session length in seconds, first call to the flow's end, from a run's sessions.json."""
    return p95_of(read_sessions(directory))


def cost(result: Result, baseline: Result, lengths: tuple[float | None, float | None] = (None, None)) -> str:
    """Requests per session, session length and call latency inside the windows, against the baseline's."""
    inside, base_inside = result["latency_ms_by_window"]["inside"], baseline["latency_ms_by_window"]["inside"]
    text = (
        f"{result['requests_per_session']:.2f} requests per session (baseline {baseline['requests_per_session']:.2f})"
    )
    if None not in lengths:
        text += f", a p95 session of {lengths[0]:.2f} s (baseline {lengths[1]:.2f} s)"
    return text + f", call p99 inside the publish windows {ms(inside['p99'])} ms (baseline {ms(base_inside['p99'])} ms)"


def demo_exit(outcomes: list[RunOutcome]) -> int:
    """0 when the demo showed what it should: the baseline fails and the mitigation holds."""
    codes = {o.mitigation: o.exit_code for o in outcomes}
    if len(outcomes) == 2 and codes.get("none") == EXIT_FAILS and list(codes.values())[1] == EXIT_HOLDS:
        return EXIT_HOLDS
    return max(codes.values(), default=EXIT_FAILS) or EXIT_FAILS


def run_demo(out: Path, display: Any = None, setup: DemoSetup = DemoSetup()) -> tuple[list[RunOutcome], float]:
    began = time.monotonic()
    outcomes = run(demo_spec(setup), LiveOptions(out=out), display)
    return outcomes, time.monotonic() - began
