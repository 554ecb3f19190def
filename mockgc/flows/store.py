"""The external-store interface the `external-store` mitigation writes through (backends live in mockgc.stores)."""

from __future__ import annotations

from typing import Protocol


class StoreError(Exception):
    """The store failed (down, timeout): the driver turns it into an indeterminate reply, never a success."""


class Store(Protocol):
    def put(self, key: str, value: str) -> None: ...

    def get(self, key: str) -> str | None: ...

    def close(self) -> None: ...


class MemoryStore:
    """A dict: for tests and the simulator's default."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def put(self, key: str, value: str) -> None:
        self.data[key] = value

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def close(self) -> None:
        pass
