"""The live companions of the strategies whose data lives outside the platform: external-store's store and
data-action's service (the registry pairs them with their strategies)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from mockgc.drivers.dataaction import read_back
from mockgc.drivers.history_file import read_history_file
from mockgc.spec.companion import ServiceContext
from mockgc.stores import StoreError, clear_namespace, default_store_url, describe_store

if TYPE_CHECKING:
    from mockgc.flows.mitigations.base import Mitigation
    from mockgc.flows.mitigations.data_action import DataActionService


Snapshot = dict[str, str | None]


def read_after_the_run(
    ctx: ServiceContext, read: Callable[[], tuple[Snapshot, dict[str, Any]]], what: str
) -> tuple[Snapshot, dict[str, Any]]:
    """What the user's service or store holds, durable only if it still holds it a while after the run: read
    when the load ends, then (after ctx.restart, --restart-cmd, and ctx.reread_after seconds) again; the
    checker gets the later read, so a value gone by then is ack_lost. Values there the first time and
    gone or changed the second are reported as forgotten. Both reads are the same concurrent read-back."""
    first, stats = read()
    if not first or (not ctx.reread_after and ctx.restart is None):
        return first, stats
    if ctx.restart is not None:
        ctx.progress(f"restarting {what} (--restart-cmd) before reading it back again", 0, 1)
        ctx.restart()
        ctx.progress(f"restarting {what} (--restart-cmd) before reading it back again", 1, 1)
    # The wait in steps of a second, told as it goes (a CI log hears of it at least every 10 s).
    label, total = f"waiting to read {what} back again (--reread-after: durable means still there), s", ctx.reread_after
    waited = 0.0
    while waited < total:
        step = min(1.0, total - waited)
        ctx.sleep(step)
        waited += step
        ctx.progress(label, round(waited), round(total))
    second, again = read()
    if not second:
        # Nothing answered at all: the service is down (or did not come back from the restart), which is
        # no verdict on the values.
        raise RuntimeError(
            f"{what} answered none of the {len(first)} values on the read-back {ctx.reread_after:g} s after the run"
            + (" and the restart" if ctx.restart is not None else "")
            + ": is it up? Durability cannot be judged"
        )
    forgotten = sorted(key for key, value in first.items() if value is not None and second.get(key) != value)
    return second, again | {
        "first_read_back": stats,
        "reread_after_s": ctx.reread_after,
        "restarted": ctx.restart is not None,
        "forgotten": len(forgotten),
        "forgotten_samples": forgotten[:5],
    }


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
    history = read_history_file(ctx.out_dir / "history.jsonl")
    snapshot, stats = read_after_the_run(
        ctx,
        lambda: read_back(
            mitigation,
            history,
            lambda done, total: ctx.progress("reading your service's values back through get_url", done, total),
        ),
        "your service",
    )
    ctx.store_snapshot = snapshot
    ctx.extra["data_action"] |= {"durability": "read back through get_url"} | stats
