"""Simulate a run: the strategy and its simulated companions from the registry, the simulator, the verdict."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mockgc.checker.result import Result
from mockgc.drivers.simulator import SimConfig, Simulator
from mockgc.faults import FaultProfile
from mockgc.flows.mitigations.base import Mitigation
from mockgc.spec.arrivals import Arrival
from mockgc.spec.runspec import RunSpec
from mockgc.stores import Store
from mockgc.strategies.registry import ALL, companion_of, label, load_mitigation


class LiveOnly(ValueError):
    """The strategy calls an outside process (the user's service or worker), which has no virtual time."""


def simulator(
    *,
    mitigation: str | Mitigation,
    profile: str | FaultProfile,
    sessions: int,
    seed: int,
    agents: int = 50,
    publishes: int = 3,
    components: Iterable[Any] = (),
    store: Store | None = None,
    config: SimConfig | None = None,
    arrivals: tuple[Arrival, ...] = (),
) -> Simulator:
    """A Simulator for a strategy (a registered name, `module:Class`, or one already built), with its companions."""
    chosen = load_mitigation(mitigation) if isinstance(mitigation, str) else mitigation
    reason = chosen.live_only() if isinstance(chosen, Mitigation) else None
    if reason:
        raise LiveOnly(f"{label(mitigation, chosen)} cannot be simulated: {reason}; run it live with `mockgc run`")
    simulated = companion_of(chosen).simulated if isinstance(chosen, Mitigation) else None
    return Simulator(
        mitigation=chosen,
        profile=profile,
        sessions=sessions,
        seed=seed,
        agents=agents,
        publishes=publishes,
        components=[*components, *(simulated(chosen) if simulated else [])],
        store=store,
        config=config,
        label=label(mitigation, chosen) if isinstance(chosen, Mitigation) else None,
        arrivals=arrivals,
    )


def simulate(**arguments: Any) -> Result:
    """Simulate `sessions` interactions while `publishes` publishes fire; the checker's result (see `simulator`)."""
    return simulator(**arguments).run()


def simulate_spec(spec: RunSpec) -> dict[str, Any]:
    """The spec simulated: one strategy's result, or for several (`all`, a comma list) a document holding each."""
    config = spec.sim_config()
    common: dict[str, Any] = {
        "profile": spec.profile,
        "sessions": spec.sessions,
        "seed": spec.seed,
        "agents": spec.agents,
        "publishes": spec.simulated_publishes(),
        "config": config,
        "arrivals": spec.arrivals,
    }
    names = spec.mitigations()
    if len(names) == 1 and spec.mitigation.strip() != ALL:
        return dict(simulate(mitigation=load_mitigation(names[0], spec.params), **common))
    results = [simulate(mitigation=load_mitigation(name, spec.params), **common) for name in names]
    document: dict[str, Any] = {"driver": "simulation", "fault_profile": spec.profile, "seed": spec.seed}
    return document | {
        "sessions": spec.sessions,
        "agents": spec.agents,
        "publishes": common["publishes"],
        "results": results,
    }
