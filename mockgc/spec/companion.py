"""What a mitigation may need around its flows, for each driver: the companion's contract (its types).

A companion has two faces (mockgc/strategies/registry.py pairs them with a strategy):
- `simulated(mitigation)` gives components the simulator installs before the run (`install(sim)`);
- `live(mitigation, ctx)` is a context manager a live run enters before Locust starts: it starts what
  it needs (through `ctx.start`, so its processes are the run's, watched and always stopped), yields
  environment variables for every Locust process, and on exit stops it all; after the load it leaves
  `ctx.repairs` and `ctx.extra` for the checker.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mockgc.flows.mitigations.base import Mitigation


class Process(Protocol):
    """A child process the run started for a companion (mockgc/live/procs.py's Child)."""

    def alive(self) -> bool: ...

    def poll(self) -> int | None: ...

    def log_tail(self, lines: int = 20) -> str: ...

    def stop(self, grace: float = 10.0) -> int | None: ...


# start(name, argv, log_path, env): a watched child; if it dies during the load the run stops and says so.
Start = Callable[[str, Sequence[str], Path, Mapping[str, str]], Process]
Progress = Callable[[str, int, int], None]


def _no_process(name: str, argv: Sequence[str], log_path: Path, env: Mapping[str, str]) -> Process:
    raise RuntimeError(f"{name}: this run cannot start processes")


@dataclass
class ServiceContext:
    """What a live companion knows about the run, and where it leaves its results."""

    target_url: str
    admin_key: str
    client_id: str
    client_secret: str
    out_dir: Path
    store_url: str | None
    spec: str = "{}"  # the run's spec as JSON (mockgc/spec/runspec.py): what a companion process is given
    start: Start = _no_process
    # Results: sessionId -> epoch seconds when a repair made it durable, and anything for the result JSON.
    repairs: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # What the strategy's own store holds after the run (storeKey -> value), when the companion read it
    # (a Data Action service's get_url); None: the harness reads the run's store itself.
    store_snapshot: dict[str, str | None] | None = None
    # progress(label, done, total): a phase after the load (a read-back, a wait) told to the person watching,
    # so a CI log is never silent through it (the run's display prints at most one line per 10 s of it).
    progress: Progress = field(default=lambda label, done, total: None)
    # Durable after the run: read the user's service or store again this many seconds after the first
    # read-back, after `restart` (--restart-cmd) if given (mockgc/strategies/store_services.py).
    reread_after: float = 0.0
    restart: Callable[[], None] | None = None
    sleep: Callable[[float], None] = time.sleep


SimulatedCompanion = Callable[["Mitigation"], list[Any]]
LiveCompanion = Callable[["Mitigation", ServiceContext], contextlib.AbstractContextManager[dict[str, str]]]


@dataclass(frozen=True)
class Companion:
    """What a mitigation needs beside its flows: None where a driver needs nothing for it."""

    simulated: SimulatedCompanion | None = None
    live: LiveCompanion | None = None


NOTHING = Companion()
