"""Regression truth table for the decoupled-state mitigations (external-store, async-worker), simulated.

Pinned findings (the CLI's default run: 1000 sessions, seed 1, 3 publishes): the external store
holds under every lock profile (the platform never sees the value); the async worker makes every
value durable on every profile but cannot change a branch already taken, so it fails wherever a
customer's branch was evaluated before the repair landed: many under reject, a few under clobber
(evaluated after the snapshot came back) and invalidate (written after the flip). Store failures
are never silent: they show up as lost or indeterminate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockgc.faults import PROFILES
from mockgc.stores import StoreError, open_store
from mockgc.strategies.registry import load_mitigation
from tests.conftest import simulate

SESSIONS = 300
SEED = 11
TABLE_SESSIONS, TABLE_SEED = 1000, 1


def run(mitigation: Any, profile: str, **kwargs: Any) -> dict[str, Any]:
    return simulate(mitigation=mitigation, profile=profile, sessions=SESSIONS, seed=SEED, **kwargs)


def bad(result: dict[str, Any]) -> int:
    s = result["sessions"]
    return int(s["lost"] + s["ack_lost"] + s["corrupted"])


# (mitigation, profile, verdict, lost): the rows the README's "What we found" reports.
TABLE = [
    ("external-store", "seed-default", "holds", 0),
    ("external-store", "seed-clobber", "holds", 0),
    ("external-store", "seed-invalidate", "holds", 0),
    ("external-store", "long-hold", "holds", 0),
    ("external-store", "legacy-v1", "holds", 0),
    ("external-store", "calm", "holds", 0),
    ("async-worker", "seed-default", "fails", 31),
    ("async-worker", "seed-clobber", "fails", 1),
    ("async-worker", "seed-invalidate", "fails", 3),
    ("async-worker", "long-hold", "fails", 83),
    ("async-worker", "legacy-v1", "holds", 0),
    ("async-worker", "calm", "holds", 0),
]


@pytest.mark.parametrize(("mitigation", "profile", "verdict", "lost"), TABLE)
def test_truth_table(mitigation: str, profile: str, verdict: str, lost: int) -> None:
    result = simulate(mitigation=mitigation, profile=profile, sessions=TABLE_SESSIONS, seed=TABLE_SEED)
    assert (result["verdict"], result["sessions"]["lost"]) == (verdict, lost), result["sessions"]
    assert result["sessions"]["total"] == TABLE_SESSIONS
    assert result["sessions"]["indeterminate"] == result["sessions"]["ack_lost"] == result["sessions"]["corrupted"] == 0
    # Both keep every value durable on every profile; they differ in what the customer got.
    assert result["durability"]["durable"] == TABLE_SESSIONS
    if mitigation == "async-worker":
        assert result["worker"]["webhooks"]["delivered"] == 3  # one per publish
        assert result["consistency"]["repaired"] > 0
        assert result["consistency"]["time_to_consistency_ms"]["p50"] > 0
        # Every session the worker could not save is a customer who already got the default branch.
        assert result["consistency"]["outcome_gap"] == lost
    else:
        assert result["consistency"]["repaired"] == 0
        assert "400" not in result["http"]  # it never wrote to the platform's session at all
        assert result["store"] == {"calls": 2 * TABLE_SESSIONS, "failures": 0}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_external_store_holds_on_every_profile_and_20_seeds_on_evidence(profile: str) -> None:
    """No false alarm from the evidence rule: every branch was read from the store, and is durable there."""
    for seed in range(1, 21):
        result = simulate(mitigation="external-store", profile=profile, sessions=100, seed=seed)
        assert result["verdict"] == "holds", (seed, result["sessions"])
        assert result["sessions"]["ok"] == result["outcome"]["personalized_ok"] == 100
        assert result["sessions"]["unverified"] == 0


def test_the_worker_is_what_saves_clobbered_writes() -> None:
    """Without the worker the same run loses acknowledged writes; with it, none."""
    baseline = run("none", "seed-clobber")
    repaired = run("async-worker", "seed-clobber")
    assert baseline["sessions"]["ack_lost"] > 0
    assert repaired["sessions"]["ack_lost"] == 0
    assert repaired["consistency"]["repaired"] >= baseline["sessions"]["ack_lost"]


def test_under_reject_the_worker_fixes_durability_not_the_outcome() -> None:
    baseline = run("none", "seed-default")
    result = run("async-worker", "seed-default")
    assert baseline["durability"]["not_stored"] > 0
    assert result["durability"]["not_stored"] == 0
    assert result["sessions"]["lost"] == result["consistency"]["outcome_gap"] > 0
    assert (
        result["consistency"]["time_to_consistency_ms"]["max"] >= result["consistency"]["time_to_consistency_ms"]["p50"]
    )


@pytest.mark.parametrize("mitigation", ["external-store", "async-worker"])
def test_same_seed_same_json(mitigation: str) -> None:
    first = json.dumps(run(mitigation, "seed-default"), sort_keys=True)
    assert first == json.dumps(run(mitigation, "seed-default"), sort_keys=True)
    assert first != json.dumps(
        simulate(mitigation=mitigation, profile="seed-default", sessions=SESSIONS, seed=SEED + 1)
    )


def test_webhook_retries_are_modelled_in_virtual_time() -> None:
    prompt = run("async-worker", "seed-clobber")
    late = run(load_mitigation("async-worker", webhook_failures=2), "seed-clobber")
    assert late["worker"]["webhooks"]["attempts"] == 3 * 3  # two failures and a success per publish
    assert late["verdict"] == "holds" and late["durability"]["durable"] == SESSIONS
    # Retries after 1 s and 2 s, each attempt 50 ms on the wire: the worker hears of each publish 3.1 s later...
    received = [
        late["worker"]["jobs"][op]["receivedAt"] - job["receivedAt"] for op, job in prompt["worker"]["jobs"].items()
    ]
    assert received == pytest.approx([3.1, 3.1, 3.1], abs=0.002)
    # ...which is later than its 1 s settle wait, so consistency comes later too.
    ttc = "time_to_consistency_ms"
    assert late["consistency"][ttc]["p50"] > prompt["consistency"][ttc]["p50"] + 1500


def test_a_webhook_that_never_arrives_leaves_clobbered_writes_lost() -> None:
    result = run(load_mitigation("async-worker", webhook_failures=5), "seed-clobber")
    assert result["worker"]["webhooks"]["failed"] == 3
    assert result["consistency"]["repaired"] == 0
    assert result["sessions"]["ack_lost"] > 0 and result["verdict"] == "fails"


class FailingStore:
    """A store that is down for writes, and for the first `failing_reads` reads (the flows' own):
    the run's end, where the simulator reads what was stored, finds it back up and empty."""

    def __init__(self, reads_fail: bool) -> None:
        self.failing_reads = SESSIONS if reads_fail else 0

    def put(self, key: str, value: str) -> None:
        raise StoreError("connection refused")

    def get(self, key: str) -> str | None:
        if self.failing_reads > 0:
            self.failing_reads -= 1
            raise StoreError("timed out")
        return None

    def items(self, prefix: str = "") -> dict[str, str]:
        raise StoreError("connection refused")

    def close(self) -> None:
        pass


def test_a_store_down_for_writes_is_seen_as_lost_never_as_success() -> None:
    result = run("external-store", "calm", store=FailingStore(reads_fail=False))
    assert result["verdict"] == "fails"
    assert result["sessions"]["lost"] == SESSIONS  # the branch fell back to default every time
    assert result["durability"]["not_stored"] == SESSIONS
    assert result["store"]["failures"] == SESSIONS
    assert result["http"].get("0", 0) == 0  # store failures are counted apart from platform calls


def test_a_store_down_for_reads_too_is_indeterminate() -> None:
    result = run("external-store", "calm", store=FailingStore(reads_fail=True))
    assert result["sessions"]["indeterminate"] == SESSIONS
    assert result["store"]["failures"] == 2 * SESSIONS
    assert result["sessions"]["ok"] == 0


def test_async_worker_with_its_store_down_cannot_repair() -> None:
    result = run("async-worker", "seed-clobber", store=FailingStore(reads_fail=True))
    assert result["consistency"]["repaired"] == 0
    assert result["store"]["failures"] == SESSIONS  # every intent record failed, visibly
    assert result["sessions"]["ack_lost"] > 0 and result["verdict"] == "fails"


def test_external_store_on_a_real_sqlite_file(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/sim.db")
    result = run("external-store", "seed-default", store=store)
    assert result["verdict"] == "holds"
    assert len(store.items("mockgc:es:")) == SESSIONS
