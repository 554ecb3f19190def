"""The async worker as the `async-worker` strategy's companion (mockgc/strategies/registry.py), for each driver.

- simulated: the same RepairWorker in virtual time (mockgc/worker/simulated.py);
- live: start a `mockgc worker` process (through the run's `ctx.start`) with the run's spec and a fresh
  webhook signing secret (by environment, never argv), register its /webhook on the mock with that
  secret, and after the load wait until every publish has completed, every delivery settled and the
  worker is idle, then collect its repairs (sessionId -> epoch seconds) and counters into the
  ServiceContext. Every poll is retried with backoff (mockgc/platform/client.py) before the run gives up on
  it: one lost answer must not end a run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from mockgc.flows.mitigations.async_worker import AsyncWorker
from mockgc.platform.client import MockAdmin, MockError, retrying_get
from mockgc.platform.domain.standard_webhooks import new_secret
from mockgc.spec.companion import ServiceContext
from mockgc.stores import StoreError, clear_namespace, default_store_url, describe_store
from mockgc.worker.external import external_worker
from mockgc.worker.simulated import SimulatedWorker

READY_SECONDS = 30.0
DRAIN_SECONDS = 300.0  # after the load: publishes complete, webhooks delivered, repairs done


class ServiceError(RuntimeError):
    """The worker could not be started, reached, or drained."""


def simulated_worker(mitigation: AsyncWorker) -> list[Any]:
    """The simulator's component: the strategy's worker, its webhook delivery and failures."""
    return [
        SimulatedWorker(
            mitigation.worker_config(),
            delivery_latency=mitigation.delivery_latency_ms / 1000,
            failing_attempts=mitigation.webhook_failures,
        )
    ]


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def poll_json(http: requests.Session, url: str) -> Any:
    """GET one of the worker's status URLs, retried with backoff (the mock's client's retrying_get); ServiceError
    naming the URL and the last error once it gave up."""
    try:
        return retrying_get(http, url)
    except MockError as error:
        raise ServiceError(f"async-worker: {error}") from None


def _admin_poll(admin: MockAdmin, path: str) -> Any:
    try:
        return admin.poll(path)
    except MockError as error:
        raise ServiceError(f"async-worker: {error}") from None


@contextlib.contextmanager
def live_worker(mitigation: AsyncWorker, ctx: ServiceContext) -> Iterator[dict[str, str]]:
    if mitigation.external_worker:
        # The user's own worker: the run starts nothing, only registers, watches and waits (external.py).
        with external_worker(mitigation, ctx) as env:
            yield env
        return
    store_url = ctx.store_url or default_store_url(ctx.out_dir)
    try:
        cleared = clear_namespace(store_url, mitigation.namespace)
    except StoreError as error:
        raise ServiceError(f"async-worker: the store {store_url} is unavailable: {error}") from None
    secret = new_secret()  # this run's alone: the worker refuses any delivery not signed with it
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    port_file = ctx.out_dir / "worker.port"
    port_file.unlink(missing_ok=True)
    # The worker reads its configuration from the run's spec, as every process of the run does.
    argv = [sys.executable, "-m", "mockgc.cli", "worker", "--target", ctx.target_url, "--store", store_url]
    argv += ["--port", "0", "--port-file", str(port_file)]
    # Credentials and the secret go by environment, not argv, so they do not show in the process list.
    env = dict(
        os.environ,
        MOCKGC_CLIENT_ID=ctx.client_id,
        MOCKGC_CLIENT_SECRET=ctx.client_secret,
        MOCKGC_WEBHOOK_SECRET=secret,
        MOCKGC_SPEC=ctx.spec,
    )
    child = ctx.start("worker", argv, ctx.out_dir / "worker.log", env)
    http = requests.Session()
    admin = MockAdmin(ctx.target_url, ctx.admin_key, http)
    target_id = None
    try:
        if not _wait_until(lambda: port_file.exists() or not child.alive(), READY_SECONDS):
            raise ServiceError(f"the worker did not start within {READY_SECONDS:g}s:\n{child.log_tail()}")
        if not child.alive():
            raise ServiceError(f"the worker exited with {child.poll()}:\n{child.log_tail()}")
        worker_url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        http.get(f"{worker_url}/healthz", timeout=5).raise_for_status()
        try:
            target_id = admin.add_webhook(f"{worker_url}/webhook", secret)
        except MockError as error:
            raise ServiceError(f"registering the webhook: {error}") from None
        yield {"MOCKGC_WORKER_URL": worker_url}
        drained = _drain(admin, worker_url)
        repairs = poll_json(http, f"{worker_url}/repairs")["repairs"]
        status = poll_json(http, f"{worker_url}/status")
        deliveries = _admin_poll(admin, "/webhooks/deliveries")
        ctx.repairs.update({str(k): float(v) for k, v in repairs.items()})
        ctx.extra["worker"] = {
            "driver": "live",
            "url": worker_url,
            "store": describe_store(store_url),
            "cleared_keys": cleared,
            "drained": drained,
            "stats": status.get("stats", {}),
            "jobs": status.get("jobs", {}),
            "waits": status.get("waits", {}),  # each job's wait for the publishes to settle, and its bound
            "chunk_size": status.get("chunkSize"),
            "webhooks": deliveries.get("stats", {}),
            "deliveries": deliveries.get("entities", [])[-20:],
        }
    except requests.RequestException as error:
        raise ServiceError(f"async-worker: {type(error).__name__}: {error}") from None
    finally:
        if target_id is not None:
            with contextlib.suppress(MockError):
                admin.remove_webhook(target_id)
        child.stop(grace=5.0)
        http.close()


def _drain(admin: MockAdmin, worker_url: str) -> bool:
    """Wait for the publishes, then the deliveries, then the worker: each may start the next."""
    deadline = time.monotonic() + DRAIN_SECONDS

    def settled() -> bool:
        windows = _admin_poll(admin, "/windows")
        if any(op.get("status") != "Complete" for op in windows.get("operations", [])):
            return False
        stats = _admin_poll(admin, "/webhooks/deliveries")["stats"]
        if stats.get("pending", 0) or stats.get("sending", 0):
            return False
        return bool(poll_json(admin.http, f"{worker_url}/status").get("idle"))

    while time.monotonic() < deadline:
        # Twice in a row: a delivery can land between reading the log and asking the worker.
        if settled():
            time.sleep(0.3)
            if settled():
                return True
        time.sleep(0.3)
    return False
