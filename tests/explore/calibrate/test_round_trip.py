"""The round trip, live: load against the mock under profiles the tools are not told, then `record` with credentials
only and `calibrate`. One `mockgc run` covers every fault kind: a publish per kind, each under its own hidden
profile (a watcher switches the mock's profile once the publish before it has started; a publish keeps the
holds it planned). Each kind must come back with its batch size exactly, its interval within 10%, its hold's
median within 20%, and the kind itself; from the recorded trace and from the run directory alike."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgc.explore.calibrate.fit import Calibration, fit
from mockgc.explore.calibrate.profiles import profile_toml
from mockgc.explore.calibrate.record import PlatformClient, Window, record
from mockgc.explore.calibrate.sources import read_trace
from mockgc.explore.calibrate.trace import Trace
from mockgc.faults import Distribution, FaultProfile, PublishLock, nominal_ms
from mockgc.platform.http.app import create_app
from mockgc.platform.serve.server import ServerThread, stop_events
from mockgc.platform.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
ADMIN_KEY, CLIENT, SECRET = "trip-admin", "team-client", "team-secret"
# The hidden profiles, one publish each, in this order. None is a built-in one; the first holds vary.
HIDDEN = (
    ("reject", FaultProfile("hidden-reject", "", PublishLock(batch_size=3, interval_ms=2000, hold_ms=Distribution("lognormal", 2500.0, 0.2), kind="reject"))),
    ("clobber", FaultProfile("hidden-clobber", "", PublishLock(batch_size=3, interval_ms=1200, hold_ms=2500, kind="clobber"))),
    ("invalidate", FaultProfile("hidden-invalidate", "", PublishLock(batch_size=6, interval_ms=900, hold_ms=2000, kind="invalidate"))),
    ("v1", FaultProfile("hidden-v1", "", PublishLock(batch_size=4, interval_ms=1500, hold_ms=2000, platform_version="v1"))),
)  # fmt: skip
# The first once the load flows (Locust's users log in first); each next once the one before has flipped
# everyone and the reads after its holds are done.
PUBLISH_AT = (6.0, 20.0, 30.0, 37.0)
DURATION_S = 45
HANDLE_TIME_S = 3.0  # longer than the clobber's and the invalidate's holds: their lost writes show in the read-back
AGENTS = 12


@dataclass
class RoundTrip:
    url: str
    out: Path
    starts: list[float]  # each publish's start, as the mock planned it (the test's bookkeeping, not the tools')


def switch_profiles(url: str, done: threading.Event) -> None:
    """Before publish k starts (and after publish k-1 planned its holds), the mock's profile becomes hidden k."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    switched = 1  # the run starts on the first hidden profile
    while not done.wait(0.05) and switched < len(HIDDEN):
        started = len(requests.get(f"{url}/mock/windows", headers=headers, timeout=10).json()["operations"])
        if started >= switched:
            body = HIDDEN[switched][1].to_dict()
            requests.put(f"{url}/mock/faults/profile", json=body, headers=headers, timeout=10).raise_for_status()
            switched += 1


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoundTrip]:
    out = tmp_path_factory.mktemp("trip") / "run"
    profile_file = out.parent / "first.toml"
    profile_file.write_text(profile_toml(HIDDEN[0][1]))
    settings = Settings(seed=5, agents=AGENTS, admin_key=ADMIN_KEY, client_id=CLIENT, client_secret=SECRET)
    app = create_app(settings)
    # Threads enough for every request a v1 hold keeps waiting: with too few, a call queues behind them and
    # reaches the mock long after it was made (a served mock's thread pool is not the platform).
    server = ServerThread(app, threads=128).start()
    done = threading.Event()
    watcher = threading.Thread(target=switch_profiles, args=(server.url, done), daemon=True)
    try:
        watcher.start()
        command = [
            sys.executable, "-m", "mockgc.cli", "run", "--quiet", "--target", server.url, "--admin-key", ADMIN_KEY,
            "-m", "none", "--profile", str(profile_file), "--agents", str(AGENTS), "--seed", "5",
            "--users", "96", "--spawn-rate", "30", "--think-time", "1", "--duration", str(DURATION_S),
            "--publish-at", ",".join(f"{p:g}" for p in PUBLISH_AT), "--drain-timeout", "6",
            "--log-attributes", "--handle-time", f"{HANDLE_TIME_S:g}", "--out", str(out),
        ]  # fmt: skip
        run = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
        assert run.returncode in (0, 1), run.stdout + run.stderr
        windows = requests.get(f"{server.url}/mock/windows", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()
        starts = sorted(op["startedEpochMs"] / 1000 for op in windows["operations"])
        assert len(starts) == len(HIDDEN), windows
        yield RoundTrip(server.url, out, starts)
    finally:
        done.set()
        watcher.join(timeout=5)
        server.stop()
        stop_events(app)


def window_of(trip: RoundTrip, index: int) -> tuple[float, float]:
    """Publish `index`'s span: from just before it to just before the next (the run's end for the last)."""
    end = trip.starts[index + 1] - 0.5 if index + 1 < len(trip.starts) else trip.starts[index] + 30
    return trip.starts[index] - 0.5, end


def assert_fits(calibration: Calibration, kind: str, truth: FaultProfile) -> dict[str, Any]:
    lock, true_lock = calibration.publish_lock(), truth.publish
    assert calibration.kind.value == kind, calibration.kind
    assert lock.batch_size == true_lock.batch_size, calibration.batch_size
    assert lock.interval_ms == pytest.approx(true_lock.interval_ms, rel=0.10), calibration.interval_ms
    fitted_hold, true_hold = nominal_ms(lock.hold_ms), nominal_ms(true_lock.hold_ms)
    assert fitted_hold == pytest.approx(true_hold, rel=0.20), calibration.hold_median_ms
    return {
        "kind": kind,
        "batch": lock.batch_size,
        "interval_error": round(lock.interval_ms / true_lock.interval_ms - 1, 3),
        "hold_error": round(fitted_hold / true_hold - 1, 3),
    }


@pytest.mark.parametrize("index", range(len(HIDDEN)), ids=[kind for kind, _ in HIDDEN])
def test_record_then_calibrate_gives_back_the_hidden_profile(trip: RoundTrip, index: int) -> None:
    kind, truth = HIDDEN[index]
    start, end = window_of(trip, index)
    client = PlatformClient(trip.url, CLIENT, SECRET)  # the org's own client: 300 requests a minute
    trace = record(client, Window(start, end))
    assert len(trace.publishes) == 1 and trace.calls
    figures = assert_fits(fit(trace), kind, truth)
    if kind == "reject":
        lock = fit(trace).publish_lock()
        assert isinstance(lock.hold_ms, Distribution), "the hidden hold varies: it comes back as a distribution"
    print(json.dumps({"source": "record", **figures}))


def publish_part(trace: Trace, start: float, end: float) -> Trace:
    """The events of the publish that starts in [start, end)."""
    return replace(
        trace,
        publishes=[p for p in trace.publishes if p.started is not None and start <= p.started < end],
        statuses=[s for s in trace.statuses if start <= s.at < end],
        calls=[c for c in trace.calls if start <= c.at < end],
    )


@pytest.mark.parametrize("index", range(len(HIDDEN)), ids=[kind for kind, _ in HIDDEN])
def test_calibrate_from_the_run_directory(trip: RoundTrip, index: int) -> None:
    kind, truth = HIDDEN[index]
    part = publish_part(read_trace(trip.out), *window_of(trip, index))
    print(json.dumps({"source": "run directory", **assert_fits(fit(part), kind, truth)}))


def test_calibrate_takes_the_whole_run_directory(trip: RoundTrip, tmp_path: Path) -> None:
    """Four publishes of four kinds in one directory: it fits one profile (the kind with most evidence) over all."""
    out = tmp_path / "whole.toml"
    done = subprocess.run(
        [sys.executable, "-m", "mockgc.cli", "calibrate", str(trip.out), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "batch_size" in done.stdout and out.exists()
    assert len(read_trace(trip.out).publishes) == len(HIDDEN)
