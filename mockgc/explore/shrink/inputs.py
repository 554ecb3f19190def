"""What `mockgc shrink --spec FILE` reads: a spec (TOML, or a run's config.json) or a `mockgc simulate --json` result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mockgc.checker.result import FAILS
from mockgc.spec.runspec import RunSpec, read_spec_file
from mockgc.strategies.registry import ALL, expand


def _is_result(data: dict[str, Any]) -> bool:
    return ("verdict" in data and "fault_profile" in data) or ("results" in data and "driver" in data)


def spec_of_result(result: dict[str, Any]) -> RunSpec:
    """The spec a simulate result was run from: what it records of its strategy, org and schedule."""
    if result.get("driver") != "simulation":
        raise ValueError("a live run's result.json: shrink its run directory instead (mockgc shrink RUN_DIR)")
    simulation = result.get("simulation") or {}
    return RunSpec(
        mitigation=result["mitigation"],
        params=result.get("mitigation_params") or {},
        profile=result["fault_profile"],
        seed=result["seed"],
        agents=result["agents"],
        publishes=result["publishes"],
        sessions=simulation.get("sessions_requested", result["sessions"]["total"]),
    )


def _chosen(results: list[dict[str, Any]], mitigation: str | None) -> dict[str, Any]:
    if mitigation is not None:
        named = [r for r in results if r["mitigation"] == mitigation]
        if not named:
            raise ValueError(
                f"the result has no run of {mitigation!r} (it has {', '.join(r['mitigation'] for r in results)})"
            )
        return named[0]
    failing = [r for r in results if r.get("verdict") == FAILS]
    return (failing or results)[0]


def read_spec_input(path: Path, mitigation: str | None = None) -> RunSpec:
    """The one-mitigation spec to shrink from a spec file or a simulate result (of a matrix: `mitigation`,
    else its first failing run)."""
    data = read_spec_file(path)
    if path.suffix == ".json" and _is_result(data):
        try:
            results = data.get("results", [data])
            return spec_of_result(_chosen(results, mitigation))
        except (KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a mockgc simulate result: no {error}") from None
    spec = RunSpec.from_dict(data, source=str(path))
    names = expand(spec.mitigation)
    if len(names) == 1 and spec.mitigation.strip() != ALL:
        if mitigation is not None and mitigation != names[0]:
            raise ValueError(f"{path} runs {names[0]}, not {mitigation}")
        return spec.for_mitigation(names[0])
    if mitigation is None:
        raise ValueError(f"{path} runs several mitigations ({', '.join(names)}): choose one with --mitigation")
    if mitigation not in names:
        raise ValueError(f"{path} does not run {mitigation!r} (it runs {', '.join(names)})")
    return spec.for_mitigation(mitigation)
