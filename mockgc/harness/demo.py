"""`mockgc demo`: a short live load showing the baseline losing sessions and a mitigation holding."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockgc.harness.options import LiveOptions
from mockgc.harness.results import RunOutcome
from mockgc.harness.run import run
from mockgc.result import EXIT_FAILS, EXIT_HOLDS, bad_sessions
from mockgc.spec import RunSpec

# On the field report's profile, backoff-verify holds in the simulator with margin: it retries
# evaluate as well as Set Data and reads the value back, so it does not depend on timing luck.
DEMO_MITIGATION = "backoff-verify"


@dataclass(frozen=True)
class DemoPlan:
    profile: str = "seed-default"
    mitigation: str = DEMO_MITIGATION
    users: int = 50
    duration: float = 14.0
    publish_at: str = "2,8"  # two 6.5 s windows that cover most of the run
    think_time: float = 0.5
    seed: int = 1


def demo_spec(plan: DemoPlan = DemoPlan()) -> RunSpec:
    return RunSpec().with_options(
        mitigation=f"none,{plan.mitigation}",
        profile=plan.profile,
        seed=plan.seed,
        users=plan.users,
        spawn_rate=plan.users,
        duration=plan.duration,
        publish_at=plan.publish_at,
        think_time=plan.think_time,
        drain_timeout=8.0,
    )


def summary_lines(outcomes: list[RunOutcome]) -> list[str]:
    """'baseline: N sessions lost, X: 0 lost', one line per run, aligned."""
    lines = []
    width = max(len(f"baseline ({o.mitigation})") if o.mitigation == "none" else len(o.mitigation) for o in outcomes)
    for o in outcomes:
        label = "baseline (none)" if o.mitigation == "none" else o.mitigation
        s = o.result["sessions"]
        lines.append(
            f"{label + ':':<{width + 1}} {bad_sessions(s):>4} of {s['total']:>5} sessions lost  -> {o.result['verdict']}"
        )
    return lines


def demo_exit(outcomes: list[RunOutcome]) -> int:
    """0 when the demo showed what it should: the baseline fails and the mitigation holds."""
    codes = {o.mitigation: o.exit_code for o in outcomes}
    if len(outcomes) == 2 and codes.get("none") == EXIT_FAILS and list(codes.values())[1] == EXIT_HOLDS:
        return EXIT_HOLDS
    return max(codes.values(), default=EXIT_FAILS) or EXIT_FAILS


def run_demo(out: Path, display: Any = None, plan: DemoPlan = DemoPlan()) -> tuple[list[RunOutcome], float]:
    began = time.monotonic()
    outcomes = run(demo_spec(plan), LiveOptions(out=out), display)
    return outcomes, time.monotonic() - began
