"""Simulate a run: the strategy and its simulated companions from the registry, the simulator, the verdict."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mockgc.drivers.simulator import SimConfig, Simulator
from mockgc.faults import FaultProfile
from mockgc.flows.mitigations.base import Mitigation
from mockgc.registry import companion_of, label, load_mitigation, names
from mockgc.result import Result
from mockgc.stores import Store


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
) -> Simulator:
    """A Simulator for a strategy (a registered name, `module:Class`, or one already built), with its companions."""
    chosen = load_mitigation(mitigation) if isinstance(mitigation, str) else mitigation
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
    )


def simulate(**arguments: Any) -> Result:
    """Simulate `sessions` interactions while `publishes` publishes fire; the checker's result (see `simulator`)."""
    return simulator(**arguments).run()


def run_all(
    *,
    profile: str | FaultProfile,
    sessions: int,
    seed: int,
    agents: int = 50,
    publishes: int = 3,
    config: SimConfig | None = None,
) -> list[Result]:
    """Every registered mitigation, with its default parameters, on one profile: the comparison."""
    return [
        simulate(
            mitigation=name,
            profile=profile,
            sessions=sessions,
            seed=seed,
            agents=agents,
            publishes=publishes,
            config=config,
        )
        for name in names()
    ]


SUMMARY_COLUMNS = (
    "mitigation",
    "verdict",
    "ok",
    "lost",
    "ack_lost",
    "corrupted",
    "unverified",
    "indeterminate",
    "req/session",
    "call p99 ms",
    "p99 in publish",
    "400s",
    "flow p99 s",
)


def summary_row(result: dict[str, Any]) -> list[str]:
    """One result as the summary table's cells (SUMMARY_COLUMNS)."""

    def ms(value: Any) -> str:
        return "-" if value is None else f"{value:.1f}"

    counts = result["sessions"]
    flow_p99 = (result.get("flow_ms") or {}).get("p99")
    return [
        str(result["mitigation"]),
        str(result["verdict"]),
        *(str(counts[name]) for name in ("ok", "lost", "ack_lost", "corrupted", "unverified", "indeterminate")),
        f"{result['requests_per_session']:.2f}",
        ms(result["latency_ms"]["p99"]),
        ms(result["latency_ms_by_window"]["inside"]["p99"]),
        str(result["http"].get("400", 0)),
        "-" if flow_p99 is None else f"{flow_p99 / 1000:.2f}",
    ]
