"""The live worker: verified intake, a bounded queue, and one thread that drives repair jobs over HTTP."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from mockgc.drivers.http import HttpTransport
from mockgc.drivers.realtime import drive
from mockgc.flows.effects import Reply
from mockgc.platform.domain.errors import PlatformError
from mockgc.worker.engine import Job, PublishEvent, RepairWorker

log = logging.getLogger("mockgc.worker")
DEFAULT_MAX_QUEUED = 100  # jobs accepted and not finished; one per publish operation, so far above a real run's
QUEUE_RETRY_AFTER = 10  # seconds a sender is told to wait when the queue is full


class QueueFull(PlatformError):
    """The worker holds max_queued jobs already: the sender should come back after Retry-After."""

    status, code, retry_after = 429, "too.many.requests.retry.after", QUEUE_RETRY_AFTER

    def __init__(self, bound: int) -> None:
        super().__init__(
            f"The worker's queue is full ({bound} jobs). Retry the request in [{QUEUE_RETRY_AFTER}] seconds",
            message_with_params="The worker's queue is full ({bound} jobs). Retry the request in [{retryAfter}] seconds",
            message_params={"bound": str(bound), "retryAfter": str(QUEUE_RETRY_AFTER)},
        )


class ReauthTransport:
    """HttpTransport that gets a new token when the platform answers 401 (an expired token)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, timeout: float = 30.0) -> None:
        self.http = HttpTransport(base_url, timeout=timeout)
        self.client_id, self.client_secret = client_id, client_secret
        self.http.authenticate(client_id, client_secret)

    def call(self, op: str, params: dict[str, Any]) -> Reply:
        reply = self.http.call(op, params)
        if reply.status == 401:
            try:
                self.http.authenticate(self.client_id, self.client_secret)
            except (PermissionError, OSError) as error:
                log.warning("re-authentication failed: %s", error)
                return reply
            reply = self.http.call(op, params)
        return reply


class WorkerService:
    """Webhook intake answers within the sender's timeout; jobs run one at a time on a background thread.

    `receive` verifies the signature, checks the operation with the platform (one call, on its own
    transport: the job thread's session is not shared across threads) and queues at most `max_queued`
    jobs; a full queue answers 429 with Retry-After, and the sender's retry brings the event back.
    """

    def __init__(
        self,
        worker: RepairWorker,
        transport: Any,
        *,
        check_transport: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_queued: int = DEFAULT_MAX_QUEUED,
    ) -> None:
        if max_queued < 1:
            raise ValueError("max_queued must be at least 1")
        self.worker = worker
        self.transport = transport
        self.check_transport = check_transport or transport
        self.clock = clock
        self.sleep = sleep
        self.max_queued = max_queued
        self.queue: queue.Queue[Job | None] = queue.Queue()
        # Jobs accepted (or being admitted) and not yet finished: idle means zero, and the bound counts them.
        self._outstanding = 0
        self._lock = threading.Lock()
        self._checks = threading.Lock()  # one platform check at a time on the check transport
        self._thread = threading.Thread(target=self._run, name="mockgc-worker", daemon=True)

    def receive(self, body: bytes, headers: Mapping[str, str]) -> tuple[PublishEvent | None, Job | None]:
        """One delivery: (the event it announced or None, the queued job or None for a duplicate).
        Raises the PlatformError to answer with: 401 unsigned or badly signed, 400 bad JSON or shape or
        an unknown business unit or operation, 409 not Complete, 429 queue full, 503 platform down."""
        event = self.worker.open_delivery(body, headers)
        if event is None:
            return None, None
        with self._lock:
            if self._outstanding >= self.max_queued:
                self.worker.count("queue_full")
                raise QueueFull(self.max_queued)
            self._outstanding += 1  # reserved while the platform is asked, so the bound holds under concurrency
        job = None
        try:
            with self._checks:
                job = drive(self.worker.admit(event, self.clock()), self.check_transport, clock=self.clock)
        finally:
            if job is None:
                with self._lock:
                    self._outstanding -= 1
        if job is not None:
            self.queue.put(job)
        return event, job

    def start(self) -> WorkerService:
        for job in self.worker.recover():
            with self._lock:
                self._outstanding += 1
            self.queue.put(job)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.queue.put(None)
        self._thread.join(timeout=timeout)

    def idle(self) -> bool:
        with self._lock:
            return self._outstanding == 0

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.02)
        return self.idle()

    def _run(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            try:
                summary = drive(self.worker.run(job), self.transport, clock=self.clock, sleep=self.sleep)
                log.info("operation %s: %s", job.operation_id, summary)
            except Exception:
                log.exception("repair job for operation %s failed", job.operation_id)
                self.worker.count("jobs_crashed")
            finally:
                with self._lock:
                    self._outstanding -= 1

    def status(self) -> dict[str, Any]:
        return {
            "idle": self.idle(),
            "queued": self.queue.qsize(),
            "queueBound": self.max_queued,
            **self.worker.snapshot(),
        }
