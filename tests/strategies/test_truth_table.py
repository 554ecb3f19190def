"""The truth table, measured: which mitigation holds under which fault kind, plus planted strategies it must catch.

A `holds` cell must hold on every one of 20 seeds; a `fails` cell must show lost data of
the class its fault kind produces (reject and invalidate: the default branch, `lost`;
clobber: an acknowledged write undone, `ack_lost`). The table is what the mock and the
checker measure; when a cell changes, the model or a mitigation changed: find out which
before editing the table.

The planted strategies (tests/planted.py) lie about what happened, or never end: each one must
fail the verdict, or stop the run as a runaway, on every profile and several seeds.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from mockgc.checker.check import check
from mockgc.checker.result import verdict_exit
from mockgc.drivers.simulator import SimulationError
from mockgc.faults import PROFILES as FAULT_PROFILES
from mockgc.flows.context import FlowContext, SessionRef
from mockgc.flows.effects import Call, Effect
from mockgc.flows.mitigations.base import Mitigation
from mockgc.strategies.registry import load_mitigation
from tests import planted
from tests.conftest import simulate, simulator

H, F = "holds", "fails"
SEEDS = range(1, 21)
SESSIONS = 150  # per seed: ~35 ms a run, and enough sessions meet a hold on every seed
PROFILES = ("seed-default", "seed-clobber", "seed-invalidate", "long-hold", "legacy-v1", "calm")
LOSS_CLASS = {"seed-default": "lost", "seed-clobber": "ack_lost", "seed-invalidate": "lost", "long-hold": "lost"}

# name -> (mitigation, params)
STRATEGIES: dict[str, tuple[str, dict[str, Any]]] = {
    "none": ("none", {}),
    "soft-hold": ("soft-hold", {}),
    "retry": ("retry", {}),
    "window-guard": ("window-guard", {}),
    "window-guard[weekly]": ("window-guard", {"variant": "weekly"}),
    "backoff-verify": ("backoff-verify", {}),
}

#                         seed-default seed-clobber seed-invalidate long-hold legacy-v1 calm
TRUTH: dict[str, tuple[str, ...]] = {
    "none": (F, F, F, F, H, H),
    # A 250-750 ms shift against 2.5 s holds only moves which sessions are hit.
    "soft-hold": (F, F, F, F, H, H),
    # Set Data is retried, but the plain evaluate can still land in the hold (rarely);
    # a 200 is trusted (clobber); it never re-attaches (invalidate); 3 x 2 s < 6 s (long-hold).
    "retry": (F, F, F, F, H, H),
    # Check-then-act: a publish that starts between the check and the write/evaluate is
    # missed (rarely); waiting for the publish to end outlives the session's context (invalidate).
    "window-guard": (F, F, F, F, H, H),
    # Right only because the simulated publishes fall in Monday 06:00-07:00 Chicago; the
    # deferred write still meets an invalidated session.
    "window-guard[weekly]": (H, H, F, H, H, H),
    # Read-after-write sees the value before the hold ends and the snapshot undoes it.
    "backoff-verify": (H, F, H, H, H, H),
}

# Cells that fail too rarely for 20 x 150 sessions to show it: a bigger probe (sessions, seeds).
PROBES: dict[tuple[str, str], tuple[int, range]] = {
    ("window-guard", "seed-clobber"): (1000, SEEDS),
}

CELLS = [(name, profile, TRUTH[name][i]) for name in TRUTH for i, profile in enumerate(PROFILES)]


def run(name: str, profile: str, seed: int, sessions: int = SESSIONS) -> dict[str, Any]:
    spec, params = STRATEGIES[name]
    return simulate(mitigation=load_mitigation(spec, **params), profile=profile, sessions=sessions, seed=seed)


@pytest.mark.parametrize("name, profile, expected", CELLS, ids=[f"{n}-{p}-{e}" for n, p, e in CELLS])
def test_truth_table(name: str, profile: str, expected: str) -> None:
    if expected == H:
        for seed in SEEDS:
            result = run(name, profile, seed)
            counts = result["sessions"]
            assert result["verdict"] == H, f"{name} on {profile}, seed {seed}: {counts}"
            assert counts["ok"] == counts["total"] == SESSIONS
            assert verdict_exit(result["verdict"]) == 0
        return
    sessions, seeds = PROBES.get((name, profile), (SESSIONS, SEEDS))
    for seed in seeds:
        result = run(name, profile, seed, sessions)
        if result["verdict"] == F:
            assert verdict_exit(result["verdict"]) == 1
            assert result["sessions"][LOSS_CLASS[profile]] > 0, result["sessions"]
            return
    pytest.fail(f"{name} on {profile} lost nothing over seeds {seeds.start}..{seeds.stop - 1}")


def test_the_table_covers_every_fault_kind_and_the_controls() -> None:
    assert set(PROFILES) == {*LOSS_CLASS, "legacy-v1", "calm"}
    assert all(len(row) == len(PROFILES) for row in TRUTH.values())
    # The seed's premise: on v1 and without faults nothing is lost, whatever the strategy.
    assert all(row[4] == row[5] == H for row in TRUTH.values())


# -- planted: broken strategies the verdict must catch on every profile ----------------------------

ALL_PROFILES = tuple(FAULT_PROFILES)  # every profile `mockgc profiles` lists
PLANTED_SEEDS = (1, 2, 3)
PLANTED_SESSIONS = 100
# How each planted strategy is caught: the class every one of its sessions lands in (or, where a
# fault can turn its evaluate into a default branch, the class the others land in).
CAUGHT_AS: dict[type[Mitigation], str] = {
    planted.FabricatedBranch: "unverified",
    planted.FabricatedAfterWrite: "unverified",
    planted.FakeAck: "ack_lost",
    planted.WrongValue: "corrupted",
    planted.WrongVariable: "unverified",
}


@pytest.mark.parametrize("profile", ALL_PROFILES)
@pytest.mark.parametrize("strategy", planted.CAUGHT_BY_THE_VERDICT, ids=lambda cls: cls.name)
def test_a_planted_strategy_fails_on_every_profile_and_seed(strategy: type[Mitigation], profile: str) -> None:
    for seed in PLANTED_SEEDS:
        result = simulate(mitigation=strategy(), profile=profile, sessions=PLANTED_SESSIONS, seed=seed)
        counts = result["sessions"]
        assert result["verdict"] == F and verdict_exit(result["verdict"]) == 1, (
            f"{strategy.name} on {profile}, seed {seed}"
        )
        assert counts["ok"] == 0, counts  # no session of a broken strategy passes for a good one
        caught = counts[CAUGHT_AS[strategy]]
        if strategy in (planted.FabricatedBranch, planted.FabricatedAfterWrite, planted.FakeAck):
            assert caught == PLANTED_SESSIONS, counts
        else:
            assert caught > 0 and caught + counts["lost"] == PLANTED_SESSIONS, counts
    if strategy is planted.FakeAck:
        assert result["anomalies"]["claimed_ack_without_write"] == PLANTED_SESSIONS


def test_a_fabricated_branch_is_caught_whatever_was_stored() -> None:
    """Where the honest write landed the value is durable, and the branch still does not count."""
    result = simulate(mitigation=planted.FabricatedAfterWrite(), profile="calm", sessions=PLANTED_SESSIONS, seed=1)
    assert result["durability"]["durable"] == PLANTED_SESSIONS
    assert result["outcome"]["unverified"] == PLANTED_SESSIONS
    assert result["anomalies"]["claimed_ack_without_write"] == 0


def forge_evaluations(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history as a recorder in the strategy's own process could rewrite it (a live run's
    Locust user records its own calls): an evaluate that answered the claimed branch, before each flow."""
    forged: list[dict[str, Any]] = []
    for entry in entries:
        if entry["type"] == "flow":
            claim, at = entry["value"], entry["time"]
            params = {"sessionId": claim["sessionId"], "variable": "preferenceCode"}
            answer = params | {"value": claim["value"], "branch": claim["branch"]}
            base = {"process": entry["process"], "key": entry["key"], "f": "evaluate", "time": at}
            forged += [
                base | {"type": "invoke", "params": params},
                base | {"type": "ok", "status": 200, "value": answer},
            ]
        forged.append(entry)
    return forged


def test_a_forged_evaluate_record_is_refuted_by_the_mocks_own_log() -> None:
    sim = simulator(mitigation=planted.FabricatedAfterWrite(), profile="calm", sessions=PLANTED_SESSIONS, seed=1)
    sim.run()
    history, truth = forge_evaluations(sim.history.entries), sim.platform.ground_truth()

    def judge(truth: dict[str, Any]) -> dict[str, Any]:
        return check(history, truth, [], mitigation=sim.label, fault_profile="calm", seed=1)

    result = judge(truth)
    assert result["verdict"] == F and result["sessions"]["unverified"] == PLANTED_SESSIONS
    assert result["anomalies"]["evaluate_not_in_mock_log"] == PLANTED_SESSIONS
    # Without the log (a platform that keeps none), the history alone cannot tell the forgery.
    blind = {sid: {k: v for k, v in record.items() if k != "evaluatedPersonalized"} for sid, record in truth.items()}
    assert judge(blind)["sessions"]["ok"] == PLANTED_SESSIONS


@pytest.mark.parametrize("profile", ALL_PROFILES)
@pytest.mark.parametrize("strategy", planted.RUNAWAYS, ids=lambda cls: cls.name)
def test_a_runaway_strategy_stops_the_run_on_every_profile(strategy: type[Mitigation], profile: str) -> None:
    for seed in (1, 2):
        with pytest.raises(SimulationError, match=rf"^runaway flow: {strategy.name}, session s\d+: "):
            simulate(mitigation=strategy(), profile=profile, sessions=50, seed=seed)


class RetriesOn200(Mitigation):
    """Writes again after a 200 (belt and braces) but never reads anything back."""

    name = "mutant-retries-on-200"

    def __init__(self, *, times: int = 3) -> None:
        self.times = times

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        acknowledged = False
        for _ in range(self.times):
            reply = yield Call("set_data", {"sessionId": session.session_id, "name": name, "value": value})
            acknowledged = acknowledged or reply.ok
        return acknowledged


def test_retrying_on_a_200_without_verifying_is_flagged_under_clobber() -> None:
    for seed in (1, 2, 3):
        result = simulate(mitigation=RetriesOn200(), profile="seed-clobber", sessions=SESSIONS, seed=seed)
        assert result["verdict"] == F and verdict_exit(result["verdict"]) == 1
        assert result["sessions"]["ack_lost"] > 0
        assert result["requests_per_session"] == 6.0  # it did write three times
    # The same mutant looks fine where nothing undoes an acknowledged write: only clobber exposes it.
    assert simulate(mitigation=RetriesOn200(), profile="calm", sessions=SESSIONS, seed=1)["verdict"] == H


def test_fake_ack_sends_no_set_data() -> None:
    result = simulate(mitigation=planted.FakeAck(), profile="calm", sessions=PLANTED_SESSIONS, seed=1)
    assert result["requests_per_session"] == 3.0  # create_call, create_session, evaluate: no Set Data
