"""The verdicts carry over: on a profile calibrated from a trace of a true one, every built-in mitigation gets the
verdict it gets on the true profile (the truth table's rows), on every kind, in simulate, over several seeds.

`make calibrate-verdicts` runs it with more seeds and sessions (MOCKGC_VERDICT_SEEDS, MOCKGC_VERDICT_SESSIONS)
and prints the table.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import pytest

from mockgc.explore.calibrate.fit import fit
from mockgc.faults import FaultProfile
from mockgc.strategies.registry import load_mitigation
from tests.conftest import simulate
from tests.explore.calibrate.simulated import TRUE_PROFILES, simulated_trace

SEEDS = range(1, 1 + int(os.environ.get("MOCKGC_VERDICT_SEEDS", "2")))
SESSIONS = int(os.environ.get("MOCKGC_VERDICT_SESSIONS", "150"))
KINDS = ("reject", "clobber", "invalidate", "v1", "lognormal")
# The README truth table's rows: name -> (mitigation, params).
ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "none": ("none", {}),
    "soft-hold": ("soft-hold", {}),
    "retry": ("retry", {}),
    "retry[retry_evaluate]": ("retry", {"retry_evaluate": True}),
    "window-guard": ("window-guard", {}),
    "window-guard[weekly]": ("window-guard", {"variant": "weekly"}),
    "backoff-verify": ("backoff-verify", {}),
    "external-store": ("external-store", {}),
    "async-worker": ("async-worker", {}),
}


@cache
def calibrated(kind: str) -> FaultProfile:
    """The true profile of `kind`, as calibrate fits it from a simulated trace of it (read back after the hold)."""
    truth = TRUE_PROFILES[kind]
    hold = truth.publish.hold_ms
    handle_time = 2 * (hold if isinstance(hold, int) else hold.median) / 1000
    sizes = {"agents": 15, "sessions": 4000} if kind == "lognormal" else {}
    return fit(simulated_trace(truth, handle_time_s=handle_time, **sizes)).profile(f"calibrated-{kind}")


def verdict(row: str, profile: FaultProfile) -> str:
    """Fails when any seed loses (as the truth table's cells are read), else holds."""
    name, params = ROWS[row]
    verdicts = {
        simulate(mitigation=load_mitigation(name, **params), profile=profile, sessions=SESSIONS, seed=seed)["verdict"]
        for seed in SEEDS
    }
    return "fails" if "fails" in verdicts else "holds"


@pytest.mark.parametrize("kind", KINDS)
def test_every_row_gets_its_true_verdict_on_the_calibrated_profile(kind: str) -> None:
    truth, fitted = TRUE_PROFILES[kind], calibrated(kind)
    table = {row: (verdict(row, truth), verdict(row, fitted)) for row in ROWS}
    print(f"\n{kind}: " + ", ".join(f"{row} {t}/{f}" for row, (t, f) in table.items()))
    assert {row: pair for row, pair in table.items() if pair[0] != pair[1]} == {}
    assert {t for t, _ in table.values()} == {"holds", "fails"} or kind == "v1"  # the kinds tell strategies apart
