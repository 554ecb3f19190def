"""The Store protocol every backend keeps, the one error a failing store raises, and the in-memory backend."""

from __future__ import annotations

from typing import Protocol


class StoreError(Exception):
    """The store failed (down, timeout): the driver turns it into an indeterminate reply, never a success."""


class Store(Protocol):
    def put(self, key: str, value: str) -> None: ...

    def get(self, key: str) -> str | None: ...

    def items(self, prefix: str = "") -> dict[str, str]:
        """Every key starting with `prefix` and its value (the async worker scans intents this way)."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with `prefix`; how many went (a run clears its namespace first)."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """A dict: for tests and the simulator's default."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def put(self, key: str, value: str) -> None:
        self.data[key] = value

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def items(self, prefix: str = "") -> dict[str, str]:
        return {k: v for k, v in sorted(self.data.items()) if k.startswith(prefix)}

    def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in self.data if k.startswith(prefix)]
        for key in doomed:
            del self.data[key]
        return len(doomed)

    def close(self) -> None:
        pass
