"""The user's own repair worker in place of mockgc's (`async-worker` with `external_worker`), live only.

The worker is the user's to start. The run registers the publish webhook to its URL (or, with
`external_worker=notifications`, leaves the subscription to the worker, which listens on the
Notifications API WebSocket), watches the mock's truth through the load, and afterwards waits until
no publish is processing, every webhook delivery is done and the truth has stayed unchanged for
`consistency_settle_s`, at most `consistency_timeout_s` (a wait that hits it is reported). A session
counts as repaired when its final value appeared after its flow had finished (the flow's own write
lands before that): the time it was first seen is its repair time, which the checker turns into the
time to consistency, as it does for mockgc's worker.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from mockgc.drivers.history_file import read_history_file
from mockgc.flows.context import PREFERENCE_VARIABLE
from mockgc.flows.mitigations.async_worker import SUBSCRIBES, AsyncWorker
from mockgc.platform.client import MockAdmin, MockError
from mockgc.platform.domain.standard_webhooks import new_secret
from mockgc.spec.companion import ServiceContext
from mockgc.stores import StoreError, clear_namespace, default_store_url, describe_store

POLL_SECONDS = 0.5  # how often the truth is read; a repair's time is known to within this
SECRET_ENV = "MOCKGC_WEBHOOK_SECRET"  # the secret the external worker verifies deliveries with


class ExternalWorkerError(RuntimeError):
    """The run could not register the webhook or read the mock while it watched the worker."""


@dataclass
class TruthWatch:
    """Each session's current value of the variable and when that value was first seen, with the poll
    before it (a change happened between the two)."""

    values: dict[str, str | None] = field(default_factory=dict)
    since: dict[str, tuple[float, float]] = field(default_factory=dict)  # sid -> (seen at, poll before)
    last_poll: float | None = None
    last_change: float | None = None
    polls: int = 0

    def observe(self, truth: dict[str, dict[str, Any]], at: float) -> bool:
        """Take one snapshot; True when anything changed since the last one."""
        changed = False
        # The first snapshot cannot tell when a value got there: never after anything.
        before = self.last_poll if self.last_poll is not None else float("-inf")
        for sid, record in truth.items():
            value = (record.get("variables") or {}).get(PREFERENCE_VARIABLE)
            if sid not in self.values or self.values[sid] != value:
                changed = True
                self.values[sid] = value
                self.since[sid] = (at, before)
        self.last_poll, self.polls = at, self.polls + 1
        if changed:
            self.last_change = at
        return changed

    def repairs(self, history: list[dict[str, Any]]) -> dict[str, float]:
        """sessionId -> when its final value was first seen, for sessions whose flow ended before the poll
        that still saw the old value (so the flow's own write cannot have made it) and whose final value
        is the one the flow meant."""
        finished: dict[str, tuple[float, str]] = {}
        for entry in history:
            value = entry.get("value") if entry.get("type") == "flow" else None
            if isinstance(value, dict) and value.get("sessionId"):
                finished[value["sessionId"]] = (float(entry["time"]), value.get("expected"))
        repaired: dict[str, float] = {}
        for sid, (ended, expected) in finished.items():
            seen = self.since.get(sid)
            if seen is not None and self.values.get(sid) == expected and seen[1] >= ended:
                repaired[sid] = seen[0]
        return repaired


def _get(admin: MockAdmin, path: str) -> Any:
    try:
        return admin.call("GET", path, timeout=60)
    except MockError as error:
        raise ExternalWorkerError(f"external worker: {error}") from None


def _watch(admin: MockAdmin, watch: TruthWatch, stop: threading.Event) -> None:
    """Through the load: a truth snapshot every POLL_SECONDS (a snapshot that fails is simply retried)."""
    while not stop.wait(POLL_SECONDS):
        with contextlib.suppress(ExternalWorkerError):
            watch.observe(_get(admin, "/truth")["sessions"], time.time())


def _settle(admin: MockAdmin, watch: TruthWatch, mitigation: AsyncWorker) -> dict[str, Any]:
    """Wait for no publish processing, no delivery pending and the truth unchanged for the settle time."""
    began = time.monotonic()
    deadline = began + mitigation.consistency_timeout_s
    quiet_since: float | None = None
    while True:
        now = time.monotonic()
        windows = _get(admin, "/windows")["operations"]
        processing = sum(1 for op in windows if op.get("status") != "Complete")
        stats = _get(admin, "/webhooks/deliveries").get("stats", {})
        undelivered = int(stats.get("pending", 0)) + int(stats.get("sending", 0))
        changed = watch.observe(_get(admin, "/truth")["sessions"], time.time())
        if processing or undelivered or changed or quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= mitigation.consistency_settle_s:
            return {"settled": True, "waited_s": round(now - began, 3), "timed_out": False}
        if now >= deadline:
            return {
                "settled": False,
                "timed_out": True,
                "waited_s": round(now - began, 3),
                "timeout_s": mitigation.consistency_timeout_s,
                "still": {"publishes_processing": processing, "deliveries_pending": undelivered},
            }
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def external_worker(mitigation: AsyncWorker, ctx: ServiceContext) -> Iterator[dict[str, str]]:
    """The live companion of `async-worker` with `external_worker` set: see the module's docstring."""
    store_url = ctx.store_url or default_store_url(ctx.out_dir)
    try:
        cleared = clear_namespace(store_url, mitigation.namespace)
    except StoreError as error:
        raise ExternalWorkerError(f"async-worker: the store {store_url} is unavailable: {error}") from None
    admin = MockAdmin(ctx.target_url, ctx.admin_key)
    target_id = None
    report: dict[str, Any] = {
        "driver": "external",
        "mode": "subscribes through the Notifications API" if mitigation.external_worker == SUBSCRIBES else "webhook",
        "url": None if mitigation.external_worker == SUBSCRIBES else mitigation.external_worker,
        "store": describe_store(store_url),
        "cleared_keys": cleared,
    }
    ctx.extra["worker"] = report
    watch, stop = TruthWatch(), threading.Event()
    watcher = threading.Thread(target=_watch, args=(admin, watch, stop), name="mockgc-truth-watch", daemon=True)
    try:
        if mitigation.external_worker != SUBSCRIBES:
            # The worker verifies deliveries with this secret: give it the same MOCKGC_WEBHOOK_SECRET.
            secret = os.environ.get(SECRET_ENV) or new_secret()
            report["secret_from_environment"] = bool(os.environ.get(SECRET_ENV))
            try:
                target_id = admin.add_webhook(mitigation.external_worker, secret)
            except MockError as error:
                raise ExternalWorkerError(f"registering the webhook: {error}") from None
        watch.observe(_get(admin, "/truth")["sessions"], time.time())
        watcher.start()
        yield {}
        stop.set()
        watcher.join(timeout=60)
        report["consistency_wait"] = _settle(admin, watch, mitigation)
        if target_id is not None:
            report["webhooks"] = _get(admin, "/webhooks/deliveries").get("stats", {})
        report["truth_polls"] = watch.polls
        report["repair_time_resolution_s"] = POLL_SECONDS
        ctx.repairs.update(watch.repairs(read_history_file(ctx.out_dir / "history.jsonl")))
    except requests.RequestException as error:
        raise ExternalWorkerError(f"external worker: {type(error).__name__}: {error}") from None
    finally:
        stop.set()
        if target_id is not None:
            with contextlib.suppress(MockError):
                admin.remove_webhook(target_id)
        admin.http.close()
