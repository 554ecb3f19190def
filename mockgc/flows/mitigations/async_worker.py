"""`async-worker`: record each intent outside the platform, write as usual, and let a worker repair later."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from mockgc.flows.effects import Effect, Now, StorePut
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import count, number
from mockgc.worker.engine import NAMESPACE, Intent, WorkerConfig, intent_key

if TYPE_CHECKING:
    from mockgc.flows.script import FlowContext, SessionRef


class AsyncWorker(Mitigation):
    """The field report's last remedy: a webhook on schedule publication starts a worker that, once
    the status changes have settled, re-applies variable state through PUT
    /api/v2/analytics/script-data in chunks under the rate limit.

    The flow itself is the plain one plus an intent record (key per session and variable) in the
    external store, written before the Set Data so a rejected write still leaves the worker
    something to re-apply. The branch is evaluated at once, so a repair can fix what is stored
    (durability) but not the branch a customer already got (the outcome gap the checker reports).
    The worker parameters are used by the simulator's worker; a live `mockgc worker` takes the
    same ones as options.
    """

    name = "async-worker"
    needs_store = True

    def __init__(
        self,
        *,
        namespace: str = NAMESPACE,
        chunk_size: int = 100,
        rate_limit_per_minute: int = 300,
        settle_seconds: float = 1.0,
        margin_seconds: float = 2.0,
        delivery_latency_ms: float = 50.0,
        webhook_failures: int = 0,
    ) -> None:
        if not isinstance(namespace, str) or len(namespace) > 200:
            raise ValueError("namespace must be a string of at most 200 characters")
        self.namespace = namespace
        self.chunk_size = count("chunk_size", chunk_size, high=10_000)
        self.rate_limit_per_minute = count("rate_limit_per_minute", rate_limit_per_minute, low=0, high=1_000_000)
        self.settle_seconds = number("settle_seconds", settle_seconds)
        self.margin_seconds = number("margin_seconds", margin_seconds)
        self.delivery_latency_ms = number("delivery_latency_ms", delivery_latency_ms, high=86_400_000)
        # Simulator only: the first N attempts of each webhook delivery fail, to price the retries.
        self.webhook_failures = count("webhook_failures", webhook_failures, low=0, high=19)

    def worker_config(self) -> WorkerConfig:
        return WorkerConfig(
            namespace=self.namespace,
            chunk_size=self.chunk_size,
            rate_limit_per_minute=self.rate_limit_per_minute,
            settle_seconds=self.settle_seconds,
            margin_seconds=self.margin_seconds,
        ).validate()

    def set_data(self, ctx: FlowContext, session: SessionRef, name: str, value: str) -> Generator[Effect, Any, bool]:
        now = yield Now()
        intent = Intent(session.session_id, name, value, now, ctx.agent_id)
        # A store failure is recorded in the history; the platform write still goes ahead.
        yield StorePut(intent_key(self.namespace, session.session_id, name), intent.encode())
        return (yield from super().set_data(ctx, session, name, value))

    def simulation_components(self) -> list[Any]:
        from mockgc.worker.simulated import SimulatedWorker

        return [
            SimulatedWorker(
                self.worker_config(),
                delivery_latency=self.delivery_latency_ms / 1000,
                failing_attempts=self.webhook_failures,
            )
        ]
