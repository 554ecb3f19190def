"""Live load at scale: 1,000 concurrent Locust users against the mock while 3 publishes fire (`make load`)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockgc.checker.result import bad_sessions
from mockgc.live.console import Display
from mockgc.live.errors import RunError
from mockgc.live.options import LiveOptions
from mockgc.live.run import run
from mockgc.spec.runspec import RunSpec

OUT = Path("runs") / "bench-load-scale"


@dataclass(frozen=True)
class Config:
    """Sized for a 2-core machine: the mock and one Locust process share it; about 75 s in all."""

    users: int = 1000
    spawn_rate: float = 200.0  # all users up within 5 s
    duration: float = 60.0
    think_time: float = 5.0  # mean seconds between a desk's interactions: ~200 interactions/s in all
    publishes: int = 3
    profile: str = "seed-default"
    mitigation: str = "none"
    workers: int = 0
    out: Path = OUT


def _ms(value: Any) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def run_bench(config: Config | None = None) -> bool:
    """Print the section; False only when the run itself broke (harness errors included)."""
    config = config or Config()
    print(
        f"== Live load at scale: {config.users:,} Locust users ({config.workers or 'one'} "
        f"{'worker' if config.workers == 1 else 'workers' if config.workers else 'process'}), "
        f"{config.publishes} publishes in {config.duration:g} s, profile {config.profile}, "
        f"mitigation {config.mitigation} ==",
        flush=True,
    )
    began = time.perf_counter()
    try:
        outcomes = run(
            RunSpec().with_options(
                mitigation=config.mitigation,
                profile=config.profile,
                users=config.users,
                spawn_rate=config.spawn_rate,
                duration=config.duration,
                think_time=config.think_time,
                publishes=config.publishes,
                workers=config.workers,
            ),
            LiveOptions(out=Path(config.out)),
            Display(),
        )
    except RunError as error:
        print(f"   the run broke: {error}")
        return False
    result = outcomes[0].result
    sessions, harness = result["sessions"], result["harness"]
    outside, inside = result["latency_ms_by_window"]["outside"], result["latency_ms_by_window"]["inside"]
    bad = bad_sessions(sessions)
    print(
        f"   sessions {sessions['total']:,} ({bad:,} lost to the publishes, verdict {result['verdict']}); "
        f"{result['requests']:,} platform calls, {result['http'].get('400', 0):,} of them 400s"
    )
    print(
        f"   request rate {harness['request_rate']} req/s over {harness['load_seconds']} s of load; "
        f"mock p99 outside the publish windows {_ms(outside['p99'])} (p50 {_ms(outside['p50'])}), "
        f"inside {_ms(inside['p99'])}"
    )
    print("   (latency as Locust measured it: the mock and the load generator share the machine's cores)")
    print(
        f"   harness errors {harness['errors']} (must be 0){': ' + '; '.join(harness['problems']) if harness['problems'] else ''}"
    )
    print(f"   report: {config.out / 'report.html'}")
    print(f"   section took {time.perf_counter() - began:.1f} s", flush=True)
    return bool(harness["errors"] == 0 and sessions["total"] > 0)


def main() -> int:
    return 0 if run_bench() else 1


if __name__ == "__main__":
    sys.exit(main())
