"""`mockgc compare` is never a silent pass: one result against one is compared whatever its name, a result without a
partner is named and fails the comparison (exit 2) unless allowed, and a different load is flagged (exit 2 with
--strict)."""

from __future__ import annotations

from typing import Any

from mockgc.checker.compare import diff, exit_code, load_of, markdown
from mockgc.checker.result import Result
from tests.checker.test_gate import result


def live(mitigation: str, verdict: str, *, users: int = 50, duration: float = 30.0, **extra: Any) -> Result:
    run = {"users": users, "duration": duration, "think_time": 1.0, "agents": 50}
    return result(mitigation, verdict, run=run, windows=[[0, 1], [2, 3]], **extra)


def test_one_result_against_one_is_compared_directly_whatever_their_names() -> None:
    baseline, candidate = live("none", "fails"), live("backoff-verify", "holds", lost=0, ack_lost=0)
    comparison = diff([baseline], [candidate], a_name="runs/none", b_name="runs/backoff-verify")
    (pair,) = comparison["pairs"]
    assert pair["mitigation"] == "none against backoff-verify" and not pair["only_in"]
    assert pair["a_is"] == "none on seed-default, seed 1" and pair["b_is"] == "backoff-verify on seed-default, seed 1"
    assert next(r for r in pair["rows"] if r["figure"] == "verdict")["change"] == "fails -> holds"
    assert comparison["paired"] == 1 and comparison["unpaired"] == [] and comparison["load_differs"] == []
    assert exit_code(comparison) == (0, "B loses no larger share of its sessions than A")
    # The other way round, B is worse: compared, and it fails the comparison.
    assert exit_code(diff([candidate], [baseline]))[0] == 1


def test_results_that_pair_with_nothing_fail_the_comparison_unless_allowed() -> None:
    a = [result("none", "fails"), result("retry", "fails")]
    b = [result("none", "fails", profile="seed-clobber"), result("retry", "fails", profile="seed-clobber")]
    comparison = diff(a, b)
    assert comparison["paired"] == 0 and len(comparison["unpaired"]) == 4
    code, why = exit_code(comparison, allow_unpaired=True)
    assert code == 2 and why.startswith("nothing was compared")  # nothing paired is never a pass
    partly = diff(a, [result("none", "fails")])
    assert partly["paired"] == 1 and partly["unpaired"] == ["retry on seed-default, seed 1 (only in A)"]
    code, why = exit_code(partly)
    assert code == 2 and "retry on seed-default, seed 1 (only in A)" in why and "--allow-unpaired" in why
    assert exit_code(partly, allow_unpaired=True)[0] == 0
    assert "**Only in A: not compared.**" in markdown(partly)


def test_a_different_load_is_flagged_and_strict_makes_it_exit_2() -> None:
    a, b = live("none", "fails", users=50), live("none", "fails", users=100, duration=60.0, seed=2)
    comparison = diff([a], [b])
    (pair,) = comparison["pairs"]
    assert pair["load_differs"] == ["seed", "users", "duration_s"]
    assert comparison["load_differs"] == ["none"]
    assert exit_code(comparison)[0] == 0  # flagged, not failed
    code, why = exit_code(comparison, strict=True)
    assert code == 2 and "different load" in why
    assert "| load: users | 50 | 100 | **differs** |" in markdown(comparison)
    # A worse B under --strict and a different load: the harness's 2 comes first.
    worse = diff([live("none", "holds", lost=0, ack_lost=0)], [b])
    assert exit_code(worse)[0] == 1 and exit_code(worse, strict=True)[0] == 2


def test_the_load_of_a_simulation_and_of_a_live_run() -> None:
    simulated = result("none", "fails", agents=50, publishes=3, simulation={"sessions_requested": 300})
    assert load_of(simulated) | {} == {
        "driver": "simulation",
        "fault_profile": "seed-default",
        "seed": 1,
        "agents": 50,
        "publishes": 3,
        "sessions asked for": 300,
        "users": None,
        "duration_s": None,
        "think_time_s": None,
    }
    assert load_of(live("none", "fails"))["users"] == 50 and load_of(live("none", "fails"))["publishes"] == 2
    # A simulation against a live run: not the same experiment.
    assert "driver" in diff([simulated], [live("none", "fails")])["pairs"][0]["load_differs"]
