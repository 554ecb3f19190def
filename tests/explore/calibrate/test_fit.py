"""The fit: each fault kind's profile back from a trace of it, and the traces that cannot support a fit."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mockgc.explore.calibrate.command import calibration_json
from mockgc.explore.calibrate.fit import CannotFit, fit
from mockgc.explore.calibrate.trace import CallEvent, OrgEvent, PublishEvent, StatusEvent, Trace
from mockgc.faults import Distribution, FaultProfile, PublishLock
from tests.explore.calibrate.simulated import TRUE_PROFILES, simulated_trace


def handle_time(profile: FaultProfile) -> float:
    """Longer than the hold: a clobbered or invalidated write shows only when read back after it."""
    hold = profile.publish.hold_ms
    return 2 * (hold.median if isinstance(hold, Distribution) else hold) / 1000


@pytest.mark.parametrize("kind", ["reject", "clobber", "invalidate", "v1"])
def test_each_kind_comes_back_from_a_trace_of_it(kind: str) -> None:
    truth = TRUE_PROFILES[kind]
    calibration = fit(simulated_trace(truth, handle_time_s=handle_time(truth)))
    lock = calibration.publish_lock()
    assert lock.batch_size == truth.publish.batch_size
    assert lock.interval_ms == pytest.approx(truth.publish.interval_ms, rel=0.10)
    assert lock.hold_ms == pytest.approx(truth.publish.hold_ms, rel=0.20)
    assert (lock.platform_version, calibration.kind.value) == (truth.publish.platform_version, kind)
    if kind != "v1":
        assert lock.kind == kind
    assert lock.toxicity == 1.0
    # Every parameter says what it came from, and the interval holds the value.
    for name, estimate in calibration.parameters():
        assert estimate.evidence, name
        if estimate.low is not None and estimate.high is not None and not isinstance(estimate.value, str):
            assert estimate.low <= float(estimate.value) <= estimate.high, name


def test_a_hold_that_varies_comes_back_as_a_distribution() -> None:
    truth = TRUE_PROFILES["lognormal"]
    # Calls of each agent closer together than the interval: the batches show in the holds' starts.
    calibration = fit(simulated_trace(truth, agents=15, sessions=4000))
    lock = calibration.publish_lock()
    assert lock.batch_size == 5
    assert lock.interval_ms == pytest.approx(2000, rel=0.10)
    assert isinstance(lock.hold_ms, Distribution) and lock.hold_ms.distribution == "lognormal"
    assert lock.hold_ms.median == pytest.approx(4000, rel=0.20)
    assert 0.15 < lock.hold_ms.sigma < 0.4
    low, high = calibration.hold_sigma.low, calibration.hold_sigma.high
    assert low is not None and high is not None and low < lock.hold_ms.sigma < high


def test_toxicity_is_the_share_of_agents_held() -> None:
    truth = FaultProfile("half", "", replace(TRUE_PROFILES["reject"].publish, toxicity=0.5))
    calibration = fit(simulated_trace(truth))
    assert calibration.publish_lock().batch_size == 6  # the flips still show every batch
    assert 0.3 < float(calibration.toxicity.value) < 0.7
    assert calibration.toxicity.low is not None and calibration.toxicity.low < 0.5 < (calibration.toxicity.high or 0)


def test_the_same_trace_gives_the_same_fit() -> None:
    trace = simulated_trace(TRUE_PROFILES["lognormal"], agents=15, sessions=4000)
    first, second = (json.dumps(calibration_json(fit(trace)), sort_keys=True) for _ in range(2))
    assert first == second


def test_several_org_sizes_show_how_a_publish_scales() -> None:
    small = simulated_trace(TRUE_PROFILES["reject"], agents=18, sessions=1500)
    large = simulated_trace(TRUE_PROFILES["reject"], agents=36, sessions=3000, seed=4)
    trace = Trace("test")
    for unit, part in (("bu-small", small), ("bu-large", large)):
        trace.orgs += [replace(o, business_unit=unit) for o in part.orgs]
        trace.publishes += [replace(p, business_unit=unit, operation=f"{unit}:{p.operation}") for p in part.publishes]
        trace.statuses += [replace(s, business_unit=unit, agent=f"{unit}:{s.agent}") for s in part.statuses]
        trace.calls += [replace(c, business_unit=unit, agent=f"{unit}:{c.agent}") for c in part.calls]
    calibration = fit(trace)
    assert {row["agents"] for row in calibration.scaling} == {18, 36}
    assert "over 2 org sizes (18-36 agents)" in calibration.scaling_note
    assert calibration.publish_lock().batch_size == 6  # the same profile at both sizes
    assert "batch +0.000 agents per agent" in calibration.scaling_note


# -- what a fit needs --------------------------------------------------------------------------------------------

T0 = 1_800_000_000.0


def calls(agent: str, start: float, count: int, *, status: int = 200, error: str | None = None) -> list[CallEvent]:
    return [
        CallEvent(agent, start + 0.2 * i, "set", status, error, 20.0, session=f"{agent}-{i}", value="v")
        for i in range(count)
    ]


def test_no_publish_is_named() -> None:
    with pytest.raises(CannotFit, match="no publish"):
        fit(Trace("t", calls=calls("a", T0, 5)))


def test_no_call_inside_any_hold_is_named() -> None:
    trace = Trace(
        "t",
        [OrgEvent("bu", 2)],
        [PublishEvent("bu", "op", T0, T0 + 5)],
        [StatusEvent("a", T0 + 3, "Available", "Reserved"), StatusEvent("b", T0 + 3, "Available", "Reserved")],
        calls("a", T0 - 60, 5) + calls("b", T0 + 60, 5),
    )
    with pytest.raises(CannotFit, match="no call inside any hold"):
        fit(trace)


def test_calls_inside_holds_that_never_fault_are_too_few_held_agents() -> None:
    trace = simulated_trace(
        FaultProfile("calm-ish", "", replace(TRUE_PROFILES["reject"].publish, toxicity=0.0)), sessions=2000
    )
    with pytest.raises(CannotFit, match="too few held agents"):
        fit(trace)


def test_two_held_agents_are_too_few() -> None:
    statuses = [StatusEvent(agent, T0 + 3, "Available", "Reserved") for agent in "ab"]
    rejected = [call for agent in "ab" for call in calls(agent, T0 + 1, 3, status=400, error="script.session.locked")]
    trace = Trace("t", [OrgEvent("bu", 2)], [PublishEvent("bu", "op", T0, T0 + 3)], statuses, rejected)
    with pytest.raises(CannotFit, match=r"too few held agents: 2 \(at least 3"):
        fit(trace)


def test_an_invalidate_trace_without_its_publishes_start_is_named() -> None:
    truth = TRUE_PROFILES["invalidate"]
    recorded = simulated_trace(truth, handle_time_s=handle_time(truth))
    trace = replace(recorded, publishes=[replace(p, started=None) for p in recorded.publishes])
    with pytest.raises(CannotFit, match="publish's start"):
        fit(trace)


def test_a_clobber_seen_without_a_read_back_is_no_fault() -> None:
    """Without a handle time the lost writes never show: the fit says what to add instead of guessing."""
    with pytest.raises(CannotFit, match="--handle-time"):
        fit(simulated_trace(TRUE_PROFILES["clobber"]))


def test_the_fitted_profile_is_a_valid_profile() -> None:
    truth = TRUE_PROFILES["reject"]
    profile = fit(simulated_trace(truth)).profile("mine")
    assert FaultProfile.from_dict(profile.to_dict()) == profile
    assert isinstance(profile.publish, PublishLock) and profile.name == "mine"
