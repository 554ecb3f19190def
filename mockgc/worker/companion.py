"""The async worker as the `async-worker` strategy's companion (mockgc/strategies/registry.py), for each driver.

- simulated: the same RepairWorker in virtual time (mockgc/worker/simulated.py);
- live: start a `mockgc worker` process (through the run's `ctx.start`) with the run's spec and a fresh
  webhook signing secret (by environment, never argv), register its /webhook on the mock with that
  secret, and after the load wait until every publish has completed, every delivery settled and the
  worker is idle, then collect its repairs (sessionId -> epoch seconds) and counters into the
  ServiceContext. Every poll is retried (tenacity) before the run gives up on it: one lost answer must
  not end a run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
import tenacity

from mockgc.flows.mitigations.async_worker import AsyncWorker
from mockgc.platform.domain.standard_webhooks import new_secret
from mockgc.spec.companion import ServiceContext
from mockgc.stores import StoreError, clear_namespace, default_store_url, describe_store
from mockgc.worker.external import external_worker
from mockgc.worker.simulated import SimulatedWorker

READY_SECONDS = 30.0
DRAIN_SECONDS = 300.0  # after the load: publishes complete, webhooks delivered, repairs done
POLL_ATTEMPTS = 5  # tries of one status poll (no answer, a timeout or a 5xx) before the run gives up on it
POLL_WAIT_SECONDS = 0.25  # first wait between tries; doubles, at most POLL_MAX_WAIT_SECONDS
POLL_MAX_WAIT_SECONDS = 2.0


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


def _admin(ctx: ServiceContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.admin_key}"}


class _ServerTrouble(Exception):
    """A 5xx answer: worth another try, like no answer at all."""


def poll_json(http: requests.Session, url: str, headers: dict[str, str] | None = None) -> Any:
    """GET a status URL and its JSON, retried with exponential backoff on no answer, a timeout or a 5xx;
    ServiceError naming the URL and the last error once POLL_ATTEMPTS tries have failed."""

    def get() -> Any:
        response = http.get(url, headers=headers, timeout=10)
        if response.status_code >= 500:
            raise _ServerTrouble(f"{response.status_code}: {response.text[:200]}")
        response.raise_for_status()
        return response.json()

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(POLL_ATTEMPTS),
        wait=tenacity.wait_exponential(multiplier=POLL_WAIT_SECONDS, max=POLL_MAX_WAIT_SECONDS),
        retry=tenacity.retry_if_exception_type((requests.ConnectionError, requests.Timeout, _ServerTrouble)),
        reraise=True,
    )
    try:
        return retrying(get)
    except (requests.RequestException, ValueError, _ServerTrouble) as error:
        tries = retrying.statistics.get("attempt_number", 1)
        raise ServiceError(
            f"async-worker: GET {url} failed after {tries} {'try' if tries == 1 else 'tries'}: "
            f"{type(error).__name__}: {error}"
        ) from None


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
    target_id = None
    try:
        if not _wait_until(lambda: port_file.exists() or not child.alive(), READY_SECONDS):
            raise ServiceError(f"the worker did not start within {READY_SECONDS:g}s:\n{child.log_tail()}")
        if not child.alive():
            raise ServiceError(f"the worker exited with {child.poll()}:\n{child.log_tail()}")
        worker_url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        http.get(f"{worker_url}/healthz", timeout=5).raise_for_status()
        response = http.post(
            f"{ctx.target_url}/mock/webhooks",
            json={"url": f"{worker_url}/webhook", "secret": secret},
            headers=_admin(ctx),
            timeout=10,
        )
        if response.status_code != 201:
            raise ServiceError(f"registering the webhook answered {response.status_code}: {response.text[:200]}")
        target_id = response.json()["id"]
        yield {"MOCKGC_WORKER_URL": worker_url}
        drained = _drain(http, ctx, worker_url)
        repairs = poll_json(http, f"{worker_url}/repairs")["repairs"]
        status = poll_json(http, f"{worker_url}/status")
        deliveries = poll_json(http, f"{ctx.target_url}/mock/webhooks/deliveries", _admin(ctx))
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
            with contextlib.suppress(requests.RequestException):
                http.delete(f"{ctx.target_url}/mock/webhooks/{target_id}", headers=_admin(ctx), timeout=5)
        child.stop(grace=5.0)
        http.close()


def _drain(http: requests.Session, ctx: ServiceContext, worker_url: str) -> bool:
    """Wait for the publishes, then the deliveries, then the worker: each may start the next."""
    deadline = time.monotonic() + DRAIN_SECONDS

    def settled() -> bool:
        windows = poll_json(http, f"{ctx.target_url}/mock/windows", _admin(ctx))
        if any(op.get("status") != "Complete" for op in windows.get("operations", [])):
            return False
        stats = poll_json(http, f"{ctx.target_url}/mock/webhooks/deliveries", _admin(ctx))["stats"]
        if stats.get("pending", 0) or stats.get("sending", 0):
            return False
        return bool(poll_json(http, f"{worker_url}/status").get("idle"))

    while time.monotonic() < deadline:
        # Twice in a row: a delivery can land between reading the log and asking the worker.
        if settled():
            time.sleep(0.3)
            if settled():
                return True
        time.sleep(0.3)
    return False
