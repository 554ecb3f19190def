"""Webhook targets for publish events (mock-only): signed deliveries, retries with backoff, and the delivery log."""

from __future__ import annotations

import fnmatch
import json
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mockgc.clock import Clock
from mockgc.platform.domain import standard_webhooks
from mockgc.platform.domain.clocktext import iso
from mockgc.platform.domain.errors import InvalidValue, NotFound
from mockgc.platform.domain.events import PlatformEvent
from mockgc.platform.domain.notifications import message_for

PUBLISH_TOPICS = "v2.workforcemanagement.businessunits.*.schedules"
DEFAULT_TIMEOUT_SECONDS = 30.0  # the seed: the receiver must answer within 30 s
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
MAX_TARGETS = 100


class SendResult(NamedTuple):
    """What a sender reports for one attempt."""

    status: int  # the HTTP status, or 0 for no answer
    error: str | None = None
    retry_after: float | None = None  # the receiver's Retry-After (a 429 or 503): the next try waits at least this

    @classmethod
    def answered(cls, status: int, text: str, retry_after: str | None) -> SendResult:
        """An HTTP answer: its error text unless 2xx, and Retry-After in seconds (capped like the backoff)."""
        if 200 <= status < 300:
            return cls(status)
        try:
            wait = min(MAX_BACKOFF_SECONDS, max(0.0, float(retry_after))) if retry_after else None
        except ValueError:
            wait = None  # the HTTP-date form: the backoff decides
        return cls(status, text[:300] or None, wait)


Sender = Callable[["Delivery"], SendResult | tuple[int, str | None]]


@dataclass(frozen=True)
class WebhookTarget:
    id: str
    url: str
    topics: tuple[str, ...]
    timeout_seconds: float
    max_attempts: int
    backoff_seconds: float
    created: float
    # Standard Webhooks signing secret: shown once, in the registration's answer, and never listed.
    secret: str = field(repr=False, compare=False)

    def matches(self, topic: str) -> bool:
        return any(fnmatch.fnmatchcase(topic, pattern) for pattern in self.topics)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "topics": list(self.topics),
            "timeoutSeconds": self.timeout_seconds,
            "maxAttempts": self.max_attempts,
            "backoffSeconds": self.backoff_seconds,
            "dateCreated": iso(self.created),
        }


@dataclass
class Attempt:
    number: int
    at: float
    status: int
    error: str | None
    duration_ms: float

    def to_api(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "atEpochMs": int(self.at * 1000),
            "status": self.status,
            "error": self.error,
            "durationMs": round(self.duration_ms, 3),
        }


@dataclass
class Delivery:
    """One event on its way to one target: pending until a 2xx, failed after max_attempts."""

    id: str
    target: WebhookTarget
    body: dict[str, Any]
    created: float
    next_attempt_at: float
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "pending"  # pending | sending | delivered | failed

    def payload(self) -> bytes:
        """The exact bytes every attempt sends (the signature covers these bytes, not the object)."""
        return json.dumps(self.body, separators=(",", ":"), sort_keys=True).encode()

    def signed(self, at: float) -> tuple[bytes, dict[str, str]]:
        """The body and the Standard Webhooks headers of an attempt made at `at` (the sender's clock);
        webhook-id is the delivery's id, the same on every retry, so a receiver can dedupe on it."""
        body = self.payload()
        return body, standard_webhooks.sign(self.target.secret, self.id, at, body)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "targetId": self.target.id,
            "url": self.target.url,
            "topicName": self.body.get("topicName"),
            "operationId": (self.body.get("eventBody") or {}).get("operationId"),
            "state": self.state,
            "createdEpochMs": int(self.created * 1000),
            "nextAttemptEpochMs": int(self.next_attempt_at * 1000) if self.state == "pending" else None,
            "attempts": [a.to_api() for a in self.attempts],
        }


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A webhook target to register; without a secret, one is generated."""

    url: str
    topics: tuple[str, ...] = (PUBLISH_TOPICS,)
    secret: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS


class WebhookRegistry:
    """Targets, the delivery queue and its log; time comes from the injected clock.

    Sending is someone else's job: `pump(send)` hands each due delivery to a sender (an HTTP
    POST in a live server's background thread, an in-process call in the simulator) and records
    the attempt. A failure is retried after backoff * 2**(n-1) seconds (or the receiver's Retry-After,
    if longer), up to max_attempts. Each target has its own signing secret (Standard Webhooks).
    """

    def __init__(self, clock: Clock, *, seed: int | None = 0, log_size: int = 10_000) -> None:
        """`seed` makes target and delivery ids reproducible (the simulator); None draws them at random,
        as a served mock must: its registrations outlive resets to other seeds, and a receiver that
        dedupes on `webhook-id` would drop a new delivery whose id a reseeded stream repeated."""
        self.clock = clock
        self._ids = random.Random(f"webhooks:{seed}") if seed is not None else random.SystemRandom()
        self._lock = threading.Lock()
        self.targets: dict[str, WebhookTarget] = {}
        self._pending: list[Delivery] = []
        self.log: deque[Delivery] = deque(maxlen=log_size)
        self.dropped = 0
        # Called whenever a delivery becomes due sooner (a live server wakes its thread with it).
        self.on_change: Callable[[], None] = lambda: None

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    # -- targets ---------------------------------------------------------------

    def register(self, spec: TargetSpec) -> WebhookTarget:
        secret = spec.secret if spec.secret is not None else standard_webhooks.new_secret()
        target = WebhookTarget(
            self._new_id(),
            spec.url,
            spec.topics,
            spec.timeout_seconds,
            spec.max_attempts,
            spec.backoff_seconds,
            self.clock.now(),
            secret,
        )
        with self._lock:
            if len(self.targets) >= MAX_TARGETS:
                raise InvalidValue(f"at most {MAX_TARGETS} webhook targets")
            self.targets[target.id] = target
        return target

    def remove(self, target_id: str) -> None:
        with self._lock:
            if self.targets.pop(target_id, None) is None:
                raise NotFound(f"Webhook target {target_id} not found")
            # Nothing more goes to a removed target; what was pending is dropped, not failed.
            self._pending = [d for d in self._pending if d.target.id != target_id]

    # -- events and deliveries -------------------------------------------------

    def on_event(self, event: PlatformEvent) -> None:
        """An EventBus listener: runs inside a platform operation, so it only enqueues."""
        with self._lock:
            targets = [t for t in self.targets.values() if t.matches(event.topic)]
            if not targets:
                return
            message = message_for(event, self._new_id())
            for target in targets:
                delivery = Delivery(self._new_id(), target, message, event.at, event.at)
                self._pending.append(delivery)
                if len(self.log) == self.log.maxlen:
                    self.dropped += 1
                self.log.append(delivery)
        self.on_change()

    def next_due(self) -> float | None:
        with self._lock:
            times = [d.next_attempt_at for d in self._pending if d.state == "pending"]
        return min(times) if times else None

    def take_due(self, now: float) -> list[Delivery]:
        """Due deliveries, marked as sending so a second pump cannot send them twice."""
        with self._lock:
            due = sorted(
                (d for d in self._pending if d.state == "pending" and d.next_attempt_at <= now),
                key=lambda d: (d.next_attempt_at, d.created, d.id),
            )
            for delivery in due:
                delivery.state = "sending"
        return due

    def record(
        self, delivery: Delivery, at: float, result: SendResult | tuple[int, str | None], duration_ms: float = 0.0
    ) -> None:
        status, error, retry_after = SendResult(*result)
        with self._lock:
            number = len(delivery.attempts) + 1
            delivery.attempts.append(Attempt(number, at, status, error, duration_ms))
            if 200 <= status < 300:
                delivery.state = "delivered"
            elif number >= delivery.target.max_attempts:
                delivery.state = "failed"
            else:
                delay = delivery.target.backoff_seconds * 2 ** (number - 1)
                # A receiver that says when to come back (429 with Retry-After: its queue is full) is believed.
                delay = min(MAX_BACKOFF_SECONDS, max(delay, retry_after or 0.0))
                delivery.state, delivery.next_attempt_at = "pending", at + delay
            if delivery.state != "pending":
                self._pending.remove(delivery)
        self.on_change()

    def pump(self, send: Sender) -> int:
        """Send every delivery due now, one attempt each; returns how many attempts were made."""
        due = self.take_due(self.clock.now())
        for delivery in due:
            began = self.clock.now()
            result = send(delivery)
            ended = self.clock.now()
            self.record(delivery, began, result, (ended - began) * 1000)
        return len(due)

    def deliveries(self, state: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_api() for d in self.log if state is None or d.state == state]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.dropped = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            counts = {"pending": 0, "sending": 0, "delivered": 0, "failed": 0}
            for delivery in self.log:
                counts[delivery.state] += 1
            counts["attempts"] = sum(len(d.attempts) for d in self.log)
            counts["dropped"] = self.dropped
            return counts
