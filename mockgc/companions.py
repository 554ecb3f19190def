"""What a mitigation may need around its flows, for each driver: the types, and the store's own live service.

A companion has two faces (mockgc/registry.py pairs them with a strategy):
- `simulated(mitigation)` gives components the simulator installs before the run (`install(sim)`);
- `live(mitigation, ctx)` is a context manager a live run enters before Locust starts: it starts what
  it needs (through `ctx.start`, so its processes are the run's, watched and always stopped), yields
  environment variables for every Locust process, and on exit stops it all; after the load it leaves
  `ctx.repairs` and `ctx.extra` for the checker.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mockgc.drivers.dataaction import read_back
from mockgc.stores import StoreError, describe_store, open_store

if TYPE_CHECKING:
    from mockgc.flows.mitigations.base import Mitigation
    from mockgc.flows.mitigations.data_action import DataActionService


class Process(Protocol):
    """A child process the run started for a companion (mockgc/harness/procs.py's Child)."""

    def alive(self) -> bool: ...

    def poll(self) -> int | None: ...

    def log_tail(self, lines: int = 20) -> str: ...

    def stop(self, grace: float = 10.0) -> int | None: ...


# start(name, argv, log_path, env): a watched child; if it dies during the load the run stops and says so.
Start = Callable[[str, Sequence[str], Path, Mapping[str, str]], Process]


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
    spec: str = "{}"  # the run's spec as JSON (mockgc/spec.py): what a companion process is given
    start: Start = _no_process
    # Results: sessionId -> epoch seconds when a repair made it durable, and anything for the result JSON.
    repairs: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # What the strategy's own store holds after the run (storeKey -> value), when the companion read it
    # (a Data Action service's get_url); None: the harness reads the run's store itself.
    store_snapshot: dict[str, str | None] | None = None


SimulatedCompanion = Callable[["Mitigation"], list[Any]]
LiveCompanion = Callable[["Mitigation", ServiceContext], contextlib.AbstractContextManager[dict[str, str]]]


@dataclass(frozen=True)
class Companion:
    """What a mitigation needs beside its flows: None where a driver needs nothing for it."""

    simulated: SimulatedCompanion | None = None
    live: LiveCompanion | None = None


NOTHING = Companion()


def default_store_url(out_dir: Path) -> str:
    """A live run's store when a mitigation needs one and none was given: SQLite in the run's directory."""
    return f"sqlite:///{(out_dir / 'store.db').resolve()}"


def clear_namespace(store_url: str, namespace: str) -> int:
    """Delete the namespace's keys (only those) from the run's store; memory:// has nothing to clear."""
    if store_url.startswith("memory:"):
        return 0
    store = open_store(store_url)
    try:
        return store.delete_prefix(namespace)
    finally:
        store.close()


@contextlib.contextmanager
def clean_store_namespace(mitigation: Mitigation, ctx: ServiceContext) -> Iterator[dict[str, str]]:
    """external-store, live: clear the strategy's key namespace first, so values a previous run left
    (same seed, same session ids) cannot pass for this run's writes."""
    store_url = ctx.store_url or default_store_url(ctx.out_dir)
    try:
        cleared = clear_namespace(store_url, mitigation.namespace)  # type: ignore[attr-defined]
    except StoreError as error:
        # Not fatal here: the run goes on and every failed store call shows up in the result.
        ctx.extra["store_service"] = {"store": describe_store(store_url), "error": str(error)}
    else:
        ctx.extra["store_service"] = {"store": describe_store(store_url), "cleared_keys": cleared}
    yield {}


def read_history_file(path: Path) -> list[dict[str, Any]]:
    """history.jsonl's entries ([] when the run left none)."""
    if not path.exists():
        return []
    with path.open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


@contextlib.contextmanager
def data_action_read_back(mitigation: DataActionService, ctx: ServiceContext) -> Iterator[dict[str, str]]:
    """data-action, live: the user's service is already running (theirs to start); after the load, read every
    value back through get_url for durability. A service that writes back to the platform
    (evaluate_on_platform) is judged on the platform's truth instead, so nothing is read."""
    ctx.extra["data_action"] = {
        "set_url": mitigation.set_url,
        "get_url": mitigation.get_url or None,
        "timeout_s": mitigation.timeout_s,
        "evaluate_on_platform": mitigation.evaluate_on_platform,
    }
    yield {}
    if mitigation.evaluate_on_platform:
        ctx.extra["data_action"]["durability"] = "the platform's truth"
        return
    snapshot, stats = read_back(mitigation, read_history_file(ctx.out_dir / "history.jsonl"))
    ctx.store_snapshot = snapshot
    ctx.extra["data_action"] |= {"durability": "read back through get_url"} | stats
