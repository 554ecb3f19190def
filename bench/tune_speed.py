"""`mockgc tune`'s speed: the issue's run (backoff-verify on long-hold, 30 trials, 2 seeds, 500 sessions, 2 jobs) as
a user runs it, a fresh process from the shell, against a 60 s target; and what the search found."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TARGET_SECONDS = 60.0


@dataclass(frozen=True)
class Config:
    mitigation: str = "backoff-verify"
    profile: str = "long-hold"
    budget: int = 30
    seeds: int = 2
    sessions: int = 500
    jobs: int = 2


def run(config: Config | None = None) -> bool:
    """Print the section; True unless the benchmark broke (a missed target is reported, not failed)."""
    config = config or Config()
    args = ["-m", config.mitigation, "-p", config.profile, "--budget", str(config.budget)]
    args += ["--seeds", str(config.seeds), "--sessions", str(config.sessions), "--jobs", str(config.jobs), "-q"]
    print(f"== mockgc tune {' '.join(args)} (target <= {TARGET_SECONDS:g} s) ==", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "tune"
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "mockgc.cli", "tune", *args, "--out", str(out)], capture_output=True, text=True
        )
        wall = time.perf_counter() - began
        if done.returncode not in (0, 1) or not (out / "tune.json").exists():
            print(f"   BROKEN: exit {done.returncode}: {(done.stdout + done.stderr).strip()[-500:]}", flush=True)
            return False
        document = json.loads((out / "tune.json").read_text())
    trials = document["trials"]
    axis = document["axes"][0]
    chosen, defaults = document.get("chosen"), document["defaults"]
    runs = sum(len(t.get("runs", [])) for t in trials)
    print("   wall s   trials   held   simulated runs   sessions/s (all runs)   target")
    print(
        f"   {wall:>6.1f} {len(trials):>8} {document['held']:>6} {runs:>16} "
        f"{runs * config.sessions / wall:>23.0f}   {'met' if wall <= TARGET_SECONDS else 'MISSED'}"
        f" (ratio {wall / TARGET_SECONDS:.2f} of the target)",
        flush=True,
    )
    if chosen:
        cost, base = chosen["figures"][axis], defaults["figures"][axis]
        print(f"   chosen {chosen['setting']}: {axis} {cost:g} against the defaults' {base:g} ({cost / base - 1:+.1%})")
    else:
        print(f"   nothing chosen (exit {done.returncode})")
    return True


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
