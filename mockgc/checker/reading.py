"""The history read once: each interaction's facts and each call's figures, which every sub-checker then judges."""

from __future__ import annotations

import gc
import math
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mockgc.checker.result import PERSONALIZED
from mockgc.flows.history import FLOW, OP_TYPES

# Operations that write the preference; an ok completion of one is an acknowledgement. action_set and
# action_get are calls to the user's own service (a Data Action): they count as store calls.
WRITE_OPS = frozenset({"set_data", "store_put", "action_set"})
READ_OPS = frozenset({"store_get", "action_get"})
OUTSIDE_PREFIXES = ("store_", "action_")


class HistoryError(ValueError):
    """The history cannot be judged (an entry the drivers never write): a harness error, exit 2."""


@dataclass(slots=True)
class Interaction:
    """What the history says about one session key."""

    key: str
    flow: dict[str, Any] | None = None
    flow_time: float | None = None
    start: float = math.inf
    end: float = -math.inf
    latency_ms: float = 0.0
    first_set_data: float | None = None
    created_id: str | None = None  # the latest create_session's, for sessions that never finished
    written_value: str | None = None  # the first Set Data's value, same reason
    # (variable, value) of the writes that got a 2xx; None where the history does not record it.
    acked: list[tuple[Any, Any]] = field(default_factory=list)
    # The driver-recorded evidence of a branch: (sessionId, variable, value) of every ok evaluate
    # that answered personalized, and (key, value) of every ok store read.
    evaluations: list[tuple[Any, Any, Any]] = field(default_factory=list)
    store_reads: list[tuple[Any, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Reading:
    """The history's facts: interactions by key, and the platform calls' figures in history order.

    `invoked` is each platform call's invoke time; `calls` each completed platform call's
    (invoke time, latency ms, completion time, status). Store and Data Action calls are counted
    apart (`store_calls`, `store_failures`); `origin` is the history's first time.
    """

    interactions: dict[str, Interaction] = field(default_factory=dict)
    invoked: list[float] = field(default_factory=list)
    calls: list[tuple[float, float, float, int]] = field(default_factory=list)
    store_calls: int = 0
    store_failures: int = 0
    origin: float = math.inf
    pending: dict[tuple[Any, Any, Any], deque[dict[str, Any]]] = field(default_factory=lambda: defaultdict(deque))

    def read(self, entry: dict[str, Any]) -> None:
        """One entry; raises HistoryError (or a LookupError, TypeError... for a malformed one)."""
        kind = entry["type"]
        key = entry.get("key")
        t = float(entry["time"])
        if t < self.origin:
            self.origin = t
        s: Interaction | None = None
        if key is not None:
            s = self.interactions.get(key)
            if s is None:
                s = self.interactions[key] = Interaction(key)
            if t < s.start:
                s.start = t
            if t > s.end:
                s.end = t
        if kind == FLOW:
            flow = entry.get("value")
            if s is None or not isinstance(flow, dict) or not isinstance(flow.get("expected"), str):
                raise HistoryError("a flow entry needs a key, and a value with the expected code")
            if s.flow_time is None or t >= s.flow_time:
                s.flow, s.flow_time = flow, t
            return
        if kind not in OP_TYPES:
            raise HistoryError(f"unknown entry type {kind!r}")
        f = entry["f"]
        slot = (entry.get("process"), key, f)
        if kind == "invoke":
            self._invoke(s, entry, f, slot, t)
        else:
            self._complete(s, entry, kind, f, slot, t)

    def _invoke(self, s: Interaction | None, entry: dict[str, Any], f: str, slot: Any, t: float) -> None:
        self.pending[slot].append(entry)
        if f.startswith(OUTSIDE_PREFIXES):
            self.store_calls += 1
        else:
            self.invoked.append(t)
        if s is not None and f == "set_data" and s.first_set_data is None:
            s.first_set_data, s.written_value = t, entry["params"]["value"]

    def _complete(self, s: Interaction | None, entry: dict[str, Any], kind: str, f: str, slot: Any, t: float) -> None:
        queue = self.pending.get(slot)
        if not queue:
            raise HistoryError(f"a completion ({kind}) of {f} with no invoke before it")
        invoke = queue.popleft()
        began = invoke["time"]
        latency = max(0.0, (t - began) * 1000.0)
        status = int(entry["status"])
        if f.startswith(OUTSIDE_PREFIXES):
            if kind != "ok":
                self.store_failures += 1  # a store that fails or never answers is never a silent success
        else:
            self.calls.append((began, latency, t, status))
        if s is None:
            return
        s.latency_ms += latency
        if kind == "ok":
            _evidence(s, f, invoke, entry)


def _evidence(s: Interaction, f: str, invoke: dict[str, Any], entry: dict[str, Any]) -> None:
    """What an ok completion shows about its interaction: an answer, a read, an acknowledged write, a session."""
    reply = entry.get("value")
    if f == "evaluate":
        if isinstance(reply, dict) and reply.get("branch") == PERSONALIZED:
            evaluated = (echoed(invoke, entry, "sessionId"), echoed(invoke, entry, "variable"))
            s.evaluations.append((*evaluated, reply.get("value")))
    elif f in READ_OPS:
        s.store_reads.append((echoed(invoke, entry, "key"), echoed(invoke, entry, "value")))
    elif f in WRITE_OPS:
        # Compared with the expected value later: the flow entry comes after the writes.
        s.acked.append((echoed(invoke, entry, "name"), echoed(invoke, entry, "value")))
    elif f == "create_session":
        s.created_id = reply["id"]


def echoed(invoke: dict[str, Any], completion: dict[str, Any], name: str) -> Any:
    """A field of what the reply says happened (its echo), else of what was sent; None if neither has it."""
    reply = completion.get("value")
    if isinstance(reply, dict) and name in reply:
        return reply[name]
    return invoke["params"].get(name)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic GC while judging a history: the checker keeps small objects alive for
    every entry and makes no reference cycles, so each collection would only rescan the whole
    history (measured: a third of the checker's time on 100,000 entries)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def read_history(history: list[dict[str, Any]]) -> Reading:
    """Every entry, in order: its interaction's facts and its call's figures.

    Invokes pair with completions per (process, key, f) in order. Raises HistoryError for a history
    no driver writes (an unknown entry type, a flow entry without a key or a value, a completion
    without its invoke, a malformed field), naming the entry.
    """
    reading = Reading()
    for entry in history:
        try:
            reading.read(entry)
        except HistoryError as error:
            raise HistoryError(f"history entry {_position(history, entry)}: {error}") from None
        except (LookupError, AttributeError, TypeError, ValueError) as error:
            where = _position(history, entry)
            raise HistoryError(f"history entry {where} is malformed: {type(error).__name__}: {error}") from None
    return reading


def _position(history: list[dict[str, Any]], entry: Any) -> int:
    """Where `entry` (the one being read when the history turned out bad) is in the history."""
    return next(i for i, e in enumerate(history) if e is entry)
