"""The org's own record of every routing-status and presence change, with its time: what analytics answers from.

A user's current status (and since when) is on the user itself; this keeps the intervals that ended,
one per change. Recording is O(1) (amortized) per change and the record is bounded: past `capacity`
ended intervals the oldest go first, so a long soak keeps at most `capacity`, and a query over a
window older than the record sees it as unknown (no interval), never as a wrong status. A user who
never changed costs nothing here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

ROUTING = "routing"
PRESENCE = "presence"
DEFAULT_CAPACITY = 100_000  # ended intervals kept (about 10 MB at most)


@dataclass(frozen=True, slots=True)
class StatusInterval:
    """One status held over [start, end); end None while it still holds."""

    start: float
    end: float | None
    value: str


class _History:
    """One user's ended intervals of one kind, oldest first; the first `head` were dropped (compacted lazily)."""

    __slots__ = ("head", "items")

    def __init__(self) -> None:
        self.items: list[tuple[float, float, str]] = []
        self.head = 0

    def drop_oldest(self) -> None:
        self.head += 1
        if self.head * 2 >= len(self.items):  # amortized O(1): compact once half is dropped
            del self.items[: self.head]
            self.head = 0


class StatusLog:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._histories: dict[tuple[str, str], _History] = {}
        self._order: deque[_History] = deque()  # the history each kept interval is in, oldest first

    def ended(self, user_id: str, kind: str, start: float, end: float, value: str) -> None:
        """`user_id` held `value` (of `kind`: ROUTING or PRESENCE) over [start, end), and now no longer."""
        if end <= start:
            return  # changed again within the same instant: nothing was held
        key = (user_id, kind)
        history = self._histories.get(key)
        if history is None:
            history = self._histories[key] = _History()
        history.items.append((start, end, value))
        self._order.append(history)
        if len(self._order) > self.capacity:
            oldest = self._order.popleft()
            if len(oldest.items) > oldest.head:  # a forgotten user's history is already empty
                oldest.drop_oldest()

    def forget(self, user_id: str) -> None:
        """A deleted user's record goes (its places in the order are skipped as they come up)."""
        for kind in (ROUTING, PRESENCE):
            history = self._histories.pop((user_id, kind), None)
            if history is not None:
                history.items.clear()
                history.head = 0

    def intervals(self, user_id: str, kind: str, start: float, end: float) -> Iterator[StatusInterval]:
        """The ended intervals of `kind` that meet [start, end), oldest first, each with its real times."""
        history = self._histories.get((user_id, kind))
        if history is None:
            return
        for began, ended, value in history.items[history.head :]:
            if began < end and ended > start:
                yield StatusInterval(began, ended, value)

    def __len__(self) -> int:
        return sum(len(h.items) - h.head for h in self._histories.values())
