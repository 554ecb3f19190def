"""The async worker's logic, written once for both drivers: intents, job intake, and the chunked repair.

A repair job is a generator of the flows' effects (Call, Sleep, Now), so the live worker runs it
over HTTP in real time and the simulator runs it in virtual time. The store is read and written
directly: it is the worker's own database.

Store layout, under a namespace (default "mockgc:aw:"):
- intent:{sessionId}:{name} -> {"sessionId", "name", "value", "recordedAt", "userId"}, written by the
  `async-worker` mitigation before each Set Data;
- repair:{sessionId}:{name} -> {"value", "at", "operationId"}, the last value the worker re-applied;
- job:{operationId} -> {"state", ...}, so a duplicate delivery (even after a restart) does no work.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter, deque
from collections.abc import Generator
from dataclasses import asdict, dataclass
from typing import Any

from mockgc.flows.effects import Call, Effect, Now, Reply, Sleep
from mockgc.flows.store import Store, StoreError

NAMESPACE = "mockgc:aw:"
SCHEDULES_TOPIC_PREFIX = "v2.workforcemanagement.businessunits."
SCHEDULES_TOPIC_SUFFIX = ".schedules"


def intent_key(namespace: str, session_id: str, name: str) -> str:
    return f"{namespace}intent:{session_id}:{name}"


def repair_key(namespace: str, session_id: str, name: str) -> str:
    return f"{namespace}repair:{session_id}:{name}"


def job_key(namespace: str, operation_id: str) -> str:
    return f"{namespace}job:{operation_id}"


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


@dataclass(frozen=True, slots=True)
class Job:
    operation_id: str
    business_unit_id: str
    received_at: float


class _TooBig(Exception):
    """The platform refused a chunk for its size: split it."""


class RepairWorker:
    """Webhook intake (deduplicated), then repair jobs that re-apply intents after a publish settles.

    Thread-safe for one job runner plus any number of request threads calling `accept`.
    """

    def __init__(self, store: Store, config: WorkerConfig | None = None) -> None:
        self.store = store
        self.config = (config or WorkerConfig()).validate()
        self.chunk_size = self.config.chunk_size
        self.repairs: dict[str, float] = {}  # sessionId -> when its last repair landed (epoch s)
        self.stats: Counter[str] = Counter()
        self.jobs: dict[str, dict[str, Any]] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._last_request: float | None = None

    # -- intake --------------------------------------------------------------------------

    def accept(self, message: Any, now: float) -> Job | None:
        """A webhook body; a Job to run, or None for a duplicate or an event that asks for nothing."""
        topic = message.get("topicName") if isinstance(message, dict) else None
        body = message.get("eventBody") if isinstance(message, dict) else None
        if (
            not isinstance(topic, str)
            or not topic.startswith(SCHEDULES_TOPIC_PREFIX)
            or not topic.endswith(SCHEDULES_TOPIC_SUFFIX)
            or not isinstance(body, dict)
            or not isinstance(body.get("operationId"), str)
        ):
            self.count("ignored")
            return None
        if body.get("status") != "Complete":
            self.count("ignored")
            return None
        operation_id = body["operationId"]
        bu_id = topic[len(SCHEDULES_TOPIC_PREFIX) : -len(SCHEDULES_TOPIC_SUFFIX)]
        key = job_key(self.config.namespace, operation_id)
        with self._lock:
            if operation_id in self._seen:
                self.stats["duplicates"] += 1
                return None
            self._seen.add(operation_id)
        try:
            # A job an earlier life of this worker finished (same store) makes this a duplicate too;
            # one it acknowledged but never finished is taken up again by recover(), or here.
            earlier = self.store.get(key)
            if earlier is not None and json.loads(earlier).get("state") == "done":
                self.count("duplicates")
                return None
            self.store.put(key, json.dumps({"state": "queued", "receivedAt": now, "businessUnitId": bu_id}))
        except StoreError:
            self.count("store_errors")  # the job itself will retry the store
        self.count("accepted")
        job = Job(operation_id, bu_id, now)
        with self._lock:
            self.jobs[operation_id] = {"state": "queued", "businessUnitId": bu_id, "receivedAt": now}
        return job

    def recover(self) -> list[Job]:
        """Jobs an earlier life of this worker acknowledged (202) but never finished: run them now.

        A webhook answered at once must not be lost to a crash between the answer and the repair.
        """
        prefix = job_key(self.config.namespace, "")
        recovered = []
        for key, raw in self.store.items(prefix).items():
            record = json.loads(raw)
            bu_id = record.get("businessUnitId")
            if record.get("state") == "done" or not isinstance(bu_id, str):
                continue
            operation_id = key[len(prefix) :]
            with self._lock:
                if operation_id in self._seen:
                    continue
                self._seen.add(operation_id)
                self.jobs[operation_id] = {"state": "queued", "businessUnitId": bu_id, "recovered": True}
            recovered.append(Job(operation_id, bu_id, float(record.get("receivedAt", 0.0))))
        self.count("recovered", len(recovered))
        return recovered

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.stats[name] += n

    # -- the repair job ------------------------------------------------------------------------

    def run(self, job: Job) -> Generator[Effect, Any, dict[str, Any]]:
        """Wait until every publish of the business unit has settled, then re-apply the intents
        written during the publish window, in chunks, until each landed or ran out of attempts."""
        cfg = self.config
        self._set_job(job, state="waiting")
        low, high = yield from self._settled_window(job)
        intents = yield from self._select(job, low - cfg.margin_seconds, high)
        self._set_job(job, state="repairing", selected=len(intents))
        repaired, failed = yield from self._repair(job, intents)
        summary = {"state": "done", "selected": len(intents), "repaired": repaired, "failed": failed}
        self._set_job(job, **summary)
        try:
            self.store.put(job_key(cfg.namespace, job.operation_id), json.dumps(summary, sort_keys=True))
        except StoreError:
            self.count("store_errors")
        self.count("jobs_done")
        return summary

    def _set_job(self, job: Job, **fields: Any) -> None:
        with self._lock:
            self.jobs.setdefault(job.operation_id, {}).update(fields)

    def _settled_window(self, job: Job) -> Generator[Effect, Any, tuple[float, float]]:
        """[start of this publish, completion of the last publish that overlapped it], once settled."""
        cfg = self.config
        now = yield Now()
        deadline = now + cfg.max_wait_seconds
        low, high = -math.inf, -math.inf
        while True:
            reply = yield from self._call("list_operations", {"businessUnitId": job.business_unit_id})
            now = yield Now()
            busy_until = -math.inf
            busy = False
            if reply.ok and isinstance(reply.body, dict):
                for op in reply.body.get("entities") or []:
                    times = op.get("mockgc") or {}
                    start = times.get("startedEpochMs")
                    end = times.get("completesEpochMs")
                    if op.get("operationId") == job.operation_id and start is not None:
                        low = start / 1000 if low == -math.inf else min(low, start / 1000)
                    if op.get("status") == "Processing":
                        busy = True
                        if end is not None:
                            busy_until = max(busy_until, end / 1000)
                    if (op.get("operationId") == job.operation_id or op.get("status") == "Processing") and end:
                        high = max(high, end / 1000)
            else:
                self.count("list_operations_failed")
            settle_at = (high if high != -math.inf else job.received_at) + cfg.settle_seconds
            if now >= deadline:
                self.count("gave_up_waiting")
                break
            if busy:
                wait = max(cfg.settle_seconds, busy_until + cfg.settle_seconds - now)
            elif now < settle_at:
                wait = settle_at - now
            elif not reply.ok:
                wait = cfg.backoff(1)
                deadline = min(deadline, now + cfg.max_retry_seconds * cfg.request_attempts)
            else:
                break
            yield Sleep(max(0.001, min(wait, deadline - now)))
        if high == -math.inf:
            high = now  # no timing from the platform: everything written until now may need it
        return low, high

    def _select(self, job: Job, low: float, high: float) -> Generator[Effect, Any, list[Intent]]:
        """Intents whose last write (the flow's, or an earlier repair of the same value) fell in the window."""
        cfg = self.config
        for attempt in range(1, cfg.request_attempts + 1):
            try:
                raw_intents = self.store.items(f"{cfg.namespace}intent:")
                raw_repairs = self.store.items(f"{cfg.namespace}repair:")
                break
            except StoreError:
                self.count("store_errors")
                if attempt == cfg.request_attempts:
                    self._set_job(job, error="store unavailable")
                    return []
                yield Sleep(cfg.backoff(attempt))
        chosen: list[Intent] = []
        for key in sorted(raw_intents):
            intent = Intent.decode(raw_intents[key])
            if intent is None:
                self.count("bad_intents")
                continue
            last_write = intent.recorded_at
            done = raw_repairs.get(repair_key(cfg.namespace, intent.session_id, intent.name))
            if done is not None:
                try:
                    record = json.loads(done)
                    if record.get("value") == intent.value:
                        last_write = max(last_write, float(record["at"]))
                except (ValueError, KeyError, TypeError):
                    pass
            if low <= last_write <= high:
                chosen.append(intent)
        return chosen

    def _repair(self, job: Job, intents: list[Intent]) -> Generator[Effect, Any, tuple[int, int]]:
        cfg = self.config
        repaired = failed = 0
        pending = list(intents)
        for round_number in range(1, cfg.item_attempts + 1):
            retry: list[Intent] = []
            queue = deque(pending)
            while queue:
                chunk = [queue.popleft() for _ in range(min(self.chunk_size, len(queue)))]
                try:
                    results = yield from self._put_chunk(chunk)
                except _TooBig:
                    self.chunk_size = max(1, len(chunk) // 2)
                    self.count("chunk_shrunk")
                    queue.extendleft(reversed(chunk))
                    continue
                if results is None:
                    retry.extend(chunk)
                    continue
                at = yield Now()
                attach: list[Intent] = []
                for intent, item in zip(chunk, results, strict=True):
                    status = item.get("status") if isinstance(item, dict) else None
                    if status == 200:
                        self._record_repair(job, intent, at)
                        repaired += 1
                    elif status == 404:
                        failed += 1
                        self.count("items_not_found")
                    else:
                        retry.append(intent)
                        self.count("items_refused")
                        if "attach" in str(item.get("message", "")):
                            attach.append(intent)
                for intent in attach:
                    # A status change invalidated the session: re-attach so the retry can write.
                    yield from self._call("attach", {"sessionId": intent.session_id})
            if not retry:
                return repaired, failed
            if round_number < cfg.item_attempts:
                self.count("items_retried", len(retry))
                yield Sleep(cfg.backoff(round_number))
            pending = retry
        self.count("items_failed", len(pending))
        return repaired, failed + len(pending)

    def _put_chunk(self, chunk: list[Intent]) -> Generator[Effect, Any, list[dict[str, Any]] | None]:
        """Per-item results of one chunk, or None when the request never got a usable answer."""
        updates = [{"sessionId": i.session_id, "variables": {i.name: i.value}} for i in chunk]
        self.count("chunks")
        reply = yield from self._call("script_data", {"updates": updates})
        if reply.ok and isinstance(reply.body, dict) and isinstance(reply.body.get("results"), list):
            results: list[dict[str, Any]] = reply.body["results"]
            if len(results) == len(chunk):
                return results
            self.count("malformed_results")
            return None
        if reply.status == 400 and _too_many_updates(reply) and len(chunk) > 1:
            raise _TooBig()
        return None

    def _call(self, op: str, params: dict[str, Any]) -> Generator[Effect, Any, Reply]:
        """One platform call, paced under the rate limit; 429s wait Retry-After, no answer or a 5xx back off."""
        cfg = self.config
        failures = 0
        while True:
            if cfg.rate_limit_per_minute:
                now = yield Now()
                gap = 60.0 / cfg.rate_limit_per_minute
                if self._last_request is not None and now < self._last_request + gap:
                    yield Sleep(self._last_request + gap - now)
                    now = yield Now()
                self._last_request = now
            reply: Reply = yield Call(op, params)
            self.count("requests")
            self.count(f"http_{reply.status}")
            if reply.status == 429:
                # Not counted against request_attempts: the platform told us exactly when to come back.
                yield Sleep(reply.retry_after if reply.retry_after is not None else cfg.backoff(1))
                continue
            if reply.status == 0 or reply.status >= 500:
                failures += 1
                if failures >= cfg.request_attempts:
                    return reply
                yield Sleep(cfg.backoff(failures))
                continue
            return reply

    def _record_repair(self, job: Job, intent: Intent, at: float) -> None:
        record = json.dumps({"value": intent.value, "at": at, "operationId": job.operation_id}, sort_keys=True)
        try:
            self.store.put(repair_key(self.config.namespace, intent.session_id, intent.name), record)
        except StoreError:
            self.count("store_errors")
        with self._lock:
            self.repairs[intent.session_id] = at
            self.stats["items_repaired"] += 1

    # -- reporting -------------------------------------------------------------------------------

    def repaired(self) -> dict[str, float]:
        with self._lock:
            return dict(sorted(self.repairs.items()))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "config": asdict(self.config),
                "chunkSize": self.chunk_size,
                "stats": dict(sorted(self.stats.items())),
                "jobs": {k: dict(v) for k, v in sorted(self.jobs.items())},
                "repaired": len(self.repairs),
            }


def _too_many_updates(reply: Reply) -> bool:
    body = reply.body if isinstance(reply.body, dict) else {}
    fields = [d.get("fieldName") for d in body.get("details") or [] if isinstance(d, dict)]
    return "updates" in fields and "at most" in str(body.get("message", ""))
