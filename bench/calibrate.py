"""Calibrate's speed: `mockgc calibrate` of a trace of 10,000+ calls, and `mockgc record` paging 10,000 conversations
through the platform's routes within its rate limit (the org's default client: 300 requests a minute)."""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from pathlib import Path

from mockgc.explore.calibrate.fit import fit
from mockgc.explore.calibrate.record import PlatformClient, Window, record
from mockgc.explore.calibrate.sources import read_trace, simulated_trace
from mockgc.explore.calibrate.trace import save
from mockgc.faults import Distribution, FaultProfile, PublishLock
from mockgc.flows.calllog import CALL_ATTRIBUTE, SESSION_ATTRIBUTE, LoggedCall, format_call
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread, stop_events
from mockgc.platform.settings import Settings

CALIBRATE_TARGET_S = 5.0  # "a few seconds at most"
ROUNDS = 3
CONVERSATIONS = 10_000
# (profile, agents): a varying hold needs calls closer together than the interval to show its batches.
PROFILES = {
    "constant hold (reject)": (FaultProfile("b", "", PublishLock(batch_size=10, interval_ms=1000, hold_ms=2500)), 50),
    "lognormal hold (reject)": (
        FaultProfile(
            "l", "", PublishLock(batch_size=5, interval_ms=2000, hold_ms=Distribution("lognormal", 4000.0, 0.25))
        ),
        20,
    ),
}


def bench_calibrate() -> None:
    print("calibrate: read a trace file and fit it (the median of 3 rounds)")
    for label, (profile, agents) in PROFILES.items():
        trace = simulated_trace(profile, agents=agents, sessions=5_500, span_s=300.0)
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "trace.jsonl"
            save(trace, path)
            seconds = []
            for _ in range(ROUNDS):
                gc.collect()
                began = time.perf_counter()
                fitted = fit(read_trace(path))
                seconds.append(time.perf_counter() - began)
        median = statistics.median(seconds)
        lock = fitted.publish_lock()
        print(
            f"  {label}: {len(trace.calls):,} calls, {len(trace.statuses):,} status changes: {median:.2f} s "
            f"({len(trace.calls) / median:,.0f} calls/s; target {CALIBRATE_TARGET_S:g} s, ratio "
            f"{median / CALIBRATE_TARGET_S:.2f}); fitted batch {lock.batch_size}, interval {lock.interval_ms} ms, "
            f"hold {lock.hold_ms}"
        )


def bench_record() -> None:
    print(f"record: {CONVERSATIONS:,} logged conversations through the details jobs, the org's client (300/min)")
    settings = Settings(seed=1, agents=100, admin_key="bench", client_id="bench", client_secret="bench-secret")
    app = create_app(settings)
    platform = app.extensions["mockgc"].platform
    agents = list(platform.agents)
    began = platform.clock.now()
    for index in range(CONVERSATIONS):
        conversation = platform.conversations.create_call(agents[index % len(agents)])
        customer = next(p for p in conversation.participants if p.purpose == "customer")
        at = platform.clock.now()
        logged = {
            f"{CALL_ATTRIBUTE}01": format_call(LoggedCall(at, "set", 200, None, 12, None, f"PREF-{index}")),
            f"{CALL_ATTRIBUTE}02": format_call(
                LoggedCall(at, "evaluate", 200, None, 9, "personalized", f"PREF-{index}")
            ),
            SESSION_ATTRIBUTE: f"session-{index}",
        }
        platform.conversations.patch_attributes(conversation.id, customer.id, logged)
    server = ServerThread(app).start()
    try:
        for page in (10_000, 1_000):
            client = PlatformClient(server.url, "bench", "bench-secret")
            started = time.perf_counter()
            trace = record(client, Window(began - 60, time.time() + 60, job_page=page))
            seconds = time.perf_counter() - started
            counters = client.counters
            print(
                f"  pages of {page:,}: {len({c.conversation for c in trace.calls}):,} conversations, "
                f"{len(trace.calls):,} calls in {seconds:.1f} s with {counters.requests} requests (the client may "
                f"make 300 a minute), {counters.throttled} 429s waited out, {counters.waited_s:.1f} s waiting "
                "(the job's polls included)"
            )
    finally:
        server.stop()
        stop_events(app)


def run() -> bool:
    bench_calibrate()
    bench_record()
    return True


if __name__ == "__main__":
    run()
