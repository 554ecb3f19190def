"""`mockgc shrink` on the README's case: retry on long-hold, 5,000 sessions, to at most 3 sessions, 3 agents and
1 publish within 60 s; its test_repro.py must fail under pytest. Beside it, one simulation of the whole input,
so the shrink's time reads as a ratio on a shared machine."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mockgc.explore.shrink.outputs import write
from mockgc.explore.shrink.shrinking import shrink
from mockgc.explore.shrink.story import tell
from mockgc.public import simulate
from mockgc.spec.runspec import RunSpec

TARGET_SECONDS = 60.0


@dataclass(frozen=True)
class Config:
    mitigation: str = "retry"
    profile: str = "long-hold"
    sessions: int = 5000
    seed: int = 1


def run(config: Config | None = None) -> bool:
    """Print the section; True unless the benchmark broke (a missed target is reported, not failed)."""
    config = config or Config()
    spec = RunSpec(mitigation=config.mitigation, profile=config.profile, sessions=config.sessions, seed=config.seed)
    print(
        f"== Shrink: {config.mitigation} on {config.profile}, {config.sessions} sessions, seed {config.seed} "
        f"(target: <= 3 sessions, 3 agents, 1 publish in <= {TARGET_SECONDS:g} s) ==",
        flush=True,
    )
    began = time.perf_counter()
    simulate(spec)
    one = time.perf_counter() - began
    began = time.perf_counter()
    shrunk = shrink(spec)
    seconds = time.perf_counter() - began
    after = shrunk.after
    small = after.sessions <= 3 and after.agents <= 3 and after.publishes == 1
    with tempfile.TemporaryDirectory() as directory:
        paths = write(Path(directory), shrunk, tell(shrunk.trace, shrunk.session), "bench")
        pytest = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(paths["test_repro.py"])],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=directory,
            env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
        )
    repro_fails = pytest.returncode == 1 and "1 failed" in pytest.stdout
    print(f"   before: {shrunk.before}")
    print(f"   after:  {after} ({shrunk.failure}, session {shrunk.trace.keys[shrunk.session]})")
    print(
        f"   {shrunk.simulations} simulations in {seconds:.1f} s (one simulation of the input: {one:.1f} s; "
        f"ratio {seconds / one:.2f}); target {'met' if seconds <= TARGET_SECONDS and small else 'MISSED'}"
    )
    print(f"   test_repro.py under pytest: {'fails, as it must today' if repro_fails else 'DID NOT FAIL'}")
    return small and repro_fails


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
