"""Per-agent hold intervals that a WFM publish computes up front."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hold:
    """Agent `agent_id` is held by `operation_id` during [start, end).

    `toxic` says whether this hold faults at all (the profile's toxicity, rolled per
    agent per publish), and `kind` how: reject, clobber, invalidate, or serialize (v1).
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
