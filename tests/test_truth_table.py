"""The truth table, measured: which mitigation holds under which fault kind, plus mutants the checker must catch.

A `holds` cell must hold on every one of 20 seeds; a `fails` cell must show lost data of
the class its fault kind produces (reject and invalidate: the default branch, `lost`;
clobber: an acknowledged write undone, `ack_lost`). The table is what the mock and the
checker measure; when a cell changes, the model or a mitigation changed: find out which
before editing the table.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from mockgc.checker import exit_code
from mockgc.flows.effects import Call, Effect
from mockgc.flows.mitigations import load_mitigation
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.script import FlowContext, SessionRef
from mockgc.sim import simulate

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
            assert exit_code(result) == 0
        return
    sessions, seeds = PROBES.get((name, profile), (SESSIONS, SEEDS))
    for seed in seeds:
        result = run(name, profile, seed, sessions)
        if result["verdict"] == F:
            assert exit_code(result) == 1
            assert result["sessions"][LOSS_CLASS[profile]] > 0, result["sessions"]
            return
    pytest.fail(f"{name} on {profile} lost nothing over seeds {seeds.start}..{seeds.stop - 1}")


def test_the_table_covers_every_fault_kind_and_the_controls() -> None:
    assert set(PROFILES) == {*LOSS_CLASS, "legacy-v1", "calm"}
    assert all(len(row) == len(PROFILES) for row in TRUTH.values())
    # The seed's premise: on v1 and without faults nothing is lost, whatever the strategy.
    assert all(row[4] == row[5] == H for row in TRUTH.values())


# -- mutants: broken strategies the checker must flag ----------------------------------------


class DropsWrites(Mitigation):
    """Claims the write was acknowledged without ever sending it."""

    name = "mutant-drops-writes"

    def __init__(self) -> None:
        pass

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        yield from ()
        return True


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


class WritesAnotherCode(Mitigation):
    """Stores a code that is not the customer's."""

    name = "mutant-wrong-code"

    def __init__(self) -> None:
        pass

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        reply = yield Call("set_data", {"sessionId": session.session_id, "name": name, "value": value[::-1]})
        return bool(reply.ok)


@pytest.mark.parametrize("profile", ["calm", "seed-default"])
def test_a_strategy_that_drops_writes_is_flagged_even_without_faults(profile: str) -> None:
    result = simulate(mitigation=DropsWrites(), profile=profile, sessions=200, seed=1)
    assert result["verdict"] == F and exit_code(result) == 1
    assert result["sessions"]["ok"] == 0
    assert result["sessions"]["ack_lost"] + result["sessions"]["lost"] == 200
    assert result["anomalies"]["claimed_ack_without_write"] == 200
    assert result["requests_per_session"] == 3.0  # create_call, create_session, evaluate: no Set Data


def test_retrying_on_a_200_without_verifying_is_flagged_under_clobber() -> None:
    for seed in (1, 2, 3):
        result = simulate(mitigation=RetriesOn200(), profile="seed-clobber", sessions=SESSIONS, seed=seed)
        assert result["verdict"] == F and exit_code(result) == 1
        assert result["sessions"]["ack_lost"] > 0
        assert result["requests_per_session"] == 6.0  # it did write three times
    # The same mutant looks fine where nothing undoes an acknowledged write: only clobber exposes it.
    assert simulate(mitigation=RetriesOn200(), profile="calm", sessions=SESSIONS, seed=1)["verdict"] == H


def test_a_wrong_code_is_corrupted() -> None:
    result = simulate(mitigation=WritesAnotherCode(), profile="calm", sessions=50, seed=1)
    assert result["verdict"] == F
    assert result["sessions"]["corrupted"] == 50
