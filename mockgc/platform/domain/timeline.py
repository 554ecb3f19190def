"""A lazily drained queue of timed callbacks, so state is evaluated against clock.now() without threads."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count


class Timeline:
    """Callbacks scheduled at instants; run_due() fires those whose instant has passed, in order."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Callable[[float], None]]] = []
        self._order = count()

    def schedule(self, at: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self._queue, (at, next(self._order), action))

    def run_due(self, now: float) -> None:
        queue = self._queue
        while queue and queue[0][0] <= now:
            at, _, action = heapq.heappop(queue)
            action(at)

    def next_due(self) -> float | None:
        return self._queue[0][0] if self._queue else None
