"""The live companions of the strategies whose data lives outside the platform: external-store's store and
data-action's service (the registry pairs them with their strategies)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mockgc.drivers.dataaction import read_back
from mockgc.drivers.history_file import read_history_file
from mockgc.spec.companion import ServiceContext
from mockgc.stores import StoreError, clear_namespace, default_store_url, describe_store

if TYPE_CHECKING:
    from mockgc.flows.mitigations.base import Mitigation
    from mockgc.flows.mitigations.data_action import DataActionService


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
    snapshot, stats = read_back(mitigation, read_history_file(ctx.out_dir / "history.jsonl"))
    ctx.store_snapshot = snapshot
    ctx.extra["data_action"] |= {"durability": "read back through get_url"} | stats
