"""`async-worker`: record each intent outside the platform, write as usual, and let a worker repair later."""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from mockgc.flows.context import FlowContext, SessionRef
from mockgc.flows.effects import Effect, Now, StorePut
from mockgc.flows.mitigations.base import Mitigation
from mockgc.flows.mitigations.params import count, number, tunable_count, tunable_number

# The contract between the flow and the worker (mockgc/worker), which imports it from here: where an
# intent is kept, what it holds, and how the worker is configured (the one source of its defaults).
NAMESPACE = "mockgc:aw:"
SUBSCRIBES = "notifications"  # external_worker: the worker subscribes through the Notifications API itself
EXTERNAL_PARAMS = ("external_worker", "consistency_settle_s", "consistency_timeout_s")


def intent_key(namespace: str, session_id: str, name: str) -> str:
    return f"{namespace}intent:{session_id}:{name}"


@dataclass(frozen=True, slots=True)
class Intent:
    """What a flow meant to store, recorded outside the platform before it tried."""

    session_id: str
    name: str
    value: str
    recorded_at: float
    user_id: str | None = None

    def encode(self) -> str:
        return json.dumps(
            {
                "sessionId": self.session_id,
                "name": self.name,
                "value": self.value,
                "recordedAt": self.recorded_at,
                "userId": self.user_id,
            },
            sort_keys=True,
        )

    @classmethod
    def decode(cls, text: str) -> Intent | None:
        try:
            data = json.loads(text)
            return cls(
                str(data["sessionId"]),
                str(data["name"]),
                str(data["value"]),
                float(data["recordedAt"]),
                data.get("userId"),
            )
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class WorkerConfig:
    """How the repair worker behaves, live and simulated; `mockgc worker` and the strategy's params default to it."""

    namespace: str = NAMESPACE
    chunk_size: int = 100  # updates per PUT /api/v2/analytics/script-data; never above the platform's limit
    rate_limit_per_minute: int = 300  # the worker paces itself under its token's limit; 0 = no pacing
    settle_seconds: float = 1.0  # wait this long after the last publish completed before repairing
    margin_seconds: float = 2.0  # writes this long before a publish began count as in its window
    item_attempts: int = 8  # rounds for an item the platform refused (still locked, say)
    request_attempts: int = 10  # tries of one request that got no answer or a 5xx
    retry_seconds: float = 1.0  # first backoff; doubles per attempt
    max_retry_seconds: float = 30.0
    max_wait_seconds: float = 900.0  # give up waiting for publishes to settle after this long

    def validate(self) -> WorkerConfig:
        if not 1 <= self.chunk_size <= 10_000:
            raise ValueError("chunk_size must be from 1 to 10000")
        if self.rate_limit_per_minute < 0:
            raise ValueError("rate_limit_per_minute must be 0 (off) or positive")
        for name in ("settle_seconds", "margin_seconds", "retry_seconds", "max_retry_seconds", "max_wait_seconds"):
            value = getattr(self, name)
            if not 0 <= value <= 86_400:
                raise ValueError(f"{name} must be between 0 and 86400")
        if self.item_attempts < 1 or self.request_attempts < 1:
            raise ValueError("item_attempts and request_attempts must be at least 1")
        return self

    def backoff(self, attempt: int) -> float:
        return min(self.max_retry_seconds, self.retry_seconds * 2 ** max(0, attempt - 1))


_DEFAULTS = WorkerConfig()


class AsyncWorker(Mitigation):
    """The field report's last remedy: a webhook on schedule publication starts a worker that, once
    the status changes have settled, re-applies variable state through PUT
    /api/v2/analytics/script-data in chunks under the rate limit.

    The flow itself is the plain one plus an intent record (key per session and variable) in the
    external store, written before the Set Data so a rejected write still leaves the worker
    something to re-apply. The branch is evaluated at once, so a repair can fix what is stored
    (durability) but not the branch a customer already got (the outcome gap the checker reports).
    The worker parameters configure the worker beside the run (mockgc/strategies/registry.py): the simulator's,
    and the `mockgc worker` process a live run starts.
    """

    name = "async-worker"
    needs_store = True
    space = (
        tunable_count("chunk_size", 1, 1000, log=True, trades="bigger chunks repair in fewer requests"),
        tunable_count(
            "rate_limit_per_minute", 30, 6000, log=True, trades="a faster pace repairs sooner, nearer the token's limit"
        ),
        tunable_number(
            "settle_seconds", 0.0, 30.0, trades="a longer settle repairs later, after more of the publish's changes"
        ),
        tunable_number(
            "margin_seconds", 0.0, 30.0, trades="a wider margin re-applies more writes from before a publish"
        ),
    )

    def __init__(
        self,
        *,
        namespace: str = _DEFAULTS.namespace,
        chunk_size: int = _DEFAULTS.chunk_size,
        rate_limit_per_minute: int = _DEFAULTS.rate_limit_per_minute,
        settle_seconds: float = _DEFAULTS.settle_seconds,
        margin_seconds: float = _DEFAULTS.margin_seconds,
        delivery_latency_ms: float = 50.0,
        webhook_failures: int = 0,
        external_worker: str = "",
        consistency_settle_s: float = 2.0,
        consistency_timeout_s: float = 120.0,
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
        # The user's own repair worker instead of mockgc's (live only): "" none, SUBSCRIBES (it listens
        # on the Notifications API by itself), or the URL the run registers the publish webhook to.
        if not isinstance(external_worker, str) or not (
            external_worker in ("", SUBSCRIBES) or external_worker.startswith(("http://", "https://"))
        ):
            raise ValueError(
                f'external_worker must be "{SUBSCRIBES}" or the http(s) URL of its webhook, got {external_worker!r}'
            )
        self.external_worker = external_worker
        # After the load: the truth must stay unchanged this long, and the whole wait ends by the timeout.
        self.consistency_settle_s = number("consistency_settle_s", consistency_settle_s)
        self.consistency_timeout_s = number("consistency_timeout_s", consistency_timeout_s, positive=True)

    def live_only(self) -> str | None:
        if self.external_worker:
            return "an external repair worker is an outside process that cannot run in virtual time"
        return None

    def describe(self) -> dict[str, Any]:
        params = dict(vars(self))
        if not self.external_worker:  # the built-in worker's description stays as it always was
            for name in EXTERNAL_PARAMS:
                params.pop(name)
        return {"name": self.name, "params": params}

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
