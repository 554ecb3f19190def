"""The public Python API behind `mockgc.simulate` and `mockgc.story`: a spec simulated, and the story of its
first failing session. Both are what `mockgc simulate` and `mockgc shrink` do, for a team's own tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, cast

from mockgc.checker.result import Result
from mockgc.spec.runspec import RunSpec
from mockgc.strategies.registry import ALL, expand

SpecLike = RunSpec | Mapping[str, Any] | str | os.PathLike[str]


def as_spec(spec: SpecLike) -> RunSpec:
    """A RunSpec from a RunSpec, a mapping of its fields, or a spec file (TOML, or a run's config.json)."""
    if isinstance(spec, RunSpec):
        return spec
    if isinstance(spec, Mapping):
        return RunSpec.from_dict(spec)
    if isinstance(spec, str | os.PathLike):
        return RunSpec.load(spec)
    raise TypeError(f"a spec is a RunSpec, a mapping of its fields or a spec file's path, not {type(spec).__name__}")


def _one(spec: RunSpec) -> RunSpec:
    if len(expand(spec.mitigation)) != 1 or spec.mitigation.strip() == ALL:
        raise ValueError(f"simulate one mitigation at a time, not {spec.mitigation!r}: use spec.for_mitigation(name)")
    return spec


def simulate(spec: SpecLike) -> Result:
    """Simulate one mitigation's spec in virtual time and judge it: the result `mockgc simulate --json` writes
    (`result["verdict"]` is "holds" or "fails"; `result["sessions"]` counts each class). Same spec, same result.

    Raises ValueError for a spec that is not valid or names several mitigations, and
    mockgc.drivers.simulator.SimulationError when the run itself breaks (a runaway strategy)."""
    from mockgc.drivers.simulator import Simulator
    from mockgc.strategies.plans import plan

    return cast(Result, Simulator(plan(_one(as_spec(spec)))).run())


def story(spec: SpecLike) -> str:
    """The story of the spec's first failing session (each call in virtual time, the hold that caught it, the
    branch the customer got), as `mockgc shrink` tells it; one line when every session served its customer.
    Meant for an assertion's message: `assert result["verdict"] == "holds", mockgc.story(spec)`."""
    from mockgc.explore.shrink.probe import explicit, simulate_trace
    from mockgc.explore.shrink.story import tell

    trace = simulate_trace(explicit(_one(as_spec(spec))))
    first = trace.first_failure()
    if first is None:
        sessions = trace.result["sessions"]
        return f"every session served its customer ({sessions['ok']} of {sessions['total']} ok)"
    return tell(trace, first[0]).text()
