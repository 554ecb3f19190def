"""Paging as the platform pages its listings: a page size and number in, one page of the list out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

DEFAULT_PAGE_SIZE = 25  # the platform's default for users, queues, groups and presence definitions
MAX_PAGE_SIZE = 500

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int = DEFAULT_PAGE_SIZE
    number: int = 1


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page; past the last page the platform answers an empty page with the same totals."""

    entities: list[T]
    size: int
    number: int
    total: int

    @property
    def count(self) -> int:
        return math.ceil(self.total / self.size)


def paginate(items: Sequence[T], request: PageRequest) -> Page[T]:
    start = (request.number - 1) * request.size
    return Page(list(items[start : start + request.size]), request.size, request.number, len(items))
