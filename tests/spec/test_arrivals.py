"""Explicit arrivals: the spec says which session arrives when on which agent, and the simulator runs exactly that."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockgc.drivers.simulator import Simulator
from mockgc.spec.arrivals import Arrival, parse_arrivals
from mockgc.spec.runspec import RunSpec
from mockgc.strategies.plans import plan


def simulator(spec: RunSpec) -> Simulator:
    return Simulator(plan(spec))


def simulated(spec: RunSpec) -> str:
    return json.dumps(simulator(spec).run(), sort_keys=True)


def drawn(spec: RunSpec) -> tuple[Arrival, ...]:
    return tuple(simulator(spec).arrivals())


def test_the_drawn_arrivals_written_out_run_the_same_run_byte_for_byte(tmp_path: Path) -> None:
    spec = RunSpec(mitigation="retry", profile="long-hold", sessions=400, seed=3, agents=20)
    arrivals = drawn(spec)
    assert [a.session for a in arrivals] == list(range(400))
    assert {a.agent for a in arrivals} == set(range(20))
    assert all(0 <= a.at < 150 for a in arrivals) and list(arrivals) == sorted(arrivals)
    baseline = simulated(spec)
    explicit = spec.with_options(arrivals=arrivals)
    assert simulated(explicit) == baseline
    # Through every form a spec travels in: config.json's JSON, and a TOML file.
    assert simulated(RunSpec.from_json(explicit.to_json())) == baseline
    import tomli_w

    path = tmp_path / "spec.toml"
    path.write_text(tomli_w.dumps({k: v for k, v in explicit.as_dict().items() if v is not None}))
    assert RunSpec.load(path) == explicit


def test_a_session_taken_out_of_a_run_keeps_its_key_and_meets_the_same_network() -> None:
    spec = RunSpec(mitigation="none", profile="seed-default", sessions=300, seed=2)
    arrivals = drawn(spec)
    whole = simulator(spec.with_options(arrivals=arrivals))
    whole.run()
    alone = simulator(spec.with_options(sessions=1, arrivals=(arrivals[123],)))
    alone.run()

    def calls(history: list[dict[str, object]], key: str) -> list[tuple[object, ...]]:
        return [(e["type"], e.get("f"), e["time"], e.get("status")) for e in history if e.get("key") == key]

    assert calls(alone.history.entries, "s123") == calls(whole.history.entries, "s123") != []


@pytest.mark.parametrize(
    ("arrivals", "message"),
    [
        ("61", "arrivals must be a list"),
        ([{"at": 61}], "an arrival is a table"),
        ([{"at": -1, "agent": 0, "session": 0}], "between 0 and"),
        ([{"at": "soon", "agent": 0, "session": 0}], "at must be a number"),
        ([{"at": 1, "agent": 0.5, "session": 0}], "agent must be an integer"),
        ([{"at": 1, "agent": -1, "session": 0}], "must not be negative"),
        ([{"at": 1, "agent": 0, "session": 0}, {"at": 2, "agent": 0, "session": 0}], "arrive once"),
        ([{"at": 1, "agent": 9, "session": 0}], "the org has 5"),
        ([{"at": 1, "agent": 0, "session": 0}, {"at": 2, "agent": 1, "session": 4}], "sessions is 1 but 2"),
    ],
)
def test_bad_arrivals_are_one_readable_error(arrivals: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunSpec.from_dict({"agents": 5, "sessions": 1, "arrivals": arrivals})


def test_arrivals_are_kept_in_time_order_and_accept_their_three_fields_as_a_list() -> None:
    parsed = parse_arrivals([[2.5, 1, 7], {"at": 1, "agent": 0, "session": 9}])
    assert parsed == (Arrival(1.0, 0, 9), Arrival(2.5, 1, 7))
