"""Traces made by the simulator: a profile the fit is not told, run in virtual time, recorded as a run directory is."""

from __future__ import annotations

from functools import cache

from mockgc.explore.calibrate.sources import simulated_trace as make_trace
from mockgc.explore.calibrate.trace import Trace
from mockgc.faults import Distribution, FaultProfile, PublishLock

# A profile per kind, none of them a built-in one: other batches, intervals and holds than the field report's.
TRUE_PROFILES = {
    "reject": FaultProfile("true-reject", "", PublishLock(batch_size=6, interval_ms=1300, hold_ms=3000, kind="reject")),
    "clobber": FaultProfile(
        "true-clobber", "", PublishLock(batch_size=4, interval_ms=1700, hold_ms=3500, kind="clobber")
    ),
    "invalidate": FaultProfile(
        "true-invalidate", "", PublishLock(batch_size=8, interval_ms=900, hold_ms=2200, kind="invalidate")
    ),
    "v1": FaultProfile("true-v1", "", PublishLock(batch_size=5, interval_ms=1500, hold_ms=2000, platform_version="v1")),
    "lognormal": FaultProfile(
        "true-lognormal",
        "",
        PublishLock(batch_size=5, interval_ms=2000, hold_ms=Distribution("lognormal", 4000.0, 0.25), kind="reject"),
    ),
}


@cache  # tests share a trace; none may change it (copy with dataclasses.replace)
def simulated_trace(
    profile: FaultProfile,
    *,
    agents: int = 24,
    sessions: int = 2000,
    seed: int = 3,
    handle_time_s: float = 0.0,
) -> Trace:
    return make_trace(profile, agents=agents, sessions=sessions, seed=seed, handle_time_s=handle_time_s)
