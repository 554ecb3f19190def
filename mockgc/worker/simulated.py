"""The async worker in the simulator: webhook delivery, the worker and its platform calls in virtual time."""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from mockgc.drivers.realtime import drive
from mockgc.flows.effects import Call, Reply
from mockgc.flows.mitigations.async_worker import WorkerConfig
from mockgc.platform.domain.errors import PlatformError
from mockgc.platform.domain.standard_webhooks import Verifier
from mockgc.platform.domain.webhooks import Delivery, SendResult, TargetSpec, WebhookRegistry
from mockgc.worker.engine import Job, RepairWorker

PROCESS = "worker"
WORKER_URL = "http://worker.simulated/webhook"


class SimulatedWorker:
    """A simulator component (`install(sim)`): the same RepairWorker and WebhookRegistry as live.

    - The registry listens to the org's events; each publish completion becomes a delivery,
      attempted `delivery_latency` after it is due. The first `failing_attempts` attempts of each
      delivery fail (503), to exercise the retries and backoff in virtual time.
    - Each attempt is signed (Standard Webhooks, the registration's secret, the virtual clock) and
      the worker verifies it and confirms the operation with the platform, as live. That check is
      answered in process at once and not recorded: live runs do not count the worker's calls either.
    - The worker accepts the webhook at once and runs one repair job at a time on the simulator's
      own loop (`sim.spawn`); its platform calls take the simulator's call latency and are recorded
      in the history under key None (the checker counts them as cost, never as sessions).
    - Each repair lands in sim.repairs; the worker's counters go to the result's "worker".
    """

    def __init__(self, config: WorkerConfig, *, delivery_latency: float = 0.05, failing_attempts: int = 0) -> None:
        self.config = config
        self.delivery_latency = delivery_latency
        self.failing_attempts = failing_attempts
        self.sim: Any = None
        self.report: dict[str, Any] = {}

    def install(self, sim: Any) -> None:
        self.sim = sim
        seed = sim.seed
        self.registry = WebhookRegistry(sim.clock, seed=seed)
        # The secret comes from `secrets`: it never enters the result, so runs stay byte-identical.
        target = self.registry.register(TargetSpec(WORKER_URL, backoff_seconds=1.0))
        self.worker = RepairWorker(sim.store, self.config, verifier=Verifier(target.secret, sim.clock.now))
        self.registry.on_change = self._arm
        sim.platform.events.subscribe(self.registry.on_event)
        self._latency = random.Random(f"worker-latency:{seed}")
        self._armed: set[float] = set()
        self._jobs: deque[Job] = deque()
        self._running = False
        self.report = sim.extra.setdefault("worker", {})
        for at in sim.publish_times:
            # Runs just after the publish starts (same instant, scheduled later), to learn its end.
            sim.schedule(at, lambda when: self.sim.schedule(when, self._watch_publishes))
        self._update_report()

    # -- event delivery ------------------------------------------------------------------------------

    def _watch_publishes(self, now: float) -> None:
        """Settle the org when each running publish completes, so its event fires on time even if
        no flow happens to call the platform then."""
        for op in self.sim.platform.operations.values():
            if op.status == "Processing" and op.completes_at >= now:
                self.sim.schedule(op.completes_at, lambda _when: self.sim.platform.settle())

    def _arm(self) -> None:
        due = self.registry.next_due()
        if due is None:
            return
        at = max(due, self.sim.clock.now()) + self.delivery_latency
        if at not in self._armed:
            self._armed.add(at)
            self.sim.schedule(at, self._pump)

    def _pump(self, now: float) -> None:
        self._armed.discard(now)
        self.registry.pump(self._send)
        self._update_report()

    def _send(self, delivery: Delivery) -> SendResult:
        if len(delivery.attempts) < self.failing_attempts:
            return SendResult(503, "simulated receiver failure")
        now = self.sim.clock.now()
        body, headers = delivery.signed(now)
        try:
            event = self.worker.open_delivery(body, headers)
            job = None if event is None else drive(self.worker.admit(event, now), self.sim.transport)
        except PlatformError as refused:
            return SendResult(refused.status, refused.message)
        if job is not None:
            self._jobs.append(job)
            if not self._running:
                self._next_job()
        return SendResult(202)

    # -- the worker's jobs: one at a time, on the simulator's own loop ------------------------------------

    def _next_job(self, _summary: Any = None) -> None:
        if not self._jobs:
            self._running = False
            self._update_report()
            return
        self._running = True
        self.sim.spawn(
            self.worker.run(self._jobs.popleft()),
            process=PROCESS,
            latency=self._call_latency,
            on_done=self._next_job,
            params_of=_compact,
            reply_of=_without_body,
        )

    def _call_latency(self) -> float:
        config = self.sim.config
        return (config.latency_base_ms + self._latency.random() * config.latency_jitter_ms) / 1000.0

    def _update_report(self) -> None:
        snapshot = self.worker.snapshot()
        self.report.clear()
        self.report.update(
            {
                "driver": "simulated",
                "stats": snapshot["stats"],
                "jobs": snapshot["jobs"],
                "chunk_size": snapshot["chunkSize"],
                "webhooks": self.registry.stats(),
                "config": snapshot["config"],
            }
        )
        self.sim.repairs.update(self.worker.repairs)


def _compact(effect: Call) -> dict[str, Any]:
    """The history keeps a chunk's size, not its items: a run makes thousands of them."""
    if effect.op == "script_data":
        return {"updates": len(effect.params.get("updates", []))}
    return dict(effect.params)


def _without_body(reply: Reply) -> Reply:
    """Per-item results are the worker's business; the history keeps status and code."""
    if reply.ok and isinstance(reply.body, dict) and "results" in reply.body:
        failed = sum(1 for r in reply.body["results"] if r.get("status") != 200)
        return Reply(reply.status, {"items": len(reply.body["results"]), "failedItems": failed})
    return reply
