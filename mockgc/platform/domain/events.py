"""Platform events (notification topics), recorded in a bounded log and fanned out to listeners."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PlatformEvent:
    at: float
    topic: str
    body: dict[str, Any]


Listener = Callable[[PlatformEvent], None]


class EventBus:
    def __init__(self, capacity: int = 10_000) -> None:
        self.log: deque[PlatformEvent] = deque(maxlen=capacity)
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, at: float, topic: str, body: dict[str, Any]) -> None:
        event = PlatformEvent(at, topic, body)
        self.log.append(event)
        for listener in self._listeners:
            listener(event)
