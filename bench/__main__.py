"""`python -m bench`: run every registered benchmark in order; exit non-zero only if one broke."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from bench import http_hot_path, idle_connections, load_scale, shrink, sim_speed, tune_speed, validation

# The registry: each benchmark prints its own section and returns False (or raises) only
# when the benchmark itself broke, never because a performance target was missed.
# Add a benchmark with one line here.
BENCHMARKS: list[Callable[[], bool]] = [
    http_hot_path.run,
    validation.run,
    idle_connections.run,
    load_scale.run_bench,
    sim_speed.run,
    tune_speed.run,
    shrink.run,
]


def main() -> int:
    broken: list[str] = []
    for benchmark in BENCHMARKS:
        name = f"{benchmark.__module__}.{benchmark.__qualname__}"
        try:
            ok = benchmark()
        except Exception:
            traceback.print_exc()
            ok = False
        if not ok:
            broken.append(name)
        print(flush=True)
    if broken:
        print(f"benchmark(s) broke: {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
