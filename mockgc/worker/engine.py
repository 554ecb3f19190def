"""The async worker's logic, written once for both drivers: intents, verified intake, and the chunked repair.

A repair job is a generator of the flows' effects (Call, Sleep, Now), so the live worker runs it
over HTTP in real time and the simulator runs it in virtual time. The store is read and written
directly: it is the worker's own database.

Store layout, under a namespace (default "mockgc:aw:"):
- intent:{sessionId}:{name} -> {"sessionId", "name", "value", "recordedAt", "userId"}, written by the
  `async-worker` mitigation before each Set Data;
- repair:{sessionId}:{name} -> {"value", "at", "operationId"}, the last value the worker re-applied;
- job:{operationId} -> {"state", ...}, so a duplicate delivery (even after a restart) does no work.

Intake trusts nothing it has not checked: a delivery must carry a valid Standard Webhooks signature
(mockgc/platform/domain/standard_webhooks.py), and the operation it announces must be a completed publish of that
business unit on the platform, before it is deduplicated, persisted or queued.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter, deque
from collections.abc import Generator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mockgc.flows.effects import Call, Effect, Now, Reply, Sleep
from mockgc.flows.mitigations.async_worker import Intent, WorkerConfig
from mockgc.platform.domain.errors import (
    AuthenticationRequired,
    BadCredentials,
    BadRequest,
    Conflict,
    InvalidValue,
    ServiceUnavailable,
)
from mockgc.platform.domain.standard_webhooks import SignatureInvalid, SignatureMissing, Verifier
from mockgc.stores import Store, StoreError

SCHEDULES_TOPIC_PREFIX = "v2.workforcemanagement.businessunits."
SCHEDULES_TOPIC_SUFFIX = ".schedules"
MAX_ID_LENGTH = 128  # ids become store keys and URL path segments
PLATFORM_RETRY_AFTER = 5  # seconds a sender is asked to wait when the platform cannot confirm an operation


def repair_key(namespace: str, session_id: str, name: str) -> str:
    return f"{namespace}repair:{session_id}:{name}"


def job_key(namespace: str, operation_id: str) -> str:
    return f"{namespace}job:{operation_id}"


@dataclass(frozen=True, slots=True)
class PublishEvent:
    """What a delivery announces: a publish operation of a business unit has completed."""

    operation_id: str
    business_unit_id: str


@dataclass(frozen=True, slots=True)
class Job:
    operation_id: str
    business_unit_id: str
    received_at: float


class PlatformUnavailable(ServiceUnavailable):
    """The platform could not confirm the operation now: the sender should try again later."""

    retry_after = PLATFORM_RETRY_AFTER


def parse_delivery(body: bytes) -> Any:
    """JSON, or a 400 (never a RecursionError's 500 for deep nesting)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest("The request body is not valid JSON.") from None


def read_event(message: Any) -> PublishEvent | None:
    """The publish completion a message announces; None for an event that asks for nothing (another
    topic, a status other than Complete); InvalidValue for a message of the wrong shape."""
    topic = message.get("topicName") if isinstance(message, dict) else None
    if not isinstance(topic, str):
        raise InvalidValue(
            'a delivery is a JSON object {"topicName", "eventBody", ...}', details=[{"fieldName": "topicName"}]
        )
    if not (topic.startswith(SCHEDULES_TOPIC_PREFIX) and topic.endswith(SCHEDULES_TOPIC_SUFFIX)):
        return None
    bu_id = topic[len(SCHEDULES_TOPIC_PREFIX) : -len(SCHEDULES_TOPIC_SUFFIX)]
    body = message.get("eventBody")
    operation_id = body.get("operationId") if isinstance(body, dict) else None
    if not isinstance(operation_id, str) or not 0 < len(operation_id) <= MAX_ID_LENGTH:
        raise InvalidValue(
            f"eventBody.operationId must be a string of 1 to {MAX_ID_LENGTH} characters",
            details=[{"fieldName": "eventBody.operationId"}],
        )
    if not 0 < len(bu_id) <= MAX_ID_LENGTH:
        raise InvalidValue("topicName names no business unit", details=[{"fieldName": "topicName"}])
    if body.get("status") != "Complete":
        return None
    return PublishEvent(operation_id, bu_id)


class _TooBig(Exception):
    """The platform refused a chunk for its size: split it."""


class RepairWorker:
    """Webhook intake (deduplicated), then repair jobs that re-apply intents after a publish settles.

    Thread-safe for one job runner plus any number of request threads calling `open_delivery` and `admit`.
    """

    def __init__(self, store: Store, config: WorkerConfig | None = None, *, verifier: Verifier | None = None) -> None:
        self.store = store
        self.config = (config or WorkerConfig()).validate()
        # Without a verifier (no secret configured) every delivery is refused: there is no unsigned mode.
        self.verifier = verifier
        self.chunk_size = self.config.chunk_size
        self.repairs: dict[str, float] = {}  # sessionId -> when its last repair landed (epoch s), this life
        self.stats: Counter[str] = Counter()
        self.jobs: dict[str, dict[str, Any]] = {}
        # operationId -> how long its job waited for the publishes to settle, against the bound, and why it stopped.
        self.waits: dict[str, dict[str, Any]] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._last_request: float | None = None

    # -- intake --------------------------------------------------------------------------

    def open_delivery(self, body: bytes, headers: Mapping[str, str]) -> PublishEvent | None:
        """Verify a delivery's signature over its raw bytes (401 otherwise), then read it (400 when it is
        not JSON or not a publish event's shape); None when it asks for nothing."""
        if self.verifier is None:
            self.count("unsigned")
            raise AuthenticationRequired("this worker has no webhook secret, so it accepts no delivery")
        try:
            self.verifier.verify(body, headers)
        except SignatureMissing as missing:
            self.count("unsigned")
            raise AuthenticationRequired(str(missing)) from None
        except SignatureInvalid as invalid:
            self.count("bad_signatures")
            raise BadCredentials(str(invalid)) from None
        event = read_event(parse_delivery(body))
        if event is None:
            self.count("ignored")
        return event

    def admit(self, event: PublishEvent, now: float) -> Generator[Effect, Any, Job | None]:
        """A verified event becomes a Job only if the platform lists its operation, Complete, under its
        business unit; None for a duplicate. An unknown business unit or operation is refused at once
        (400), never waited on, and nothing about it is remembered."""
        if self._known(event.operation_id):
            self.count("duplicates")
            return None
        reply: Reply = yield Call("list_operations", {"businessUnitId": event.business_unit_id})
        self._confirm(event, reply)
        return self.enqueue(event, now)

    def _confirm(self, event: PublishEvent, reply: Reply) -> None:
        if reply.status == 404:
            self.count("refused_unknown_business_unit")
            raise InvalidValue(
                f"business unit {event.business_unit_id} is unknown to the platform",
                details=[{"fieldName": "topicName"}],
            )
        if not reply.ok or not isinstance(reply.body, dict):
            self.count("refused_platform_unavailable")
            raise PlatformUnavailable(
                f"the platform could not confirm operation {event.operation_id} (status {reply.status}); retry later"
            )
        listed = {op.get("operationId"): op for op in reply.body.get("entities") or [] if isinstance(op, dict)}
        operation = listed.get(event.operation_id)
        if operation is None:
            self.count("refused_unknown_operation")
            raise InvalidValue(
                f"operation {event.operation_id} is not a publish of business unit {event.business_unit_id}",
                details=[{"fieldName": "eventBody.operationId"}],
            )
        if operation.get("status") != "Complete":
            self.count("refused_incomplete_operation")
            raise Conflict(f"operation {event.operation_id} is {operation.get('status')}, not Complete")

    def accept(self, message: Any, now: float) -> Job | None:
        """A message already verified and confirmed (tests, tools): enqueue it without the platform check."""
        event = read_event(message)
        if event is None:
            self.count("ignored")
            return None
        return self.enqueue(event, now)

    def enqueue(self, event: PublishEvent, now: float) -> Job | None:
        """Dedupe on the (verified) operation, persist the job so a crash cannot lose it, and hand it out."""
        operation_id, bu_id = event.operation_id, event.business_unit_id
        key = job_key(self.config.namespace, operation_id)
        with self._lock:
            if operation_id in self._seen:
                self.stats["duplicates"] += 1
                return None
            self._seen.add(operation_id)
        if self._finished_earlier(operation_id):
            self.count("duplicates")
            return None
        try:
            # One an earlier life acknowledged but never finished is taken up again by recover(), or here.
            self.store.put(key, json.dumps({"state": "queued", "receivedAt": now, "businessUnitId": bu_id}))
        except StoreError:
            self.count("store_errors")  # the job itself will retry the store
        self.count("accepted")
        job = Job(operation_id, bu_id, now)
        with self._lock:
            self.jobs[operation_id] = {"state": "queued", "businessUnitId": bu_id, "receivedAt": now}
        return job

    def _known(self, operation_id: str) -> bool:
        with self._lock:
            if operation_id in self._seen:
                return True
        return self._finished_earlier(operation_id)

    def _finished_earlier(self, operation_id: str) -> bool:
        """A job an earlier life of this worker finished (same store) makes a delivery a duplicate too."""
        try:
            earlier = self.store.get(job_key(self.config.namespace, operation_id))
        except StoreError:
            self.count("store_errors")
            return False
        return earlier is not None and json.loads(earlier).get("state") == "done"

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
        window = yield from self._settled_window(job)
        # No window (the platform does not know the operation, or never answered): repair nothing. Guessing
        # "everything until now" would write stale intents over values set since.
        intents = [] if window is None else (yield from self._select(job, window[0] - cfg.margin_seconds, window[1]))
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

    def _settled_window(self, job: Job) -> Generator[Effect, Any, tuple[float, float] | None]:
        """[start of this publish, completion of the last publish that overlapped it], once settled; None
        when the platform does not list the operation. The wait is bounded by max_wait_seconds (and by
        request_attempts backoffs while the platform does not answer) and reported in `waits`."""
        cfg = self.config
        now = started = yield Now()
        deadline = now + cfg.max_wait_seconds
        low, high = -math.inf, -math.inf
        outcome = "settled"
        while True:
            reply = yield from self._call("list_operations", {"businessUnitId": job.business_unit_id})
            now = yield Now()
            busy_until = -math.inf
            busy = False
            if reply.status == 404:
                outcome = "unknown_business_unit"
                break
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
                if low == -math.inf:
                    outcome = "unknown_operation"
                    break
            else:
                self.count("list_operations_failed")
            settle_at = (high if high != -math.inf else job.received_at) + cfg.settle_seconds
            if now >= deadline:
                self.count("gave_up_waiting")
                outcome = "gave_up_waiting"
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
        with self._lock:
            self.waits[job.operation_id] = {
                "waitedSeconds": round(now - started, 3),
                "maxWaitSeconds": cfg.max_wait_seconds,
                "outcome": outcome,
            }
        if low == -math.inf:
            if outcome != "gave_up_waiting":
                self.count(f"jobs_{outcome}")
            self._set_job(job, error=outcome.replace("_", " "))
            return None
        if high == -math.inf:
            high = now  # listed without an end time: everything written until now may need it
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
        """Every repair recorded in the store, by any life of the worker (a restarted one too), with this
        life's own (one whose record could not be written still landed): sessionId -> when the last landed.
        A StoreError propagates: a partial answer would undercount the repairs."""
        prefix = f"{self.config.namespace}repair:"
        found: dict[str, float] = {}
        for key, raw in self.store.items(prefix).items():
            session_id = key[len(prefix) :].partition(":")[0]
            try:
                at = float(json.loads(raw)["at"])
            except (ValueError, KeyError, TypeError):
                self.count("bad_repair_records")
                continue
            found[session_id] = max(at, found.get(session_id, at))
        with self._lock:
            for session_id, at in self.repairs.items():
                found[session_id] = max(at, found.get(session_id, at))
        return dict(sorted(found.items()))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "config": asdict(self.config),
                "chunkSize": self.chunk_size,
                "stats": dict(sorted(self.stats.items())),
                "jobs": {k: dict(v) for k, v in sorted(self.jobs.items())},
                "waits": {k: dict(v) for k, v in sorted(self.waits.items())},
                "repaired": len(self.repairs),
            }


def _too_many_updates(reply: Reply) -> bool:
    body = reply.body if isinstance(reply.body, dict) else {}
    fields = [d.get("fieldName") for d in body.get("details") or [] if isinstance(d, dict)]
    return "updates" in fields and "at most" in str(body.get("message", ""))
