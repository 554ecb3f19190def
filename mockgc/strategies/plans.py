"""A spec resolved into plans, once per process: each mitigation's strategy built, its companion, its schedule.

The CLI, a live run's parent, each Locust process and the worker service resolve the spec they were
given here, once; what carries a plan out (the simulator, a live run, the locustfile) never loads
the strategy or validates the spec again. A name that is not a strategy, a parameter a strategy does
not take, or an expectation naming a mitigation that does not run is a ValueError here, one line.
"""

from __future__ import annotations

from mockgc.flows.mitigations.base import Mitigation
from mockgc.spec.plan import Plan
from mockgc.spec.runspec import ALL, RunSpec
from mockgc.spec.simconfig import SimConfig
from mockgc.strategies.registry import companion_of, expand, load_mitigation


def plans(spec: RunSpec) -> list[Plan]:
    """Every run the spec asks for (`all` in the registry's order, a comma list, or one), each resolved."""
    names = expand(spec.mitigation)
    resolved = [plan(spec.for_mitigation(name)) for name in names]
    spec.gate().check_names(names)
    return resolved


def plan(spec: RunSpec, strategy: Mitigation | None = None, *, sim: SimConfig | None = None) -> Plan:
    """One mitigation's plan: the one strategy `spec.mitigation` names, built from `spec.params` (or
    `strategy`, one already built, such as a test's planted strategy); `sim` replaces the spec's
    simulator config (its timing, for tests)."""
    if strategy is None:
        names = expand(spec.mitigation)
        if len(names) != 1 or spec.mitigation.strip() == ALL:
            raise ValueError(f"one process runs one mitigation, not {spec.mitigation!r}")
        strategy = load_mitigation(names[0], spec.params)
    return Plan(
        spec=spec,
        strategy=strategy,
        companion=companion_of(strategy),
        label=strategy.label(),
        sim=(sim or spec.sim_config()).validate(),
    )
