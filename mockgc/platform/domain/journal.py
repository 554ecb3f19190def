"""A bounded request journal: a ring buffer, so memory stays flat over long runs."""

from __future__ import annotations

from collections import deque
from itertools import count
from typing import Any

# An entry is a plain tuple in this order: recording one is on every request's path.
FIELDS = ("seq", "at", "method", "path", "status", "client_id", "correlation_id")
Entry = tuple[int, float, str, str, int, str | None, str]


class Journal:
    """Keeps the newest `capacity` entries; `seq` keeps rising so readers can page with `since`."""

    def __init__(self, capacity: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=max(1, capacity))
        self._seq = count(1)
        self.dropped = 0

    def record(
        self, at: float, method: str, path: str, status: int, client_id: str | None, correlation_id: str
    ) -> None:
        if len(self._entries) == self._entries.maxlen:
            self.dropped += 1
        self._entries.append((next(self._seq), at, method, path, status, client_id, correlation_id))

    def since(self, seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return [dict(zip(FIELDS, e, strict=True)) for e in self._entries if e[0] > seq][:limit]

    def __len__(self) -> int:
        return len(self._entries)
