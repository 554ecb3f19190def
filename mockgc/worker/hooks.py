"""Live-run service hooks (SERVICE_HOOKS) for the decoupled-state mitigations.

- async-worker: start a `mockgc worker` process, register its /webhook on the mock, and after the
  load wait until every publish has completed, every delivery settled and the worker is idle,
  then collect its repairs (sessionId -> epoch seconds) and counters into the ServiceContext.
- external-store: clear the mitigation's key namespace in the run's store first, so values a
  previous run left (same seed, same session ids) cannot pass for this run's writes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from mockgc.flows.store import StoreError

READY_SECONDS = 30.0
DRAIN_SECONDS = 300.0  # after the load: publishes complete, webhooks delivered, repairs done


class ServiceError(RuntimeError):
    """The worker could not be started, reached, or drained."""


def default_store_url(out_dir: Path) -> str:
    """The harness's default when a mitigation needs a store and none was given."""
    return f"sqlite:///{(out_dir / 'store.db').resolve()}"


def clear_namespace(store_url: str, namespace: str) -> int:
    """Delete the namespace's keys (only those) from the run's store; memory:// has nothing to clear."""
    from mockgc.stores import open_store

    if store_url.startswith("memory:"):
        return 0
    store = open_store(store_url)
    try:
        return store.delete_prefix(namespace)
    finally:
        store.close()


def _admin(ctx: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.admin_key}"}


@contextlib.contextmanager
def async_worker_service(ctx: Any) -> Iterator[dict[str, str]]:
    from mockgc.flows.mitigations.async_worker import AsyncWorker
    from mockgc.harness.procs import Child, wait_until

    mitigation = AsyncWorker(**(getattr(ctx, "mitigation_params", None) or {}))
    store_url = ctx.store_url or default_store_url(ctx.out_dir)
    try:
        cleared = clear_namespace(store_url, mitigation.namespace)
    except StoreError as error:
        raise ServiceError(f"async-worker: the store {store_url} is unavailable: {error}") from None
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    port_file = ctx.out_dir / "worker.port"
    port_file.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "mockgc.cli",
        "worker",
        "--target",
        ctx.target_url,
        "--store",
        store_url,
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--namespace",
        mitigation.namespace,
        "--chunk-size",
        str(mitigation.chunk_size),
        "--rate-limit",
        str(mitigation.rate_limit_per_minute),
        "--settle-seconds",
        str(mitigation.settle_seconds),
        "--margin-seconds",
        str(mitigation.margin_seconds),
    ]
    # Credentials go by environment, not argv, so they do not show in the process list.
    env = dict(os.environ, MOCKGC_CLIENT_ID=ctx.client_id, MOCKGC_CLIENT_SECRET=ctx.client_secret)
    child = ctx.watch.add(Child("worker", argv, ctx.out_dir / "worker.log", env=env))
    http = requests.Session()
    target_id = None
    try:
        if not wait_until(lambda: port_file.exists() or not child.alive(), READY_SECONDS):
            raise ServiceError(f"the worker did not start within {READY_SECONDS:g}s:\n{child.log_tail()}")
        if not child.alive():
            raise ServiceError(f"the worker exited with {child.poll()}:\n{child.log_tail()}")
        worker_url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        http.get(f"{worker_url}/healthz", timeout=5).raise_for_status()
        response = http.post(
            f"{ctx.target_url}/mock/webhooks", json={"url": f"{worker_url}/webhook"}, headers=_admin(ctx), timeout=10
        )
        if response.status_code != 201:
            raise ServiceError(f"registering the webhook answered {response.status_code}: {response.text[:200]}")
        target_id = response.json()["id"]
        yield {"MOCKGC_WORKER_URL": worker_url}
        drained = _drain(http, ctx, worker_url)
        repairs = http.get(f"{worker_url}/repairs", timeout=10).json()["repairs"]
        status = http.get(f"{worker_url}/status", timeout=10).json()
        deliveries = http.get(f"{ctx.target_url}/mock/webhooks/deliveries", headers=_admin(ctx), timeout=10).json()
        ctx.repairs.update({str(k): float(v) for k, v in repairs.items()})
        ctx.extra["worker"] = {
            "driver": "live",
            "url": worker_url,
            "store": _safe(store_url),
            "cleared_keys": cleared,
            "drained": drained,
            "stats": status.get("stats", {}),
            "jobs": status.get("jobs", {}),
            "chunk_size": status.get("chunkSize"),
            "webhooks": deliveries.get("stats", {}),
            "deliveries": deliveries.get("entities", [])[-20:],
        }
    except requests.RequestException as error:
        raise ServiceError(f"async-worker: {type(error).__name__}: {error}") from None
    finally:
        if target_id is not None:
            with contextlib.suppress(requests.RequestException):
                http.delete(f"{ctx.target_url}/mock/webhooks/{target_id}", headers=_admin(ctx), timeout=5)
        child.stop(grace=5.0)
        http.close()


def _drain(http: requests.Session, ctx: Any, worker_url: str) -> bool:
    """Wait for the publishes, then the deliveries, then the worker: each may start the next."""
    deadline = time.monotonic() + DRAIN_SECONDS

    def settled() -> bool:
        windows = http.get(f"{ctx.target_url}/mock/windows", headers=_admin(ctx), timeout=10).json()
        if any(op.get("status") != "Complete" for op in windows.get("operations", [])):
            return False
        stats = http.get(f"{ctx.target_url}/mock/webhooks/deliveries", headers=_admin(ctx), timeout=10).json()["stats"]
        if stats.get("pending", 0) or stats.get("sending", 0):
            return False
        return bool(http.get(f"{worker_url}/status", timeout=10).json().get("idle"))

    while time.monotonic() < deadline:
        # Twice in a row: a delivery can land between reading the log and asking the worker.
        if settled():
            time.sleep(0.3)
            if settled():
                return True
        time.sleep(0.3)
    return False


@contextlib.contextmanager
def external_store_service(ctx: Any) -> Iterator[dict[str, str]]:
    from mockgc.flows.mitigations.external_store import ExternalStore

    mitigation = ExternalStore(**(getattr(ctx, "mitigation_params", None) or {}))
    store_url = ctx.store_url or default_store_url(ctx.out_dir)
    try:
        cleared = clear_namespace(store_url, mitigation.namespace)
    except StoreError as error:
        # Not fatal here: the run goes on and every failed store call shows up in the result.
        ctx.extra["store_service"] = {"store": _safe(store_url), "error": str(error)}
    else:
        ctx.extra["store_service"] = {"store": _safe(store_url), "cleared_keys": cleared}
    yield {}


def _safe(url: str) -> str:
    from mockgc.stores import describe_store

    return describe_store(url)
