"""Platform events (notification topics), recorded in a bounded log and fanned out to listeners."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

Body = dict[str, Any]


class PlatformEvent:
    """One event: when, on which topic, and its body. A body may be given as a function that builds it,
    called once when first read: most events in a simulation are never read, and building a call's
    bodies for every topic it is announced on would cost each session its share."""

    __slots__ = ("_body", "_make", "at", "topic")

    def __init__(self, at: float, topic: str, body: Body | Callable[[], Body]) -> None:
        self.at, self.topic = at, topic
        self._body: Body | None = None if callable(body) else body
        self._make: Callable[[], Body] | None = body if callable(body) else None

    @property
    def body(self) -> Body:
        if self._body is None:
            assert self._make is not None
            self._body, self._make = self._make(), None
        return self._body

    def __repr__(self) -> str:
        return f"PlatformEvent(at={self.at!r}, topic={self.topic!r})"


Listener = Callable[[PlatformEvent], None]


class EventBus:
    def __init__(self, capacity: int = 10_000) -> None:
        self.log: deque[PlatformEvent] = deque(maxlen=capacity)
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, at: float, topic: str, body: Body | Callable[[], Body]) -> None:
        event = PlatformEvent(at, topic, body)
        self.log.append(event)
        for listener in self._listeners:
            listener(event)
