"""Each kind of input `mockgc shrink` takes, shrunk: a spec file or simulate result, or a live run's directory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mockgc.explore.shrink.inputs import read_spec_input
from mockgc.explore.shrink.live import read_live, simulated
from mockgc.explore.shrink.probe import Simulations
from mockgc.explore.shrink.shrinking import Shrunk, Size, shrink


@dataclass(frozen=True)
class Shrink:
    """A finished shrink and where it came from."""

    shrunk: Shrunk
    source: str
    before: Size  # the input's size (a live run's: its sessions, agents and publishes)


def shrink_spec_file(
    path: Path, *, budget: int, mitigation: str | None = None, on_step: Callable[[str], None] | None = None
) -> Shrink:
    """Shrink a spec file (TOML, config.json) or a `mockgc simulate --json` result."""
    shrunk = shrink(read_spec_input(path, mitigation), budget=budget, on_step=on_step)
    return Shrink(shrunk, str(path), shrunk.before)


def shrink_run_dir(
    path: Path, *, budget: int, mitigation: str | None = None, on_step: Callable[[str], None] | None = None
) -> Shrink:
    """Shrink a live run's first failing session, through its one-session simulation."""
    began = time.perf_counter()
    live = read_live(path, mitigation)
    sims = Simulations(budget)
    spec = simulated(live, sims)
    if on_step:
        on_step(f"live: {live.describe()}; simulated alone, it fails the same way")
    shrunk = shrink(spec, failure=live.failure, sims=sims, on_step=on_step)
    shrunk.seconds = time.perf_counter() - began  # reading and judging the run counts too
    lock_batches = Size.of(live.spec).batches
    before = Size(live.sessions, live.spec.agents, live.publishes, lock_batches)
    return Shrink(shrunk, f"{live.directory} (live)", before)
