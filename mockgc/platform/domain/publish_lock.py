"""The publish lock: the holds a WFM schedule publish puts on agents, and all it does to their script sessions.

A publish holds its business unit's agents in batches (`Locks.plan`); each hold is toxic or not
(the profile's toxicity, rolled per agent per publish), and a toxic hold acts by its kind:

- reject: a read, Set Data or evaluate of the agent's session is refused with a 400 while the
  hold lasts, and so is a re-attach (`guard`, `check_attach`): the field report's failure.
- clobber: writes are acknowledged during the hold; when it ends, every session of the agent
  is put back to what it held when the hold began (`_began`, `_ended`, `_remember`).
- invalidate: when the hold ends, every session of the agent is detached: reads see no
  variables and writes fail until the client re-attaches (`_ended`, then `guard`).
- serialize (v1): nothing fails; each answer waits until the hold ends (`guard` returns when,
  carried to the HTTP layer in a `Waited`).

Whatever its kind, the end of a hold flips the agent's scenario status to Reserved.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from mockgc.faults import PublishLock, plan_holds
from mockgc.platform.domain.context import OrgContext
from mockgc.platform.domain.errors import SessionInvalidated, SessionLocked
from mockgc.platform.domain.interactions import ScriptSession
from mockgc.platform.domain.store import InteractionStore
from mockgc.platform.domain.users import Users

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Waited(Generic[T]):
    """A result the caller may only deliver at `ready_at` (v1 serializes instead of failing)."""

    value: T
    ready_at: float | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """Agent `agent_id` is held by `operation_id` during [start, end).

    `toxic` says whether this hold faults at all, and `kind` how: reject, clobber, invalidate,
    or serialize (v1).
    """

    agent_id: str
    operation_id: str
    start: float
    end: float
    toxic: bool
    kind: str

    def covers(self, now: float) -> bool:
        return self.start <= now < self.end


class LockTable:
    """Which holds apply to which agent; ended holds are dropped when their end event runs."""

    def __init__(self) -> None:
        self._holds: dict[str, list[Hold]] = {}

    def add(self, hold: Hold) -> None:
        self._holds.setdefault(hold.agent_id, []).append(hold)

    def remove(self, hold: Hold) -> None:
        holds = self._holds.get(hold.agent_id)
        if holds and hold in holds:
            holds.remove(hold)
            if not holds:
                del self._holds[hold.agent_id]

    def active(self, agent_id: str, now: float) -> Hold | None:
        for hold in self._holds.get(agent_id, ()):
            if hold.covers(now):
                return hold
        return None

    def windows(self) -> list[Hold]:
        return [h for holds in self._holds.values() for h in holds]


Snapshot = dict[str, tuple[dict[str, str], int]]  # session id -> (variables, version)


class Locks:
    """Every hold planned and not yet ended, and the four behaviours. Hold planning is computed up
    front; the timeline runs each hold's begin and end when the clock gets there."""

    def __init__(self, ctx: OrgContext, store: InteractionStore, users: Users) -> None:
        self.ctx = ctx
        self.store = store
        self.users = users
        self.table = LockTable()
        self._snapshots: dict[Hold, Snapshot] = {}
        self._publishes = 0
        store.pinned = self.holding
        store.on_wake = self._remember

    def active(self, agent_id: str, now: float) -> Hold | None:
        return self.table.active(agent_id, now)

    def windows(self) -> list[Hold]:
        return self.table.windows()

    def holding(self) -> bool:
        """Does a publish hold, or will it hold, anyone?"""
        return bool(self.table.windows())

    # -- planning ------------------------------------------------------------------------

    def plan(
        self, operation_id: str, started: float, agent_ids: list[str], lock: PublishLock
    ) -> tuple[list[tuple[float, float]], list[tuple[str, float]]]:
        """Hold `agent_ids` from `started` as `plan_holds` says; returns each batch's [start, end) window and
        each agent's status flip (the end of its hold)."""
        index = self._publishes
        rng = random.Random(f"publish:{self.ctx.settings.seed}:{index}")
        self._publishes += 1
        kind = "serialize" if lock.platform_version == "v1" else lock.kind
        timeline = self.ctx.timeline
        windows: dict[int, tuple[float, float]] = {}
        flips: list[tuple[str, float]] = []
        for agent_id, planned in zip(
            agent_ids, plan_holds(lock, len(agent_ids), index, self.ctx.settings.seed), strict=True
        ):
            start = started + planned.offset_s
            end = start + planned.hold_s
            # The roll is drawn for every agent, replayed or not, so each agent keeps its stream position.
            toxic = rng.random() < lock.toxicity
            hold = Hold(agent_id, operation_id, start, end, toxic if planned.toxic is None else planned.toxic, kind)
            self.table.add(hold)
            timeline.schedule(start, partial(self._began, hold))
            timeline.schedule(end, partial(self._ended, hold))
            earliest, latest = windows.get(planned.batch, (start, end))
            windows[planned.batch] = (min(earliest, start), max(latest, end))
            flips.append((agent_id, end))
        return [windows[batch] for batch in sorted(windows)], flips

    # -- reject, serialize, and an invalidated session's writes ---------------------------

    def guard(self, session: ScriptSession, *, writing: bool) -> float | None:
        """Apply the lock to one session step; returns when a v1 caller may be answered."""
        hold = self.table.active(session.agent_id, self.ctx.clock.now())
        if hold is not None and hold.toxic:
            if hold.kind == "reject":
                raise SessionLocked(session.id, session.agent_id, hold.operation_id, hold.end)
            if hold.kind == "serialize":
                return hold.end
        if writing and not session.attached:
            raise SessionInvalidated(session.id)
        return None

    def check_attach(self, session: ScriptSession) -> None:
        hold = self.table.active(session.agent_id, self.ctx.clock.now())
        if hold is not None and hold.toxic and hold.kind == "reject":
            raise SessionLocked(session.id, session.agent_id, hold.operation_id, hold.end)

    # -- clobber and invalidate: what happens when a hold begins and ends ------------------

    def _began(self, hold: Hold, at: float) -> None:
        if hold.toxic and hold.kind == "clobber":
            self._snapshots[hold] = {
                s.id: (dict(s.variables), s.version) for s in self.store.sessions_of(hold.agent_id)
            }

    def _remember(self, session: ScriptSession) -> None:
        """A session woken from the archive during a clobber hold: it held then what it holds now."""
        for hold, snapshot in self._snapshots.items():
            if hold.agent_id == session.agent_id:
                snapshot.setdefault(session.id, (dict(session.variables), session.version))

    def _ended(self, hold: Hold, at: float) -> None:
        self.users.reserve(hold.agent_id, at)
        if hold.toxic and hold.kind == "clobber":
            snapshot = self._snapshots.pop(hold, {})
            for session in self.store.sessions_of(hold.agent_id):
                session.variables, session.version = snapshot.get(session.id, ({}, 0))
                session.variables = dict(session.variables)
        if hold.toxic and hold.kind == "invalidate":
            for session in self.store.sessions_of(hold.agent_id):
                session.attached = False
            self.store.detach_archived(hold.agent_id)
        self.table.remove(hold)
