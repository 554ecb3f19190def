"""One setting judged as tune judges it: simulated on every seed, on the exact profile and on it stretched by the margin.

A setting holds only if every one of those runs holds: one bad session anywhere rules it out. This
is a pure function of its arguments (the simulator is deterministic), so it runs the same in a
worker process as in this one, and two processes sharing a study agree on every trial.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockgc.checker.gate import METRICS, loss_summary
from mockgc.checker.result import FAILING_CLASSES, HOLDS, Result
from mockgc.drivers.simulator import SimulationError, Simulator
from mockgc.faults import FaultProfile
from mockgc.spec.runspec import RunSpec
from mockgc.strategies.plans import plan as resolve

WAIT = "flow_p95_ms"  # the customer's wait: a whole flow's p95, sleeps and retries included


def _flow(percentile: str) -> Callable[[Result], float | None]:
    return lambda result: result["flow_ms"][percentile]  # type: ignore[typeddict-item]


# The figures a tune can minimize (`--objective`): each lower is better.
FIGURES: dict[str, Callable[[Result], float | None]] = {
    "requests_per_session": METRICS["requests_per_session"][1],
    "flow_p50_ms": _flow("p50"),
    WAIT: _flow("p95"),
    "flow_p99_ms": _flow("p99"),
    "flow_max_ms": _flow("max"),
    **{name: METRICS[name][1] for name in ("requests", "p95_ms", "p99_ms", "p95_inside_ms", "p99_inside_ms")},
    **{name: METRICS[name][1] for name in ("http_400", "http_429")},
}


@dataclass(frozen=True)
class TunePlan:
    """What every setting is judged on: the strategy, the profile (and its stretch), the seeds, the size."""

    mitigation: str
    profile: FaultProfile
    margin: float
    seeds: tuple[int, ...]
    sessions: int
    objective: str = "requests_per_session"
    agents: int = 50
    publishes: int = 3

    def axes(self) -> tuple[str, str]:
        """The two figures minimized: the cost (the objective) against the customer's wait."""
        return (self.objective, WAIT if self.objective != WAIT else "requests_per_session")

    def profiles(self) -> list[FaultProfile]:
        """The exact profile, then the stretched one (none at margin 0)."""
        return [self.profile, *([self.profile.stretched(1.0 + self.margin)] if self.margin > 0 else [])]


def run_summary(result: Result, seed: int, stretched: bool, axes: tuple[str, ...]) -> dict[str, Any]:
    sessions = result["sessions"]
    return {
        "seed": seed,
        "profile": result["fault_profile"],
        "stretched": stretched,
        "verdict": result["verdict"],
        "failing": sum(int(sessions[name]) for name in FAILING_CLASSES),  # type: ignore[literal-required]
        "loss": loss_summary(result),
        "figures": {name: FIGURES[name](result) for name in axes},
    }


def mean_figures(runs: list[dict[str, Any]], axes: tuple[str, ...]) -> dict[str, float | None]:
    """Each figure's mean over the exact profile's runs (the stretched ones only test the margin)."""
    exact = [run for run in runs if not run["stretched"]]
    figures: dict[str, float | None] = {}
    for name in axes:
        values = [run["figures"][name] for run in exact if run["figures"][name] is not None]
        figures[name] = round(statistics.fmean(values), 3) if values else None
    return figures


def evaluate(
    plan: TunePlan, setting: Mapping[str, Any], *, seeds: tuple[int, ...] = (), keep: list[Result] | None = None
) -> dict[str, Any]:
    """The setting judged on `seeds` (the plan's by default): holds, failing sessions, each run, mean figures;
    `keep` collects every run's full result (the held-out confirmation's, for the CI gate).

    A setting the strategy refuses is `invalid`; one the simulator cannot finish (a runaway) is an `error`:
    neither holds, and neither is a harness failure of the tune itself.
    """
    record: dict[str, Any] = {"setting": dict(setting)}
    try:
        spec = RunSpec().with_options(
            mitigation=plan.mitigation,
            params=dict(setting),
            sessions=plan.sessions,
            agents=plan.agents,
            publishes=plan.publishes,
        )
        record["persistence_s"] = resolve(spec).strategy.persistence_s()
    except ValueError as error:
        return record | {"holds": False, "invalid": str(error)}
    axes = tuple(dict.fromkeys((*plan.axes(), "requests_per_session", WAIT)))
    runs = []
    try:
        for profile in plan.profiles():
            for seed in seeds or plan.seeds:
                # A plan of its own per run: the strategy is built afresh, as a process builds it once.
                result = Simulator(resolve(spec.with_options(seed=seed)), profile=profile).run()
                runs.append(run_summary(result, seed, profile is not plan.profile, axes))
                if keep is not None:
                    keep.append(result)
    except SimulationError as error:
        return record | {"holds": False, "error": str(error)}
    return record | {
        "holds": all(run["verdict"] == HOLDS for run in runs),
        "failing": sum(run["failing"] for run in runs),
        "figures": mean_figures(runs, axes),
        "runs": runs,
    }
