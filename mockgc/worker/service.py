"""The live worker: a queue and one thread that drives repair jobs over HTTP in real time."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from mockgc.flows.effects import Reply
from mockgc.flows.runner import drive
from mockgc.flows.transports import HttpTransport
from mockgc.worker.engine import Job, RepairWorker

log = logging.getLogger("mockgc.worker")


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
    """Webhook intake answers at once; jobs run one at a time on a background thread."""

    def __init__(
        self,
        worker: RepairWorker,
        transport: Any,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.worker = worker
        self.transport = transport
        self.clock = clock
        self.sleep = sleep
        self.queue: queue.Queue[Job | None] = queue.Queue()
        # Jobs accepted and not yet finished: idle means zero, with no window between queue and thread.
        self._outstanding = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="mockgc-worker", daemon=True)

    def submit(self, message: Any) -> Job | None:
        job = self.worker.accept(message, self.clock())
        if job is not None:
            with self._lock:
                self._outstanding += 1
            self.queue.put(job)
        return job

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
        return {"idle": self.idle(), "queued": self.queue.qsize(), **self.worker.snapshot()}
