"""A bounded request journal: a ring buffer, so memory stays flat over long runs."""

from __future__ import annotations

from collections import deque
from itertools import count
from typing import Any

# An entry is a plain tuple in this order: recording one is on every request's path.
FIELDS = ("seq", "at", "method", "path", "status", "client_id", "correlation_id")
MAX_FIELD_CHARS = 1024  # so the ring buffer is bounded in bytes, not only in entries
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
        client = None if client_id is None else _clip(client_id)
        entry = (next(self._seq), at, _clip(method), _clip(path), status, client, _clip(correlation_id))
        self._entries.append(entry)

    def since(self, seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return [dict(zip(FIELDS, e, strict=True)) for e in self._entries if e[0] > seq][:limit]

    def __len__(self) -> int:
        return len(self._entries)


def _clip(text: str) -> str:
    # A slice copies: an oversize request's string is not kept alive by its entry.
    return text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 1] + "…"
