"""Delta debugging (Zeller and Hildebrandt's ddmin): the smallest subset of a failing list that still fails."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def _chunks(items: Sequence[T], n: int) -> list[list[T]]:
    size, extra = divmod(len(items), n)
    chunks, first = [], 0
    for i in range(n):
        last = first + size + (1 if i < extra else 0)
        chunks.append(list(items[first:last]))
        first = last
    return [c for c in chunks if c]


def ddmin(items: Sequence[T], fails: Callable[[list[T]], bool]) -> list[T]:
    """A 1-minimal failing subset of `items` (which must fail): removing any one item makes it pass.

    Tries each of n chunks alone, then each complement, doubling n when neither fails; order is
    kept, so the same input and the same `fails` give the same answer.
    """
    current, n = list(items), 2
    while len(current) >= 2:
        chunks = _chunks(current, n)
        for chunk in chunks:
            if fails(chunk):
                current, n = chunk, 2
                break
        else:
            for i in range(len(chunks)):
                complement = [x for j, chunk in enumerate(chunks) if j != i for x in chunk]
                if len(chunks) > 2 and fails(complement):
                    current, n = complement, max(n - 1, 2)
                    break
            else:
                if n >= len(current):
                    break
                n = min(len(current), 2 * n)
    return current
